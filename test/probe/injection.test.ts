/**
 * The injection check against pods as the API server returns them: it passes only when every pod
 * of every planned Deployment has the sidecar the model predicts.
 */
import test from "ava";
import { loadStackConfigFile } from "../../config";
import { planStack } from "../../mesh/plan";
import { checkInjection } from "../../probe/injection";
import { PROXY_CONTAINER } from "../../probe/runner";
import { join } from "node:path";

const settings = loadStackConfigFile(join(__dirname, "../../Pulumi.dev.yaml"));
const plan = planStack(settings);
const TRUST_DOMAIN = settings.istio.mesh.trustDomain;

/** A pod of Deployment `name` in `namespace`, with the containers the injector would leave. */
function pod(namespace: string, name: string, containers: string[], initContainers: string[] = []) {
  const hash = "5d4f8b7c9";
  return {
    metadata: { name: `${name}-${hash}-x2x4q`, namespace, labels: { app: name, "pod-template-hash": hash }, ownerReferences: [{ kind: "ReplicaSet", name: `${name}-${hash}` }] },
    spec: { containers: containers.map((n) => ({ name: n })), initContainers: initContainers.map((n) => ({ name: n })) },
  };
}
const asInjected = () => [
  ...["foo", "bar"].flatMap((ns) => [pod(ns, "httpbin", ["httpbin", PROXY_CONTAINER], ["istio-init"]), pod(ns, "sleep", ["sleep", PROXY_CONTAINER], ["istio-init"])]),
  pod("legacy", "httpbin", ["httpbin"]),
  pod("legacy", "sleep", ["sleep"]),
];

test("the dev stack as istiod injects it: foo and bar pods have istio-proxy, legacy pods do not", (t) => {
  const { rows, problems } = checkInjection(plan.model, asInjected(), TRUST_DOMAIN, plan.revisions);
  t.deepEqual(problems, []);
  t.deepEqual(rows.map((r) => [r.workload, r.predicted, r.injected]), [
    ["httpbin.bar", true, true], ["sleep.bar", true, true], ["httpbin.foo", true, true], ["sleep.foo", true, true],
    ["httpbin.legacy", false, false], ["sleep.legacy", false, false],
  ]);
});

test("a native sidecar (istio-proxy among the init containers) counts as injected", (t) => {
  const pods = asInjected().map((p) => (p.metadata.namespace === "foo" && p.metadata.labels.app === "sleep" ? pod("foo", "sleep", ["sleep"], ["istio-init", PROXY_CONTAINER]) : p));
  t.deepEqual(checkInjection(plan.model, pods, TRUST_DOMAIN, plan.revisions).problems, []);
});

test("the world is wrong: a legacy pod injected, a foo pod not injected, a Deployment without pods", (t) => {
  const pods = asInjected()
    .map((p) => (p.metadata.namespace === "legacy" && p.metadata.labels.app === "sleep" ? pod("legacy", "sleep", ["sleep", PROXY_CONTAINER]) : p))
    .map((p) => (p.metadata.namespace === "foo" && p.metadata.labels.app === "httpbin" ? pod("foo", "httpbin", ["httpbin"]) : p))
    .filter((p) => !(p.metadata.namespace === "bar" && p.metadata.labels.app === "sleep"));
  t.deepEqual(checkInjection(plan.model, pods, TRUST_DOMAIN, plan.revisions).problems, [
    "foo/httpbin-5d4f8b7c9-x2x4q: not injected, but the model predicts a sidecar (namespace label istio-injection=enabled)",
    "legacy/sleep-5d4f8b7c9-x2x4q: injected, but the model predicts none (namespace label istio-injection=disabled)",
    "sleep.bar: no pod found, so its injection was not checked",
  ]);
});
