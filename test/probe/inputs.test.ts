import test from "ava";
import { canonicalJson, cellsFromClients, policyRevision, probeClientsFromPrediction, probesHash, validateProbeInputs } from "../../probe/inputs";
import { demoNamespaces, demoPrediction } from "./demo-matrix";

const settings = { requestTimeoutSeconds: 5, deadlineSeconds: 60, concurrency: 4 };

test("prediction → clients grouped by client, in order, with path and token from the request", (t) => {
  const p = demoPrediction(demoNamespaces(3));
  // Interleave clients to check grouping does not depend on order.
  p.probes.sort((a, b) => a.to.localeCompare(b.to));
  Object.assign(p.probes[0]!, { request: { path: "/ip", token: { kind: "invalid" } } });
  const clients = probeClientsFromPrediction(p, (o) => `tok-${o.from}`);
  t.deepEqual(clients.map((c) => [c.from, c.targets.length]), [["sleep.foo", 3], ["sleep.bar", 3], ["sleep.legacy", 3]]);
  const first = clients.find((c) => c.from === p.probes[0]!.from)!.targets[0]!;
  t.like(first, { to: p.probes[0]!.to, path: "/ip", token: `tok-${p.probes[0]!.from}` });
  t.is(clients[1]!.targets[1]!.token, undefined);
  const cells = cellsFromClients(clients);
  t.is(cells.length, 9);
  t.deepEqual(cells[0]!.client, { namespace: clients[0]!.namespace, name: "sleep", labels: { app: "sleep" }, sidecar: true });
});

test("validation names the setting, the value found and what is allowed", (t) => {
  const clients = probeClientsFromPrediction(demoPrediction(["foo"]));
  t.deepEqual(validateProbeInputs(clients, settings, "r1"), []);
  const bad = structuredClone(clients);
  bad[0]!.targets.push({ ...bad[0]!.targets[0]! });
  bad[0]!.targets.push({ ...bad[0]!.targets[0]!, path: "/a b", expected: { code: 700, mtls: true, reason: "" } });
  bad[0]!.labels = {};
  const reasons = validateProbeInputs(bad, { requestTimeoutSeconds: 0, deadlineSeconds: -1, concurrency: 1.5 }, "").map((f) => f.reason);
  t.true(reasons.includes('revision is "": expected a non-empty hash of the deployed policy objects'));
  t.true(reasons.includes("requestTimeoutSeconds is 0: allowed a number in (0, 300]"));
  t.true(reasons.includes("deadlineSeconds is -1: allowed a number in [0, 3600]"));
  t.true(reasons.includes("concurrency is 1.5: allowed an integer in 1..100"));
  t.true(reasons.some((r) => /labels must select the client's pods, found \{\}/.test(r)));
  t.true(reasons.some((r) => /sleep\.foo to httpbin\.foo:8000\/headers appears twice/.test(r)));
  t.true(reasons.some((r) => /path "\/a b" is invalid/.test(r)));
  t.true(reasons.some((r) => /expected\.code is 700/.test(r)));
  t.deepEqual(validateProbeInputs("x", settings, "r").map((f) => f.property), ["clients"]);
});

test("probesHash ignores key order and changes with any expectation", (t) => {
  const a = probeClientsFromPrediction(demoPrediction(["foo", "legacy"]));
  const reordered = JSON.parse(canonicalJson(a)) as typeof a;
  const swapped = a.map((c) => Object.fromEntries(Object.entries(c).reverse())) as typeof a;
  t.is(probesHash(a), probesHash(reordered));
  t.is(probesHash(a), probesHash(swapped));
  const changed = structuredClone(a);
  changed[1]!.targets[0]!.expected.mtls = true;
  t.not(probesHash(a), probesHash(changed));
  t.regex(probesHash(a), /^[0-9a-f]{64}$/);
});

test("policyRevision: order-independent, changes with any policy field", (t) => {
  const pa = (ns: string, mode: string) => ({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: ns }, spec: { mtls: { mode } } });
  const a = [pa("foo", "STRICT"), pa("bar", "PERMISSIVE")];
  t.is(policyRevision(a), policyRevision([...a].reverse()));
  t.not(policyRevision(a), policyRevision([pa("foo", "STRICT"), pa("bar", "STRICT")]));
  t.not(policyRevision(a), policyRevision([pa("foo", "STRICT")]));
});

test("the model's failure kind reaches the probe cells, and the hash", (t) => {
  const p = demoPrediction(["foo", "legacy"]);
  const cells = cellsFromClients(probeClientsFromPrediction(p));
  const refused = cells.find((c) => c.from === "sleep.legacy" && c.to === "httpbin.foo:8000")!;
  t.deepEqual(refused.expected, { code: 0, mtls: false, reason: "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication foo/default)", failure: "reset" });
  t.false("failure" in cells.find((c) => c.from === "sleep.foo" && c.to === "httpbin.foo:8000")!.expected);
  const clients = probeClientsFromPrediction(p);
  const changed = structuredClone(clients);
  changed[1]!.targets[0]!.expected.failure = "no-endpoint";
  t.not(probesHash(clients), probesHash(changed));
});

test("validation: a 000 needs a failure kind; a failure kind is reset or no-endpoint, for 000 or 503 only", (t) => {
  const clients = probeClientsFromPrediction(demoPrediction(["foo", "legacy"]));
  t.deepEqual(validateProbeInputs(clients, settings, "r1"), []);
  const expect = (expected: Record<string, unknown>) => {
    const bad = structuredClone(clients);
    bad[1]!.targets[0]!.expected = { mtls: false, reason: "r", ...expected } as never;
    return validateProbeInputs(bad, settings, "r1").map((f) => `${f.property}: ${f.reason}`);
  };
  const at = "clients[1].targets[0]";
  t.deepEqual(expect({ code: 0 }), [`${at}.expected.failure: ${at}: expected.failure is undefined with code 0: allowed "reset" or "no-endpoint", with code 0 or 503 only, and required with code 0`]);
  t.regex(expect({ code: 0, failure: "refused" })[0]!, /expected\.failure is "refused" with code 0/);
  t.regex(expect({ code: 0, failure: "toString" })[0]!, /expected\.failure is "toString"/);
  t.regex(expect({ code: 403, failure: "reset" })[0]!, /expected\.failure is "reset" with code 403/);
  t.deepEqual(expect({ code: 503 }), []);
  t.deepEqual(expect({ code: 503, failure: "no-endpoint" }), []);
  t.deepEqual(expect({ code: 0, failure: "reset" }), []);
});
