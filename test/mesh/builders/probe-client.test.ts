import test from "ava";
import { buildPlaintextProbeNamespace, buildProbeClient } from "../../../mesh/builders";
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_CONTAINER, PROBE_CLIENT_IMAGE, PROBE_CLIENT_LABELS, PROBE_CLIENT_NAME, probeClientName } from "../../../mesh/probe-clients";

test("probe client: exact ServiceAccount and Deployment, restricted, read-only root, no volume, no Service", (t) => {
  const o = buildProbeClient("shop");
  t.deepEqual(o.serviceAccount, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "istio-mtls-probe", namespace: "shop" } });
  t.deepEqual(o.deployment, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "istio-mtls-probe", namespace: "shop", labels: { app: "istio-mtls-probe" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "istio-mtls-probe" } },
      template: {
        metadata: { labels: { app: "istio-mtls-probe" } },
        spec: {
          serviceAccountName: "istio-mtls-probe",
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: "probe",
              image: "docker.io/curlimages/curl:8.16.0",
              command: ["/bin/sleep", "infinity"],
              resources: { limits: { cpu: "100m", memory: "32Mi" }, requests: { cpu: "5m", memory: "8Mi" } },
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                readOnlyRootFilesystem: true,
                runAsGroup: 65532,
                runAsNonRoot: true,
                runAsUser: 65532,
                seccompProfile: { type: "RuntimeDefault" },
              },
            },
          ],
        },
      },
    },
  });
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
