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

test("prod: no demo workloads; the shop namespace with injection; an ECDSA 384 intermediate CA", (t) => {
  t.is(run.recorder.ofType("kubernetes:apps/v1:Deployment").length, 0);
  t.deepEqual(run.recorder.get("kubernetes:core/v1:Namespace", "shop").inputs.metadata.labels, { "istio-injection": "enabled" });
  const cacerts = run.recorder.get("kubernetes:cert-manager.io/v1:Certificate", "istio-system/cacerts");
  t.deepEqual(cacerts.inputs.spec.privateKey, { algorithm: "ECDSA", rotationPolicy: "Always", size: 384 });
  t.is(cacerts.inputs.spec.duration, "2160h");
  t.is(cacerts.inputs.spec.renewBefore, "360h");
});

test("prod: no workloads, so an empty predicted matrix", (t) => {
  t.deepEqual(run.outputs.predictedMatrix, []);
  t.deepEqual(run.outputs.namespaces, ["shop"]);
});
