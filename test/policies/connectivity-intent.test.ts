import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { CONNECTIVITY_INTENT } from "../../policies/connectivity-intent";
import { istioMtlsPolicies } from "../../policies/pack";
import { demoMesh, intentConfigMap, peerAuthentication, policyNamed, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), CONNECTIVITY_INTENT);
const meshStrict = peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } });
const INTENT = `
- {from: sleep.foo, to: httpbin.bar:8000, expect: mtls}
- {from: sleep.legacy, to: httpbin.foo:8000, expect: refused}
- {from: sleep.legacy, to: httpbin.legacy:8000, expect: allowed}
`;

test("an intent the prediction meets passes", async (t) => {
  t.deepEqual((await validateStack(policy, [...demoMesh(), meshStrict, intentConfigMap(true, INTENT)])).messages, []);
});

test("without STRICT the refused cell succeeds in plaintext: the cell, expectation and reason are named", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), intentConfigMap(false, INTENT)]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /data\.intent\[1\] sleep\.legacy → httpbin\.foo:8000: expected to be refused, predicted to succeed in plaintext: 200: plaintext client \(no sidecar\) → PERMISSIVE/);
  t.true(r.urns[0]!.includes("ConfigMap"));
});

test("mtls expected but the request is plaintext or fails", async (t) => {
  const intent = `
- {from: sleep.foo, to: httpbin.legacy:8000, expect: mtls}
- {from: sleep.legacy, to: httpbin.foo:8000, expect: mtls}
- {from: sleep.legacy, to: httpbin.bar:8000, expect: allowed}
`;
  const r = await validateStack(policy, [...demoMesh(), meshStrict, intentConfigMap(true, intent)]);
  t.deepEqual(
    r.messages.map((m) => /: (expected [^:]*):/.exec(m)?.[1]),
    ["expected mTLS, predicted to succeed in plaintext", "expected mTLS, predicted to fail", "expected to succeed, predicted to fail"],
  );
});

test("a cell the stack has no probe for is named, with the clients there are", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), meshStrict, intentConfigMap(true, "- {from: sleep.nowhere, to: httpbin.foo:8000, expect: mtls}")]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /sleep\.nowhere → httpbin\.foo:8000 names no predicted request; clients: .*sleep\.foo/);
});

test("malformed intent entries name the index, value and allowed form", async (t) => {
  const cases: [string, RegExp][] = [
    ["- {from: sleep.foo, to: httpbin.bar, expect: mtls}", /data\.intent\[0\]\.to is "httpbin\.bar"; allowed: <service>\.<namespace>:<port>/],
    ["- {from: sleep, to: httpbin.bar:8000, expect: mtls}", /data\.intent\[0\]\.from is "sleep"; allowed: <workload>\.<namespace>/],
    ["- {from: sleep.foo, to: httpbin.bar:8000, expect: maybe}", /data\.intent\[0\]\.expect is "maybe"; allowed: mtls, allowed, refused/],
    ["from: sleep.foo", /data\.intent must be a YAML list/],
  ];
  for (const [intent, re] of cases) {
    const r = await validateStack(policy, [...demoMesh(), intentConfigMap(true, intent)]);
    t.is(r.messages.length, 1, intent);
    t.regex(r.messages[0], re);
  }
});

test("no intent: not applicable", async (t) => {
  t.truthy((await validateStack(policy, [...demoMesh(), intentConfigMap(true)])).notApplicable);
  t.truthy((await validateStack(policy, demoMesh())).notApplicable);
});
