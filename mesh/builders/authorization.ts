/**
 * AuthorizationPolicy ALLOW by peer identity. Principals and namespaces come from the client's
 * mTLS certificate, so plaintext requests never match and are refused (403) once the policy exists.
 */
import { objectRef } from "../model/errors";
import type { AuthorizationPolicySettings } from "../settings";
import type { AuthorizationPolicy, AuthorizationSource } from "../types";
import { checkDnsLabel, checkWorkloadPolicyMeta, labels } from "./meta";

export function validateAuthorizationPolicies(policies: readonly AuthorizationPolicySettings[]): void {
  const ids = new Set<string>();
  for (const p of policies) {
    const at = objectRef("AuthorizationPolicy", p.namespace, p.name);
    checkWorkloadPolicyMeta(at, p, "at least one label (an empty selector would lock down the whole namespace)");
    const principals = p.principals ?? [];
    if (principals.length === 0 && (p.namespaces ?? []).length === 0) {
      throw new Error(`${at}: spec.rules[0].from: neither principals nor namespaces is set; allowed: at least one, or the policy denies everything`);
    }
    principals.forEach((pr, j) => {
      if (typeof pr !== "string" || pr === "" || pr.startsWith("spiffe://")) {
        throw new Error(
          `${at}: spec.rules[0].from[0].source.principals[${j}]: ${JSON.stringify(pr)}; allowed: "<trustDomain>/ns/<namespace>/sa/<serviceAccount>" ` +
            `without the spiffe:// prefix, or "*" patterns`,
        );
      }
    });
    // buildAuthorizationPolicy puts the namespaces source after the principals one.
    const from = principals.length > 0 ? 1 : 0;
    (p.namespaces ?? []).forEach((ns, j) => {
      if (ns !== "*") checkDnsLabel(`${at}: spec.rules[0].from[${from}].source.namespaces[${j}]`, ns);
    });
    if (ids.has(at)) throw new Error(`${at}: defined twice; allowed: one per name and namespace`);
    ids.add(at);
  }
}

export function buildAuthorizationPolicy(p: AuthorizationPolicySettings): AuthorizationPolicy {
  // Separate `from` entries are ORed; fields inside one source are ANDed. "these principals or
  // these namespaces" therefore needs one source each.
  const from: { source: AuthorizationSource }[] = [];
  if (p.principals && p.principals.length > 0) from.push({ source: { principals: [...p.principals] } });
  if (p.namespaces && p.namespaces.length > 0) from.push({ source: { namespaces: [...p.namespaces] } });
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: p.name, namespace: p.namespace },
    spec: { selector: { matchLabels: labels(p.selector) }, action: "ALLOW", rules: [{ from }] },
  };
}

export function buildAuthorizationPolicies(policies: readonly AuthorizationPolicySettings[]): AuthorizationPolicy[] {
  validateAuthorizationPolicies(policies);
  return policies.map(buildAuthorizationPolicy);
}
