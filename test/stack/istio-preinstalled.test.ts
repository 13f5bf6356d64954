import test from "ava";
import { runStackProgram, type StackRun } from "../helpers/program";

// A managed Istio and a shared cert-manager: the stack installs neither, keeps its namespaces and policies.
let run: StackRun;
test.before(async () => {
  run = await runStackProgram("dev", {
    overrides: {
      "istio-mtls:istio": { install: false, version: "1.28.1", namespace: "istio-system", mesh: { trustDomain: "cluster.local" } },
      "istio-mtls:certManager": { install: false },
      "istio-mtls:ca": { type: "istiod" },
    },
  });
});

test("no Helm release, no cert-manager, no CA chain, no istio-system Namespace", (t) => {
  const r = run.recorder;
  t.deepEqual(r.ofType("kubernetes:helm.sh/v3:Release"), []);
  t.deepEqual(r.ofType("kubernetes-cert-manager:index:CertManager"), []);
  t.deepEqual(r.registrations.filter((x) => x.type.startsWith("kubernetes:cert-manager.io/")), []);
  t.deepEqual(r.ofType("kubernetes:core/v1:Namespace").map((n) => n.name).sort(), ["bar", "foo", "istio-mtls-probe", "legacy"]);
  t.is(run.outputs.caRootSecretName, undefined);
});

test("workloads and policies are still deployed, after their namespaces", (t) => {
  const r = run.recorder;
  t.is(r.ofType("kubernetes:apps/v1:Deployment").length, 6 + 4, "the demo's six and the four probe clients");
  const pa = r.get("kubernetes:security.istio.io/v1:PeerAuthentication", "foo/default");
  t.true(pa.dependencies.includes(r.get("kubernetes:core/v1:Namespace", "foo").urn));
});
