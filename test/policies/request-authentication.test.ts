import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { istioMtlsPolicies } from "../../policies/pack";
import { REQUEST_AUTHENTICATION } from "../../policies/request-authentication";
import { authorizationPolicy, demoMesh, policyNamed, requestAuthentication, validateStack } from "./helpers";

const policy = policyNamed<StackValidationPolicy>(istioMtlsPolicies(), REQUEST_AUTHENTICATION);
const ra = requestAuthentication("foo", "jwt", { app: "httpbin" }, "https://issuer.example/jwks.json");
const requireToken = authorizationPolicy("foo", "require-jwt", {
  selector: { matchLabels: { app: "httpbin" } },
  action: "ALLOW",
  rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }],
});

test("a RequestAuthentication alone accepts requests without a token: the cells are named", async (t) => {
  const r = await validateStack(policy, [...demoMesh(), ra]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /RequestAuthentication foo\/jwt validates tokens on httpbin\.foo:8000, but nothing requires one: 6 request\(s\) without a token/);
  t.regex(r.messages[0], /sleep\.bar → httpbin\.foo:8000\/headers \(200/);
  t.true(r.urns[0]!.endsWith("foo-jwt-requestauthentication"));
});

test("with an AuthorizationPolicy requiring a request principal it passes", async (t) => {
  t.deepEqual((await validateStack(policy, [...demoMesh(), ra, requireToken])).messages, []);
});

test("a DENY notRequestPrincipals [\"*\"] also requires a token", async (t) => {
  const deny = authorizationPolicy("foo", "deny-anonymous", {
    selector: { matchLabels: { app: "httpbin" } },
    action: "DENY",
    rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }],
  });
  t.deepEqual((await validateStack(policy, [...demoMesh(), ra, deny])).messages, []);
});

test("a token required on a path is checked on that path, not on /headers", async (t) => {
  const adminOnly = authorizationPolicy("foo", "require-jwt-admin", {
    selector: { matchLabels: { app: "httpbin" } },
    action: "DENY",
    rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/admin/*"] } }] }],
  });
  t.deepEqual((await validateStack(policy, [...demoMesh(), ra, adminOnly])).messages, []);
});

test("an ALLOW that lets anonymous requests through on another rule still accepts a missing token", async (t) => {
  const leaky = authorizationPolicy("foo", "leaky", {
    selector: { matchLabels: { app: "httpbin" } },
    action: "ALLOW",
    rules: [{ from: [{ source: { requestPrincipals: ["*"] } }] }, { to: [{ operation: { methods: ["GET"] } }] }],
  });
  const r = await validateStack(policy, [...demoMesh(), ra, leaky]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /nothing requires one/);
});

test("an http JWKS URI is refused, naming the field and value", async (t) => {
  const plain = requestAuthentication("foo", "jwt", { app: "httpbin" }, "http://issuer.example/jwks.json");
  const r = await validateStack(policy, [...demoMesh(), plain, requireToken]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /RequestAuthentication foo\/jwt spec\.jwtRules\[0\]\.jwksUri is "http:\/\/issuer\.example\/jwks\.json"; allowed: an https:\/\/ URL/);
});

test("no RequestAuthentication: not applicable", async (t) => {
  t.regex((await validateStack(policy, demoMesh())).notApplicable ?? "", /no RequestAuthentication/);
});
