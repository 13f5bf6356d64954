/**
 * RequestAuthentication, and when a token is required, the AuthorizationPolicy that enforces it.
 *
 * RequestAuthentication alone only rejects invalid tokens (401); a request without a token passes.
 * Requiring one takes an AuthorizationPolicy. This builds a DENY policy for requests without a
 * request principal (`notRequestPrincipals: ["*"]`), scoped to `paths` when given, rather than
 * ALLOW `requestPrincipals: ["*"]` on the paths plus ALLOW `notPaths` for the rest: ALLOW
 * policies on one workload are a union, so that ALLOW `notPaths` rule would open every other
 * path to any caller and defeat an ALLOW-by-principal policy on the same workload. DENY is
 * evaluated before ALLOW and composes with other policies; a missing token gives 403.
 */
import { objectRef } from "../model/errors";
import type { EndUserAuthSettings } from "../settings";
import type { AuthorizationPolicy, AuthorizationRule, RequestAuthentication } from "../types";
import { checkWorkloadPolicyMeta, labels } from "./meta";

const API_VERSION = "security.istio.io/v1";

export function validateEndUserAuthPolicies(policies: readonly EndUserAuthSettings[]): void {
  const ids = new Set<string>();
  for (const p of policies) {
    const at = objectRef("RequestAuthentication", p.namespace, p.name);
    checkWorkloadPolicyMeta(at, p, "at least one label naming the workloads that verify tokens");
    if (typeof p.issuer !== "string" || p.issuer.trim() === "") throw new Error(`${at}: spec.jwtRules[0].issuer: empty; allowed: the token issuer (iss claim)`);
    let url: URL | undefined;
    try {
      url = new URL(p.jwksUri);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== "https:") {
      throw new Error(
        `${at}: spec.jwtRules[0].jwksUri: ${JSON.stringify(p.jwksUri)} is not an https URL; allowed: https:// only ` +
          `(keys fetched over plaintext could be replaced in transit)`,
      );
    }
    const requirement = objectRef("AuthorizationPolicy", p.namespace, requireTokenPolicyName(p.name));
    (p.paths ?? []).forEach((path, j) => {
      if (typeof path !== "string" || !(path.startsWith("/") || path.startsWith("*"))) {
        throw new Error(`${requirement}: spec.rules[0].to[0].operation.paths[${j}]: ${JSON.stringify(path)}; allowed: a path starting with "/", or "*" prefix/suffix matches`);
      }
    });
    if ((p.paths ?? []).length > 0 && !p.requireToken) {
      throw new Error(`${at}: paths set but requireToken is false; paths only scope where ${requirement} requires a token`);
    }
    if (ids.has(at)) throw new Error(`${at}: defined twice; allowed: one per name and namespace`);
    ids.add(at);
  }
}

export function buildRequestAuthentication(p: EndUserAuthSettings): RequestAuthentication {
  const rule: RequestAuthentication["spec"]["jwtRules"] = [{ issuer: p.issuer, jwksUri: p.jwksUri }];
  if (p.audiences && p.audiences.length > 0) rule[0].audiences = [...p.audiences];
  return {
    apiVersion: API_VERSION,
    kind: "RequestAuthentication",
    metadata: { name: p.name, namespace: p.namespace },
    spec: { selector: { matchLabels: labels(p.selector) }, jwtRules: rule },
  };
}

/** The name of the AuthorizationPolicy that requires end-user auth policy `name`'s token. */
export function requireTokenPolicyName(name: string): string {
  return `${name}-require-jwt`;
}

/** The token requirement, or undefined when a missing token is allowed. Named by requireTokenPolicyName. */
export function buildRequireTokenPolicy(p: EndUserAuthSettings): AuthorizationPolicy | undefined {
  if (!p.requireToken) return undefined;
  const rule: AuthorizationRule = { from: [{ source: { notRequestPrincipals: ["*"] } }] };
  if (p.paths && p.paths.length > 0) rule.to = [{ operation: { paths: [...p.paths] } }];
  return {
    apiVersion: API_VERSION,
    kind: "AuthorizationPolicy",
    metadata: { name: requireTokenPolicyName(p.name), namespace: p.namespace },
    spec: { selector: { matchLabels: labels(p.selector) }, action: "DENY", rules: [rule] },
  };
}

export function buildEndUserAuth(policies: readonly EndUserAuthSettings[]): (RequestAuthentication | AuthorizationPolicy)[] {
  validateEndUserAuthPolicies(policies);
  return policies.flatMap((p) => {
    const require = buildRequireTokenPolicy(p);
    return require ? [buildRequestAuthentication(p), require] : [buildRequestAuthentication(p)];
  });
}
