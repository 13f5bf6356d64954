import test from "ava";
import { buildPlaintextProbeNamespace, buildProbeClient } from "../../../mesh/builders";
import { buildCurlClient } from "../../../mesh/builders/sleep";
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_CONTAINER, PROBE_CLIENT_IMAGE, PROBE_CLIENT_LABELS, PROBE_CLIENT_NAME, probeClientName } from "../../../mesh/probe-clients";

test("probe client: the demo's curl client (tested exactly as sleep) under its own name, account and container", (t) => {
  const o = buildProbeClient("shop");
  t.deepEqual(o, buildCurlClient("shop", "istio-mtls-probe", "probe"));
  t.deepEqual(o.serviceAccount, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "istio-mtls-probe", namespace: "shop" } });
  t.is(o.deployment.spec.template.spec.serviceAccountName, "istio-mtls-probe");
  t.deepEqual(o.deployment.spec.template.metadata.labels, { app: "istio-mtls-probe" });
  t.is(o.deployment.spec.template.spec.volumes, undefined);
});

test("probe client: built from the shared names, so the stack and the probe agree", (t) => {
  const { deployment } = buildProbeClient("foo");
  t.is(deployment.metadata.name, PROBE_CLIENT_NAME);
  t.deepEqual(deployment.spec.template.metadata.labels, PROBE_CLIENT_LABELS);
  const [container] = deployment.spec.template.spec.containers as { name: string; image: string }[];
  t.is(container!.name, PROBE_CLIENT_CONTAINER);
  t.is(container!.image, PROBE_CLIENT_IMAGE);
  t.is(probeClientName("foo"), "istio-mtls-probe.foo");
});

test("the plaintext client's namespace: istio-injection disabled", (t) => {
  t.deepEqual(buildPlaintextProbeNamespace(), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: PLAINTEXT_PROBE_NAMESPACE, labels: { "istio-injection": "disabled" } },
  });
});

test("probe client: an invalid namespace is refused with the value", (t) => {
  t.throws(() => buildProbeClient("Shop_1"), { message: /namespace name: "Shop_1" is not a valid name/ });
});
