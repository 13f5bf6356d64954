import test from "ava";
import type { Cell } from "../../mesh/prediction";
import { bearerTokens, canonicalJson, policyRevision, probesHash, validateProbeInputs } from "../../probe/inputs";
import { demoNamespaces, demoPrediction } from "./demo-matrix";

const settings = { requestTimeoutSeconds: 5, deadlineSeconds: 60, concurrency: 4 };

test("token bytes: one bearer per distinct token the cells carry, none for kind none, an error naming the cell without", (t) => {
  const p = demoPrediction(demoNamespaces(3));
  const valid = { kind: "valid" as const, issuer: "i", subject: "s" };
  Object.assign(p.probes[0]!, { request: { path: "/ip", method: "GET", token: { kind: "invalid" } } });
  for (const c of p.probes.slice(1, 4)) c.request = { path: "/headers", method: "GET", token: { ...valid } };
  const asked: unknown[] = [];
  const tokens = bearerTokens(p.probes, (token) => (asked.push(token), `tok-${token.kind}`));
  t.deepEqual(tokens, [
    { token: { kind: "invalid" }, bearer: "tok-invalid" },
    { token: valid, bearer: "tok-valid" },
  ]);
  t.is(asked.length, 2);
  t.throws(() => bearerTokens(p.probes, (token) => (token.kind === "valid" ? "tok" : undefined)), {
    message: /^sleep\.foo to httpbin\.foo:8000\/ip: the request carries an invalid token but no token bytes were given \(tokenFor\)/,
  });
});

test("validation names the setting, the value found and what is allowed", (t) => {
  const cells = demoPrediction(["foo"]).probes;
  t.deepEqual(validateProbeInputs(cells, [], settings, "r1"), []);
  const bad: Cell[] = structuredClone(cells);
  bad.push({ ...bad[0]! });
  bad.push({ ...bad[0]!, request: { ...bad[0]!.request, path: "/a b" }, code: 700, mtls: true, reason: "" });
  bad[0]!.client.labels = {};
  const reasons = validateProbeInputs(bad, [], { requestTimeoutSeconds: 0, deadlineSeconds: -1, concurrency: 1.5 }, "").map((f) => f.reason);
  t.true(reasons.includes('revision is "": expected a non-empty hash of the deployed policy objects'));
  t.true(reasons.includes("requestTimeoutSeconds is 0: allowed a number in (0, 300]"));
  t.true(reasons.includes("deadlineSeconds is -1: allowed a number in [0, 3600]"));
  t.true(reasons.includes("concurrency is 1.5: allowed an integer in 1..100"));
  t.true(reasons.some((r) => /labels must select the client's pods, found \{\}/.test(r)));
  t.true(reasons.some((r) => /sleep\.foo to httpbin\.foo:8000\/headers appears twice/.test(r)));
  t.true(reasons.some((r) => /path "\/a b" is invalid/.test(r)));
  t.true(reasons.some((r) => /predicted\[2\]: code is 700/.test(r)));
  t.deepEqual(validateProbeInputs("x", [], settings, "r").map((f) => f.property), ["predicted"]);
});

test("validation: a token the cells carry needs its bytes, when they are known", (t) => {
  const cells = demoPrediction(["foo"]).probes;
  cells[0]!.request = { ...cells[0]!.request, token: { kind: "valid", issuer: "i", subject: "s" } };
  t.deepEqual(
    validateProbeInputs(cells, [], settings, "r1").map((f) => f.property),
    ["predicted[0].request"],
  );
  t.deepEqual(validateProbeInputs(cells, [{ token: { kind: "valid", issuer: "i", subject: "s" }, bearer: "a.b.c" }], settings, "r1"), []);
  // Not known yet (secrets computed by other resources): the provider checks them when known.
  t.deepEqual(validateProbeInputs(cells, undefined, settings, "r1"), []);
});

test("probesHash ignores key order and changes with any expectation", (t) => {
  const a = demoPrediction(["foo", "legacy"]).probes;
  const reordered = JSON.parse(canonicalJson(a)) as typeof a;
  const swapped = a.map((c) => Object.fromEntries(Object.entries(c).reverse())) as typeof a;
  t.is(probesHash(a, []), probesHash(reordered, []));
  t.is(probesHash(a, []), probesHash(swapped, []));
  const changed = structuredClone(a);
  changed[1]!.mtls = true;
  t.not(probesHash(a, []), probesHash(changed, []));
  const otherPath = structuredClone(a);
  otherPath[1]!.request = { ...otherPath[1]!.request, path: "/ip" };
  t.not(probesHash(a, []), probesHash(otherPath, []));
  t.not(probesHash(a, []), probesHash(a, [{ token: { kind: "invalid" }, bearer: "x" }]));
  t.regex(probesHash(a, []), /^[0-9a-f]{64}$/);
});

test("policyRevision: order-independent, changes with any policy field", (t) => {
  const pa = (ns: string, mode: string) => ({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: ns }, spec: { mtls: { mode } } });
  const a = [pa("foo", "STRICT"), pa("bar", "PERMISSIVE")];
  t.is(policyRevision(a), policyRevision([...a].reverse()));
  t.not(policyRevision(a), policyRevision([pa("foo", "STRICT"), pa("bar", "STRICT")]));
  t.not(policyRevision(a), policyRevision([pa("foo", "STRICT")]));
});

test("the model's failure kind is part of the cells, and of the hash", (t) => {
  const cells = demoPrediction(["foo", "legacy"]).probes;
  const refused = cells.find((c) => c.from === "sleep.legacy" && c.to === "httpbin.foo:8000")!;
  t.like(refused, { code: 0, mtls: false, reason: "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication foo/default)", failure: "reset" });
  t.false("failure" in cells.find((c) => c.from === "sleep.foo" && c.to === "httpbin.foo:8000")!);
  const changed = structuredClone(cells);
  changed[2]!.failure = "no-endpoint";
  t.not(probesHash(cells, []), probesHash(changed, []));
});

test("validation: a 000 needs a failure kind; a failure kind is reset or no-endpoint, for 000 or 503 only", (t) => {
  const cells = demoPrediction(["foo", "legacy"]).probes;
  t.deepEqual(validateProbeInputs(cells, [], settings, "r1"), []);
  const expect = (outcome: Record<string, unknown>) => {
    const bad = structuredClone(cells);
    const { failure: _f, ...rest } = bad[2]!;
    bad[2] = { ...rest, mtls: false, reason: "r", ...outcome } as Cell;
    return validateProbeInputs(bad, [], settings, "r1").map((f) => `${f.property}: ${f.reason}`);
  };
  const at = "predicted[2]";
  t.deepEqual(expect({ code: 0 }), [`${at}.failure: ${at}: failure is undefined with code 0: allowed "reset" or "no-endpoint", with code 0 or 503 only, and required with code 0`]);
  t.regex(expect({ code: 0, failure: "refused" })[0]!, /failure is "refused" with code 0/);
  t.regex(expect({ code: 0, failure: "toString" })[0]!, /failure is "toString"/);
  t.regex(expect({ code: 403, failure: "reset" })[0]!, /failure is "reset" with code 403/);
  t.deepEqual(expect({ code: 503 }), []);
  t.deepEqual(expect({ code: 503, failure: "no-endpoint" }), []);
  t.deepEqual(expect({ code: 0, failure: "reset" }), []);
});
