import test from "ava";
import { istioMtlsPolicies } from "../../policies/pack";
import { parseDay } from "../../mesh/day";
import { MTLS_EXCEPTIONS, plaintextSettings } from "../../policies/mtls-exceptions";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { peerAuthentication, policyNamed, validateResource } from "./helpers";

const NOW = new Date("2026-06-01T12:00:00Z");
const policy = policyNamed<ResourceValidationPolicy>(istioMtlsPolicies({ now: () => NOW }), MTLS_EXCEPTIONS);
const annotated = (expires: string, reason = "legacy clients until the migration") => ({
  "istio-mtls.dev/exception-reason": reason,
  "istio-mtls.dev/exception-expires": expires,
});

test("STRICT needs no exception", async (t) => {
  const r = await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "STRICT" } }));
  t.deepEqual(r.messages, []);
});

test("PERMISSIVE without annotations names both missing annotations", async (t) => {
  const r = await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }));
  t.is(r.messages.length, 2);
  t.regex(r.messages[0], /PeerAuthentication foo\/default lets plaintext in \(spec\.mtls\.mode PERMISSIVE\).*exception-reason/);
  t.regex(r.messages[1], /exception-expires.*YYYY-MM-DD/);
});

test("a DISABLE port under a STRICT workload is an exception too", async (t) => {
  const pa = peerAuthentication("foo", "httpbin", { selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "DISABLE" } } });
  const r = await validateResource(policy, pa);
  t.is(r.messages.length, 2);
  t.regex(r.messages[0], /spec\.portLevelMtls\[8080\]\.mode DISABLE/);
});

test("an annotated, unexpired exception passes, including on its last day", async (t) => {
  t.deepEqual((await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }, annotated("2026-07-01")))).messages, []);
  t.deepEqual((await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "DISABLE" } }, annotated("2026-06-01")))).messages, []);
});

test("an exception fails the day after its expiry", async (t) => {
  const r = await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }, annotated("2026-05-31")));
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /expired on 2026-05-31 \(today is 2026-06-01\)/);
});

test("a malformed or impossible date names the value and the format", async (t) => {
  for (const bad of ["31/12/2026", "2026-02-30", "soon"]) {
    const r = await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }, annotated(bad)));
    t.is(r.messages.length, 1, bad);
    t.true(r.messages[0].includes(JSON.stringify(bad)) && r.messages[0].includes("YYYY-MM-DD"), r.messages[0]);
  }
});

test("an empty reason is missing", async (t) => {
  const r = await validateResource(policy, peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }, annotated("2026-07-01", "  ")));
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /exception-reason/);
});

test("an expiry beyond maxExceptionDays (pack config) is refused", async (t) => {
  const pa = peerAuthentication("foo", "default", { mtls: { mode: "PERMISSIVE" } }, annotated("2026-12-31"));
  const dflt = await validateResource(policy, pa);
  t.is(dflt.messages.length, 1);
  t.regex(dflt.messages[0], /more than 90 days away \(latest allowed: 2026-08-30\)/);
  t.deepEqual((await validateResource(policy, pa, { maxExceptionDays: 365 })).messages, []);
});

test("other resource types are not inspected", async (t) => {
  const r = await validateResource(policy, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "foo" }, spec: { mtls: { mode: "DISABLE" } } });
  t.deepEqual(r.messages, []);
});

test("plaintextSettings and parseDay", (t) => {
  t.deepEqual(plaintextSettings({ mtls: { mode: "UNSET" }, portLevelMtls: { "80": { mode: "PERMISSIVE" }, "81": { mode: "STRICT" } } }), ["spec.portLevelMtls[80].mode PERMISSIVE"]);
  t.is(parseDay("2024-02-29"), Date.UTC(2024, 1, 29));
  t.is(parseDay("2025-02-29"), undefined);
});
