import test from "ava";
import { runStackProgram, type StackRun } from "../helpers/program";

let run: StackRun;
test.before(async () => {
  run = await runStackProgram("prod");
});

test("prod: a mesh-wide STRICT PeerAuthentication in the Istio root namespace, after istiod", (t) => {
  const pas = run.recorder.ofType("kubernetes:security.istio.io/v1:PeerAuthentication");
  t.deepEqual(
    pas.map((p) => ({ name: p.name, metadata: p.inputs.metadata, spec: p.inputs.spec })),
    [{ name: "istio-system/default", metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "STRICT" } } }],
  );
  const istiod = run.recorder.get("kubernetes:helm.sh/v3:Release", "istiod");
  const ns = run.recorder.get("kubernetes:core/v1:Namespace", "istio-system");
  t.true(pas[0].dependencies.includes(istiod.urn));
  t.true(pas[0].dependencies.includes(ns.urn));
});

test("prod: no demo workloads, only the probe clients; the shop namespace with injection; an ECDSA 384 intermediate CA", (t) => {
  t.deepEqual(run.recorder.ofType("kubernetes:apps/v1:Deployment").map((d) => d.name).sort(), ["istio-mtls-probe/istio-mtls-probe", "shop/istio-mtls-probe"]);
  t.deepEqual(run.recorder.get("kubernetes:core/v1:Namespace", "istio-mtls-probe").inputs.metadata.labels, { "istio-injection": "disabled" });
  t.deepEqual(run.recorder.get("kubernetes:core/v1:Namespace", "shop").inputs.metadata.labels, { "istio-injection": "enabled" });
  const cacerts = run.recorder.get("kubernetes:cert-manager.io/v1:Certificate", "istio-system/cacerts");
  t.deepEqual(cacerts.inputs.spec.privateKey, { algorithm: "ECDSA", rotationPolicy: "Always", size: 384 });
  t.is(cacerts.inputs.spec.duration, "2160h");
  t.is(cacerts.inputs.spec.renewBefore, "360h");
});

test("prod: no Service of its own, so an empty predicted matrix; the probe predicts live in shop and runs after the probe clients", (t) => {
  t.deepEqual(run.outputs.predictedMatrix, []);
  t.deepEqual(run.outputs.namespaces, ["shop"]);
  const [probe] = run.recorder.ofType("pulumi-nodejs:dynamic/probe:ConnectivityProbe");
  t.truthy(probe, "probe.enabled registers the probe without the demo");
  t.deepEqual(probe!.inputs.predicted, []);
  t.deepEqual(probe!.inputs.exceptions, []);
  t.deepEqual(probe!.inputs.live, { namespaces: ["shop"], istioNamespace: "istio-system", clients: ["istio-mtls-probe.shop", "istio-mtls-probe.istio-mtls-probe"] });
  for (const d of run.recorder.ofType("kubernetes:apps/v1:Deployment")) t.true(probe!.dependencies.includes(d.urn), `the probe runs after ${d.name}`);
});
