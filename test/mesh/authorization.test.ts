/** Rules §D: the HTTP layer of a sidecar server (JWT, then CUSTOM, DENY, ALLOW). */
import test from "ava";
import { predict, type PredictOptions } from "../../mesh/predict";
import type { KubeObject } from "../../mesh/types";
import { authorizationPolicy as ap, cell, demo, find, HTTPBIN, requestAuthentication as ra } from "./fixtures";

const run = (policies: KubeObject[], options?: PredictOptions) => predict([...demo(), ...policies], options);
const at = (p: ReturnType<typeof predict>, from: string, to: string) => cell(find(p, from, to));
const FOO = "httpbin.foo:8000";

test("ALLOW by principal: a plaintext request has no principal (403), mTLS from a listed identity passes", (t) => {
  const p = run([ap("foo", "httpbin", { selector: HTTPBIN, action: "ALLOW", rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/sleep", "cluster.local/ns/legacy/sa/sleep"] } }] }] })]);
  t.is(at(p, "sleep.bar", FOO), "200 mtls");
  t.is(at(p, "sleep.legacy", FOO), "403");
  t.regex(find(p, "sleep.legacy", FOO).reason, /no ALLOW policy matches no peer identity \(plaintext\): AuthorizationPolicy foo\/httpbin/);
  t.is(at(p, "sleep.foo", FOO), "403 mtls");
});

test("principal wildcards: prefix and suffix '*'", (t) => {
  const p = run([ap("foo", "httpbin", { selector: HTTPBIN, rules: [{ from: [{ source: { principals: ["*/sa/sleep"] } }] }] })]);
  t.is(at(p, "sleep.bar", FOO), "200 mtls");
  t.is(at(p, "httpbin.bar", FOO), "403 mtls");
  const q = run([ap("foo", "httpbin", { selector: HTTPBIN, rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/*"] } }] }] })]);
  t.is(at(q, "httpbin.bar", FOO), "200 mtls");
  t.is(at(q, "sleep.foo", FOO), "403 mtls");
});

test("trust domain from mesh config shapes principals", (t) => {
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "trustDomain: example.org\n" } };
  const p = run([cm, ap("foo", "httpbin", { selector: HTTPBIN, rules: [{ from: [{ source: { principals: ["example.org/ns/bar/sa/sleep"] } }] }] })]);
  t.is(at(p, "sleep.bar", FOO), "200 mtls");
  t.is(find(p, "sleep.bar", FOO).clientIdentity, "spiffe://example.org/ns/bar/sa/sleep");
});

test("DENY notPrincipals ['*'] refuses plaintext only", (t) => {
  const p = run([ap("foo", "require-mtls", { action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] })]);
  t.is(at(p, "sleep.legacy", FOO), "403");
  t.regex(find(p, "sleep.legacy", FOO).reason, /DENY AuthorizationPolicy foo\/require-mtls/);
  t.is(at(p, "sleep.bar", FOO), "200 mtls");
});

test("namespaces and notNamespaces read the peer's namespace", (t) => {
  const p = run([ap("foo", "ns", { rules: [{ from: [{ source: { namespaces: ["foo"] } }] }] })]);
  t.is(at(p, "sleep.foo", FOO), "200 mtls");
  t.is(at(p, "sleep.bar", FOO), "403 mtls");
  const q = run([ap("foo", "ns", { action: "DENY", rules: [{ from: [{ source: { notNamespaces: ["foo"] } }] }] })]);
  t.is(at(q, "sleep.foo", FOO), "200 mtls");
  t.is(at(q, "sleep.bar", FOO), "403 mtls");
});

test("ALLOW without rules denies everything; rules: [{}] allows everything", (t) => {
  t.is(at(run([ap("foo", "deny-all", {})]), "sleep.foo", FOO), "403 mtls");
  t.is(at(run([ap("foo", "allow-all", { rules: [{}] })]), "sleep.legacy", FOO), "200");
  t.is(at(run([ap("foo", "deny-all", {}), ap("foo", "allow-all", { rules: [{}] })]), "sleep.legacy", FOO), "200", "one matching ALLOW is enough");
});

test("DENY wins over ALLOW; a DENY without rules is refused, as istiod's validation refuses it", (t) => {
  const allow = ap("foo", "allow-all", { rules: [{}] });
  t.is(at(run([allow, ap("foo", "deny", { action: "DENY", rules: [{}] })]), "sleep.foo", FOO), "403 mtls");
  const e = t.throws(() => run([allow, ap("foo", "deny", { action: "DENY" })]));
  t.regex(e!.message, /AuthorizationPolicy foo\/deny: Istio's validation rejects it: spec\.rules are missing: a DENY policy without rules never applies/);
});

test("what istiod's validation refuses in AuthorizationPolicies, the model refuses, naming the field", (t) => {
  const refused = (spec: Record<string, unknown>) => t.throws(() => run([ap("foo", "bad", spec)]))!.message;
  t.regex(refused({ action: "CUSTOM" }), /spec\.rules are missing: a CUSTOM policy/);
  t.regex(refused({ action: "CUSTOM", rules: [{}] }), /spec\.provider\.name is missing/);
  t.regex(refused({ provider: { name: "ext" }, rules: [{}] }), /spec\.provider is set with action ALLOW/);
  t.regex(refused({ rules: [{ from: [] }] }), /spec\.rules\[0\]\.from is an empty list/);
  t.regex(refused({ rules: [{ from: [{}] }] }), /spec\.rules\[0\]\.from\[0\]\.source is missing/);
  t.regex(refused({ rules: [{ from: [{ source: {} }] }] }), /spec\.rules\[0\]\.from\[0\]\.source is empty/);
  t.regex(refused({ rules: [{ from: [{ source: { namespaces: ["bar"], serviceAccounts: ["bar/sleep"] } }] }] }), /sets serviceAccounts with namespaces or principals/);
  t.regex(refused({ rules: [{ from: [{ source: { principals: [""] } }] }] }), /spec\.rules\[0\]\.from\[0\]\.source\.principals\[0\] is empty/);
  t.regex(refused({ rules: [{ to: [{ operation: {} }] }] }), /spec\.rules\[0\]\.to\[0\]\.operation is empty/);
  t.regex(refused({ rules: [{ when: [{ key: "request.headers[x]" }] }] }), /sets neither values nor notValues/);
  // Valid shapes still pass: ALLOW without rules (denies all), DENY with an empty rule (every request).
  t.is(at(run([ap("foo", "nothing", {})]), "sleep.bar", FOO), "403 mtls");
});

test("operations: paths (exact, prefix, suffix), methods, ports (workload port) and their not forms", (t) => {
  const rule = (operation: Record<string, unknown>) => [ap("foo", "op", { rules: [{ to: [{ operation }] }] })];
  const get = (policies: KubeObject[], path = "/headers", method = "GET") => at(run(policies, { request: { path, method } }), "sleep.bar", FOO);
  t.is(get(rule({ paths: ["/headers"] })), "200 mtls");
  t.is(get(rule({ paths: ["/ip"] })), "403 mtls");
  t.is(get(rule({ paths: ["/head*"] })), "200 mtls");
  t.is(get(rule({ paths: ["*ers"] })), "200 mtls");
  t.is(get(rule({ notPaths: ["/headers"] })), "403 mtls");
  t.is(get(rule({ methods: ["POST"] })), "403 mtls");
  t.is(get(rule({ methods: ["POST"] }), "/headers", "POST"), "200 mtls");
  t.is(get(rule({ notMethods: ["GET"] })), "403 mtls");
  t.is(get(rule({ ports: ["8080"] })), "200 mtls");
  t.is(get(rule({ ports: ["8000"] })), "403 mtls", "ports is the workload port, not the Service port");
  t.is(get(rule({ notPorts: ["8080"] })), "403 mtls");
});

test("root-namespace policies apply mesh-wide; selectors pick workloads", (t) => {
  const p = run([ap("istio-system", "deny-legacy", { action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] })]);
  t.is(at(p, "sleep.legacy", FOO), "403");
  t.is(at(p, "sleep.legacy", "httpbin.bar:8000"), "403");
  const sel = run([ap("foo", "sleep-only", { selector: { matchLabels: { app: "sleep" } } })]);
  t.is(at(sel, "sleep.legacy", FOO), "200", "the policy selects sleep, not httpbin");
});

test("conditions the model cannot evaluate: not matching for ALLOW, matching for DENY, and said so", (t) => {
  const when = [{ key: "request.headers[x-team]", values: ["a"] }];
  const allow = run([ap("foo", "hdr", { rules: [{ when }] })]);
  t.is(at(allow, "sleep.bar", FOO), "403 mtls");
  t.regex(find(allow, "sleep.bar", FOO).reason, /request\.headers\[x-team\] not evaluable, assumed not to match/);
  const deny = run([ap("foo", "hdr", { action: "DENY", rules: [{ when }] })]);
  t.is(at(deny, "sleep.bar", FOO), "403 mtls");
  t.regex(deny.probes.find((x) => x.from === "sleep.bar" && x.to === FOO)!.reason, /not evaluable, assumed to match/);
  const ip = run([ap("foo", "ip", { action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/8"], principals: ["nobody"] } }] }] })]);
  t.is(at(ip, "sleep.bar", FOO), "200 mtls", "a field that does not match decides even next to an unknown one");
  const known = run([ap("foo", "src", { rules: [{ when: [{ key: "source.namespace", values: ["bar"] }] }] })]);
  t.is(at(known, "sleep.bar", FOO), "200 mtls");
  t.is(at(known, "sleep.foo", FOO), "403 mtls");
});

test("CUSTOM is not modelled and the reason says so", (t) => {
  const p = run([ap("foo", "ext", { action: "CUSTOM", provider: { name: "opa" }, rules: [{}] })]);
  t.is(at(p, "sleep.bar", FOO), "200 mtls");
  t.regex(find(p, "sleep.bar", FOO).reason, /CUSTOM AuthorizationPolicy foo\/ext \(provider opa\) not modelled/);
});

const JWT = ra("foo", "jwt", { selector: HTTPBIN, jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks", audiences: ["httpbin"] }] });
const REQUIRE = ap("foo", "require-jwt", { selector: HTTPBIN, rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }] });
const valid = (audiences?: string[]) => ({ token: { kind: "valid" as const, issuer: "https://issuer.example", subject: "alice", audiences } });

test("JWT: no token without a policy requiring one passes (200)", (t) => {
  t.is(at(run([JWT]), "sleep.legacy", FOO), "200");
});

test("JWT: invalid token 401, unknown issuer 401", (t) => {
  t.is(at(run([JWT], { request: { token: { kind: "invalid" } } }), "sleep.legacy", FOO), "401");
  t.is(at(run([JWT], { request: { token: { kind: "valid", issuer: "https://other", subject: "x" } } }), "sleep.bar", FOO), "401 mtls");
  t.is(at(run([], { request: { token: { kind: "invalid" } } }), "sleep.legacy", FOO), "200", "without RequestAuthentication the token is not read");
});

test("JWT: valid token with an audience the rule does not list is refused by the JWT filter (403)", (t) => {
  const p = run([JWT], { request: valid(["other"]) });
  t.is(at(p, "sleep.legacy", FOO), "403");
  t.regex(find(p, "sleep.legacy", FOO).reason, /token audience \[other\] not allowed \(RequestAuthentication foo\/jwt\)/);
  t.is(at(run([JWT], { request: valid(["httpbin"]) }), "sleep.legacy", FOO), "200");
});

test("JWT: no token with a policy requiring a request principal 403; valid token 200", (t) => {
  t.is(at(run([JWT, REQUIRE]), "sleep.legacy", FOO), "403");
  t.is(at(run([JWT, REQUIRE], { request: valid(["httpbin"]) }), "sleep.legacy", FOO), "200");
  const exact = ap("foo", "alice", { selector: HTTPBIN, rules: [{ from: [{ source: { requestPrincipals: ["https://issuer.example/alice"] } }] }] });
  t.is(at(run([JWT, exact], { request: valid(["httpbin"]) }), "sleep.legacy", FOO), "200");
  const bob = ap("foo", "bob", { selector: HTTPBIN, rules: [{ from: [{ source: { requestPrincipals: ["https://issuer.example/bob"] } }] }] });
  t.is(at(run([JWT, bob], { request: valid(["httpbin"]) }), "sleep.legacy", FOO), "403");
});

test("JWT claims in conditions", (t) => {
  const claims = ap("foo", "group", { selector: HTTPBIN, rules: [{ when: [{ key: "request.auth.claims[groups]", values: ["admin"] }] }] });
  const token = (groups: string[]) => ({ token: { kind: "valid" as const, issuer: "https://issuer.example", subject: "a", audiences: ["httpbin"], claims: { groups } } });
  t.is(at(run([JWT, claims], { request: token(["admin", "dev"]) }), "sleep.legacy", FOO), "200");
  t.is(at(run([JWT, claims], { request: token(["dev"]) }), "sleep.legacy", FOO), "403");
});
