import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { istioMtlsPolicies } from "../../policies/pack";
import { PEER_AUTHENTICATION_SHAPES } from "../../policies/peer-authentication-shapes";
import { demoMesh, peerAuthentication, policyNamed, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), PEER_AUTHENTICATION_SHAPES);
const httpbin = { matchLabels: { app: "httpbin" } };

test("one mesh, one namespace and one workload policy pass", async (t) => {
  const r = await validateStack(policy, [
    ...demoMesh(),
    peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } }),
    peerAuthentication("foo", "default", { mtls: { mode: "STRICT" } }),
    peerAuthentication("foo", "httpbin", { selector: httpbin, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } }),
  ]);
  t.deepEqual(r.messages, []);
});

test("portLevelMtls without a selector is rejected by Istio", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), peerAuthentication("foo", "default", { mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "DISABLE" } } })]);
  t.true(r.messages.some((m) => /PeerAuthentication foo\/default is rejected by Istio: spec\.portLevelMtls requires a non-empty spec\.selector/.test(m)), r.messages.join("\n"));
});

test("an empty portLevelMtls and a bad port key are named", async (t) => {
  const r = await validateStack(policy, [
    ...demoMesh(),
    peerAuthentication("foo", "a", { selector: httpbin, portLevelMtls: {} }),
    peerAuthentication("bar", "b", { selector: httpbin, portLevelMtls: { "70000": { mode: "STRICT" } } }),
  ]);
  t.true(r.messages.some((m) => m.includes("PeerAuthentication foo/a is rejected by Istio: spec.portLevelMtls is empty; allowed: at least one port entry")));
  t.true(r.messages.some((m) => m.includes("PeerAuthentication bar/b is rejected by Istio: spec.portLevelMtls.70000 is not a port; allowed: 1..65535 (a container port)")));
});

test("a second mesh-level policy is ignored: the newer one is named with the winner", async (t) => {
  const older = peerAuthentication("istio-system", "z-old", { mtls: { mode: "STRICT" } });
  older.metadata.creationTimestamp = "2025-01-01T00:00:00Z";
  const r = await validateStack(policy, [...demoMesh(), peerAuthentication("istio-system", "default", { mtls: { mode: "PERMISSIVE" } }), older]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /PeerAuthentication istio-system\/default is ignored: it is a second mesh-level PeerAuthentication; Istio applies only the oldest, PeerAuthentication istio-system\/z-old/);
  t.true(r.urns[0]!.endsWith("istio-system-default-peerauthentication"));
});

test("a second namespace-level policy is ignored", async (t) => {
  const r = await validateStack(policy, [
    ...demoMesh(),
    peerAuthentication("foo", "default", { mtls: { mode: "STRICT" } }),
    peerAuthentication("foo", "relaxed", { mtls: { mode: "PERMISSIVE" } }),
    peerAuthentication("bar", "default", { mtls: { mode: "STRICT" } }),
  ]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /foo\/relaxed is ignored: it is a second namespace foo-level PeerAuthentication/);
});

test("a selector in the root namespace is ignored in sidecar mode", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), peerAuthentication("istio-system", "httpbin", { selector: httpbin, mtls: { mode: "STRICT" } })]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /istio-system\/httpbin is ignored: it has a selector in the root namespace istio-system, which Istio ignores in sidecar mode/);
});

test("two workload policies selecting one workload: the newer is not applied to it", async (t) => {
  const r = await validateStack(policy, [
    ...demoMesh(),
    peerAuthentication("foo", "httpbin", { selector: httpbin, mtls: { mode: "STRICT" } }),
    peerAuthentication("foo", "everything-permissive", { selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "PERMISSIVE" } }),
    // Same labels in another namespace: no overlap.
    peerAuthentication("bar", "httpbin", { selector: httpbin, mtls: { mode: "PERMISSIVE" } }),
  ]);
  t.is(r.messages.length, 1);
  // Applied together (no timestamps): the name decides which is older, as in Istio.
  t.regex(r.messages[0], /foo\/httpbin and PeerAuthentication foo\/everything-permissive both select workload httpbin\.foo; Istio applies only the oldest, PeerAuthentication foo\/everything-permissive/);
});

test("no PeerAuthentication: not applicable", async (t) => {
  t.regex((await validateStack(policy, demoMesh())).notApplicable ?? "", /no PeerAuthentication/);
});
