/**
 * Same-host DestinationRules in one namespace (istio/istio pilot/pkg/model/destination_rule.go
 * mergeDestinationRule with ENABLE_ENHANCED_DESTINATIONRULE_MERGE, on by default; lookup in
 * push_context.go destinationRule; the last catch-all entry in sidecar.go
 * SidecarScope.DestinationRule).
 */
import test from "ava";
import { DestinationRuleIndex, readDestinationRule } from "../../../mesh/model/destination-rule";

const HOST = "httpbin.legacy.svc.cluster.local";

function rule(namespace: string, name: string, spec: Record<string, unknown>, created?: string) {
  return readDestinationRule(
    { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace, ...(created ? { creationTimestamp: created } : {}) }, spec: { host: HOST, ...spec } },
    0,
  );
}
const tls = (mode: string) => ({ trafficPolicy: { tls: { mode } } });
const applied = (index: DestinationRuleIndex, client: string) => index.lookup(client, HOST, "legacy")?.applied?.ref;

test("same-host rules with different exportTo stay apart: the last one visible to the client applies", (t) => {
  // Found in the differential test (seed 1): the model merged them and sent ISTIO_MUTUAL to legacy's httpbin from foo.
  const index = new DestinationRuleIndex([rule("istio-system", "a", { ...tls("ISTIO_MUTUAL"), exportTo: ["bar"] }), rule("istio-system", "b", {})], "istio-system");
  t.is(index.lookup("foo", HOST, "legacy")?.applied, undefined, "foo sees only b, which has no trafficPolicy");
  const bar = index.lookup("bar", HOST, "legacy");
  t.deepEqual(bar?.refs, ["DestinationRule istio-system/b"], "bar sees a and b, and the sidecar takes the last");
  t.is(bar?.applied, undefined, "so no trafficPolicy: auto mTLS, plaintext to legacy (200, as the oracle replays it)");
});

test("the same exportTo merges: the oldest trafficPolicy wins", (t) => {
  const index = new DestinationRuleIndex(
    [rule("legacy", "newer", tls("DISABLE"), "2024-06-01T00:00:00Z"), rule("legacy", "older", tls("ISTIO_MUTUAL"), "2024-01-01T00:00:00Z")],
    "istio-system",
  );
  const c = index.lookup("foo", HOST, "legacy")!;
  t.is(c.applied?.ref, "DestinationRule legacy/older");
  t.deepEqual(c.refs, ["DestinationRule legacy/older", "DestinationRule legacy/newer"]);
});

test('"." and the namespace\'s own name are different exportTo sets: not merged, the newer applies', (t) => {
  const index = new DestinationRuleIndex([rule("legacy", "a", { ...tls("ISTIO_MUTUAL"), exportTo: ["."] }), rule("legacy", "b", { ...tls("DISABLE"), exportTo: ["legacy"] })], "istio-system");
  t.is(applied(index, "legacy"), "DestinationRule legacy/b");
  t.is(index.lookup("foo", HOST, "legacy"), undefined, "private to legacy");
});

test("a rule whose exportTo is a superset of an earlier one's merges into it and is not kept apart", (t) => {
  // appendSeparately ends false when the last entry took the rule: b reaches no client of its own.
  const index = new DestinationRuleIndex(
    [rule("legacy", "a", { ...tls("ISTIO_MUTUAL"), exportTo: ["bar"] }, "2024-01-01T00:00:00Z"), rule("legacy", "b", { ...tls("DISABLE"), exportTo: ["bar", "foo"] }, "2024-06-01T00:00:00Z")],
    "istio-system",
  );
  t.is(applied(index, "bar"), "DestinationRule legacy/a");
  t.is(index.lookup("foo", HOST, "legacy"), undefined, "b was merged into a, whose exportTo is bar only");
});

test("wrong world: the entry kept apart is found even when an earlier one could not take it", (t) => {
  // a then c (merge into a, equal exportTo) then b (another exportTo): b is appended, and is last.
  const index = new DestinationRuleIndex(
    [
      rule("legacy", "a", tls("ISTIO_MUTUAL"), "2024-01-01T00:00:00Z"),
      rule("legacy", "c", tls("DISABLE"), "2024-02-01T00:00:00Z"),
      rule("legacy", "b", { ...tls("DISABLE"), exportTo: ["foo"] }, "2024-06-01T00:00:00Z"),
    ],
    "istio-system",
  );
  t.is(applied(index, "foo"), "DestinationRule legacy/b");
  t.is(applied(index, "bar"), "DestinationRule legacy/a");
});

test("what ValidateDestinationRule refuses is refused, naming the field (pkg/config/validation/validation.go)", (t) => {
  const problem = (spec: Record<string, unknown>, namespace = "foo") => {
    try {
      readDestinationRule({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "r", namespace }, spec: { host: "httpbin", ...spec } }, 0);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
  t.regex(problem({ trafficPolicy: {} })!, /spec\.trafficPolicy is empty/);
  t.regex(problem({ trafficPolicy: { portLevelSettings: [] } })!, /spec\.trafficPolicy is empty/, "an empty list is no setting");
  t.regex(problem({ trafficPolicy: { portLevelSettings: [{ port: { number: 8000 } }] } })!, /portLevelSettings\[0\] has no setting besides its port/);
  t.regex(problem({ trafficPolicy: { portLevelSettings: [{ tls: { mode: "DISABLE" } }] } })!, /portLevelSettings\[0\]\.port/);
  t.regex(problem({ exportTo: ["foo", "."] })!, /repeats the current namespace foo as "\."/);
  t.regex(problem({ exportTo: [".", "foo"] })!, /repeats "foo"/);
  t.regex(problem({ exportTo: ["*", "bar"] })!, /mixes "\*" with other entries/);
  t.regex(problem({ exportTo: ["~"] })!, /"~" \(none\)/);
  t.regex(problem({ host: "httpbin.*" })!, /spec\.host has an invalid label "\*"/);
  t.regex(problem({ trafficPolicy: { tls: { mode: "MUTUAL" } } })!, /clientCertificate is missing/);
  // Wrong world: what Istio accepts is read.
  t.is(problem({ trafficPolicy: { tls: {} } }), undefined, "tls without a mode is DISABLE, a setting");
  t.is(problem({ trafficPolicy: { portLevelSettings: [{ port: { number: 8000 }, loadBalancer: { simple: "ROUND_ROBIN" } }] } }), undefined);
  t.is(problem({ host: "*.foo.svc.cluster.local", exportTo: [".", "bar"] }), undefined);
  t.is(problem({ trafficPolicy: { tls: { mode: "MUTUAL", credentialName: "client-cert" } } }), undefined);
});
