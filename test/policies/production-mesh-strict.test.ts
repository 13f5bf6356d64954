import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { istioMtlsPolicies } from "../../policies/pack";
import { PRODUCTION_MESH_STRICT } from "../../policies/production-mesh-strict";
import { demoMesh, intentConfigMap, peerAuthentication, policyNamed, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), PRODUCTION_MESH_STRICT);
const meshStrict = peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } });

test("production with mesh-wide STRICT passes", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true), meshStrict]);
  t.deepEqual(r.messages, []);
  t.is(r.notApplicable, undefined);
});

test("production without a mesh policy names the plaintext requests the model predicts", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true)]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /production: true.*no PeerAuthentication without a selector in root namespace istio-system/);
  // legacy's plaintext clients reach foo and bar under the default PERMISSIVE.
  t.regex(r.messages[0], /sleep\.legacy → httpbin\.foo:8000 \(200: plaintext client/);
  t.true(r.urns[0]!.includes("ConfigMap"));
});

test("production with a PERMISSIVE mesh policy points at that policy", async (t) => {
  const permissive = peerAuthentication("istio-system", "default", { mtls: { mode: "PERMISSIVE" } });
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true), permissive]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /PeerAuthentication istio-system\/default with mode PERMISSIVE/);
  t.true(r.urns[0]!.includes("PeerAuthentication"));
});

test("namespace-level STRICT everywhere is not mesh-wide", async (t) => {
  const nsStrict = ["foo", "bar", "legacy"].map((ns) => peerAuthentication(ns, "default", { mtls: { mode: "STRICT" } }));
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true), ...nsStrict]);
  t.is(r.messages.length, 1);
});

test("the oldest mesh policy decides, as in Istio", async (t) => {
  const older = { ...peerAuthentication("istio-system", "a-permissive", { mtls: { mode: "PERMISSIVE" } }) };
  older.metadata.creationTimestamp = "2025-01-01T00:00:00Z";
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true), meshStrict, older]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /a-permissive with mode PERMISSIVE/);
});

test("a non-production stack or one without intent is not checked", async (t) => {
  t.regex((await validateStack(policy, [...demoMesh(), intentConfigMap(false)])).notApplicable ?? "", /production: false/);
  t.regex((await validateStack(policy, demoMesh())).notApplicable ?? "", /no ConfigMap istio-mtls-intent/);
});

test("a bad production flag is a violation naming the value", async (t) => {
  const cm = intentConfigMap(true);
  (cm.data as Record<string, string>).production = "yes";
  const r = await validateStack(policy, [...demoMesh(), cm]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /data\.production is "yes"; allowed: "true", "false"/);
});
