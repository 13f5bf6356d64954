/**
 * Principals in AuthorizationPolicies name a trust domain; Istio rewrites the ones that name the
 * local trust domain, or "cluster.local" (a pointer to it), to the mesh's trust domain before
 * generating RBAC (istio/istio pilot/pkg/security/trustdomain/bundle.go ReplaceTrustDomainAliases,
 * applied to source principals by pilot/pkg/security/authz/model/model.go MigrateTrustDomain).
 * The model reads no trustDomainAliases: the bundle is the trust domain alone.
 */

/** `pattern` ends with "*" and `a` starts with the rest (util.go prefixMatch). */
const prefixMatch = (a: string, pattern: string) => pattern.endsWith("*") && a.startsWith(pattern.slice(0, -1));
/** `pattern` starts with "*" and `a` ends with the rest (util.go suffixMatch). */
const suffixMatch = (a: string, pattern: string) => pattern.startsWith("*") && a.endsWith(pattern.slice(1));

function trustDomainsMatch(a: string, b: string): boolean {
  return a === b || b === "*" || prefixMatch(a, b) || prefixMatch(b, a) || suffixMatch(a, b) || suffixMatch(b, a);
}

/** A principal pattern as Istio enforces it under `trustDomain`. */
export function principalForTrustDomain(principal: string, trustDomain: string): string {
  const parts = principal.split("/");
  // Not `<td>/ns/<ns>/sa/<sa>`, or a "*" trust domain: the trust domain is not enforced.
  if (parts.length !== 5 || parts[0] === "*") return principal;
  const td = parts[0]!;
  if (!trustDomainsMatch(td, trustDomain) && td !== "cluster.local") return principal;
  return suffixMatch(trustDomain, td) ? principal : [trustDomain, ...parts.slice(1)].join("/");
}
