import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { DESTINATION_RULE_TLS } from "../../policies/destination-rule-tls";
import { istioMtlsPolicies } from "../../policies/pack";
import { demoMesh, destinationRule, peerAuthentication, policyNamed, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), DESTINATION_RULE_TLS);
const meshStrict = peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } });

test("ISTIO_MUTUAL toward a workload without a sidecar names the broken cells", async (t) => {
  const dr = destinationRule("foo", "legacy-mtls", "httpbin.legacy.svc.cluster.local", "ISTIO_MUTUAL");
  const r = await validateStack(policy, [...demoMesh(), meshStrict, dr]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /DestinationRule foo\/legacy-mtls \(host httpbin\.legacy\.svc\.cluster\.local, tls ISTIO_MUTUAL\) breaks 2 request/);
  t.regex(r.messages[0], /sleep\.foo → httpbin\.legacy:8000 \(503/);
  t.regex(r.messages[0], /httpbin\.foo → httpbin\.legacy:8000 \(503/);
  t.true(r.urns[0]!.endsWith("foo-legacy-mtls-destinationrule"));
});

test("DISABLE toward a STRICT sidecar server breaks every sidecar client", async (t) => {
  const dr = destinationRule("istio-system", "no-tls-to-foo", "httpbin.foo.svc.cluster.local", "DISABLE");
  const r = await validateStack(policy, [...demoMesh(), meshStrict, dr]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /breaks 4 request/);
  t.regex(r.messages[0], /sleep\.bar → httpbin\.foo:8000 \(503/);
});

test("DISABLE toward a workload without a sidecar (seed 001's fix) breaks nothing", async (t) => {
  const dr = destinationRule("legacy", "legacy-plain", "httpbin.legacy.svc.cluster.local", "DISABLE");
  const r = await validateStack(policy, [...demoMesh(), meshStrict, dr]);
  t.deepEqual(r.messages, []);
});

test("ISTIO_MUTUAL toward sidecar servers breaks nothing", async (t) => {
  const dr = destinationRule("bar", "bar-mtls", "httpbin.bar.svc.cluster.local", "ISTIO_MUTUAL");
  t.deepEqual((await validateStack(policy, [...demoMesh(), meshStrict, dr])).messages, []);
});

test("DISABLE toward a PERMISSIVE server breaks nothing (plaintext is accepted)", async (t) => {
  const dr = destinationRule("istio-system", "no-tls-to-foo", "httpbin.foo.svc.cluster.local", "DISABLE");
  t.deepEqual((await validateStack(policy, [...demoMesh(), dr])).messages, []);
});

test("no DestinationRule with TLS: not applicable", async (t) => {
  t.regex((await validateStack(policy, [...demoMesh(), meshStrict])).notApplicable ?? "", /no DestinationRule/);
});
