/** httpDecision: the server sidecar's HTTP layer, JWT then CUSTOM, DENY, ALLOW (rules §D). */
import test from "ava";
import { readAuthorizationPolicy, readRequestAuthentication, ServerHttpPolicies } from "../../../mesh/model/authorization";
import { httpDecision, type HttpRequest } from "../../../mesh/model/http-decision";
import type { EndUserToken } from "../../../mesh/prediction";
import { authorizationPolicy, requestAuthentication } from "../fixtures";
import { workload } from "./world";

const GET = (token: EndUserToken = { kind: "none" }): HttpRequest => ({ method: "GET", path: "/headers", token });
const peer = workload("sleep.bar");
const authz = (spec: Record<string, unknown>) => readAuthorizationPolicy(authorizationPolicy("foo", "p", spec));
const jwt = requestAuthentication("foo", "jwt", { jwtRules: [{ issuer: "https://issuer.example", audiences: ["api"] }] });

test("no policy: 200 with nothing to say", (t) => {
  t.deepEqual(httpDecision(new ServerHttpPolicies([], []), GET(), undefined, 8080), { code: 200, why: "" });
});

test("wrong world: ALLOW by principal refuses a plaintext request, which has no peer identity", (t) => {
  const policies = new ServerHttpPolicies([], [authz({ rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/sleep"] } }] }] })]);
  t.deepEqual(httpDecision(policies, GET(), undefined, 8080), {
    code: 403,
    why: "RBAC: access denied (no ALLOW policy matches no peer identity (plaintext): AuthorizationPolicy foo/p)",
  });
  t.deepEqual(httpDecision(policies, GET(), peer, 8080), { code: 200, why: "allowed by AuthorizationPolicy foo/p" });
  t.is(httpDecision(policies, GET(), workload("sleep.foo"), 8080).code, 403);
});

test("DENY notPrincipals ['*'] refuses plaintext only", (t) => {
  const policies = new ServerHttpPolicies([], [authz({ action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] })]);
  t.deepEqual(httpDecision(policies, GET(), undefined, 8080), { code: 403, why: "RBAC: access denied (DENY AuthorizationPolicy foo/p)" });
  t.is(httpDecision(policies, GET(), peer, 8080).code, 200);
});

test("a DENY condition the model cannot evaluate is assumed to match", (t) => {
  const policies = new ServerHttpPolicies([], [authz({ action: "DENY", rules: [{ from: [{ source: { ipBlocks: ["10.0.0.0/8"] } }] }] })]);
  t.deepEqual(httpDecision(policies, GET(), peer, 8080), { code: 403, why: "RBAC: access denied (DENY AuthorizationPolicy foo/p; ipBlocks not evaluable, assumed to match)" });
});

test("RequestAuthentication: invalid token 401, audience not allowed 403, no token passes", (t) => {
  const policies = new ServerHttpPolicies([readRequestAuthentication(jwt)], []);
  t.deepEqual(httpDecision(policies, GET({ kind: "invalid" }), peer, 8080), { code: 401, why: "token rejected (RequestAuthentication foo/jwt)" });
  const other = httpDecision(policies, GET({ kind: "valid", issuer: "https://issuer.example", subject: "u", audiences: ["web"] }), peer, 8080);
  t.deepEqual(other, { code: 403, why: "token audience [web] not allowed (RequestAuthentication foo/jwt)" });
  const unknownIssuer = httpDecision(policies, GET({ kind: "valid", issuer: "https://other.example", subject: "u" }), peer, 8080);
  t.is(unknownIssuer.code, 401);
  t.deepEqual(httpDecision(policies, GET(), peer, 8080), { code: 200, why: "" });
  const valid = httpDecision(policies, GET({ kind: "valid", issuer: "https://issuer.example", subject: "u", audiences: ["api"] }), peer, 8080);
  t.deepEqual(valid, { code: 200, why: "token valid, request principal https://issuer.example/u" });
});

test("without a RequestAuthentication the token is not looked at", (t) => {
  t.is(httpDecision(new ServerHttpPolicies([], []), GET({ kind: "invalid" }), peer, 8080).code, 200);
});

test("operations match the method, the path and the workload port", (t) => {
  const policies = new ServerHttpPolicies([], [authz({ rules: [{ to: [{ operation: { methods: ["GET"], paths: ["/status/*"], ports: ["8080"] } }] }] })]);
  t.is(httpDecision(policies, { ...GET(), path: "/status/200" }, undefined, 8080).code, 200);
  t.is(httpDecision(policies, GET(), undefined, 8080).code, 403);
  t.is(httpDecision(policies, { ...GET(), path: "/status/200" }, undefined, 9090).code, 403);
});
