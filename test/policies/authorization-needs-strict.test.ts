import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { AUTHORIZATION_NEEDS_STRICT } from "../../policies/authorization-needs-strict";
import { istioMtlsPolicies } from "../../policies/pack";
import { authorizationPolicy, demoMesh, peerAuthentication, policyNamed, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), AUTHORIZATION_NEEDS_STRICT);
const allowSleep = authorizationPolicy("foo", "httpbin-from-sleep", {
  selector: { matchLabels: { app: "httpbin" } },
  action: "ALLOW",
  rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }] }],
});

test("ALLOW by principal on a PERMISSIVE workload names the workload, port and deciding policy", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), allowSleep]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /AuthorizationPolicy foo\/httpbin-from-sleep matches by principals\/namespaces, but httpbin\.foo port 8080 is PERMISSIVE \(no PeerAuthentication, Istio default\)/);
  t.regex(r.messages[0], /this ALLOW refuses them \(403\)/);
  t.true(r.urns[0]!.endsWith("foo-httpbin-from-sleep-authorizationpolicy"));
});

test("the same policy on a STRICT workload passes", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), peerAuthentication("foo", "default", { mtls: { mode: "STRICT" } }), allowSleep]);
  t.deepEqual(r.messages, []);
});

test("the resolved mode counts, not the namespace's: a PERMISSIVE port under a STRICT namespace fails", async (t) => {
  const r = await validateStack(policy, [
    ...demoMesh(),
    peerAuthentication("foo", "default", { mtls: { mode: "STRICT" } }),
    peerAuthentication("foo", "httpbin", { selector: { matchLabels: { app: "httpbin" } }, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } }),
    allowSleep,
  ]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /port 8080 is PERMISSIVE \(portLevelMtls 8080 of PeerAuthentication foo\/httpbin\)/);
});

test("a DENY by namespace on a PERMISSIVE workload is bypassed by plaintext", async (t) => {
  const deny = authorizationPolicy("bar", "deny-legacy", { action: "DENY", rules: [{ from: [{ source: { namespaces: ["legacy"] } }] }] });
  const r = await validateStack(policy, [...demoMesh(), deny]);
  // The namespace-wide policy covers both bar workloads; httpbin.bar serves 8080, sleep.bar serves nothing.
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /deny-legacy.*httpbin\.bar port 8080 is PERMISSIVE.*sleep\.bar is PERMISSIVE.*bypass this DENY/);
});

test("DENY notPrincipals [\"*\"] (the way to refuse plaintext) and requestPrincipals rules pass", async (t) => {
  const denyPlain = authorizationPolicy("foo", "deny-plaintext", { action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] });
  const jwt = authorizationPolicy("foo", "require-jwt", { action: "ALLOW", rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] });
  t.deepEqual((await validateStack(policy, [...demoMesh(), denyPlain, jwt])).messages, []);
});

test("policies on workloads without a sidecar are not this policy's concern", async (t) => {
  const onLegacy = authorizationPolicy("legacy", "legacy-allow", { rules: [{ from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }] }] });
  t.deepEqual((await validateStack(policy, [...demoMesh(), onLegacy])).messages, []);
});
