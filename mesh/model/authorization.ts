/**
 * The RequestAuthentications and AuthorizationPolicies of the input, and which of them apply to
 * each server workload (istio/api security/v1beta1 authorization_policy.proto and
 * request_authentication.proto). What they decide for a request is http-decision.ts.
 */
import {
  AUTHORIZATION_ACTIONS,
  type AuthorizationAction,
  type AuthorizationRule,
  type KubeObject,
  type Labels,
} from "../types";
import { authorizationPolicySpecProblems } from "../authorization-policy-rules";
import { describeProblem } from "../shape-problem";
import { ModelInputError, objectRef } from "./errors";
import { compiledMatches, compilePattern, isEmptySelector, selectorMatches, type CompiledPattern } from "./match";
import { principalForTrustDomain } from "./trust-domain";
import { namespaceOf, type Workload } from "./workloads";

export interface JwtRuleEntry {
  issuer: string;
  audiences: string[];
}

export interface RequestAuthnEntry {
  ref: string;
  namespace: string;
  selector: Labels | undefined;
  jwtRules: JwtRuleEntry[];
  targeted: boolean;
}

export interface AuthzPolicyEntry {
  ref: string;
  namespace: string;
  selector: Labels | undefined;
  action: AuthorizationAction;
  rules: AuthorizationRule[];
  provider: string | undefined;
  /** targetRef(s): the policy attaches to a gateway or waypoint, not to sidecars. */
  targeted: boolean;
  /** Reads the peer identity (principals, namespaces, source.* conditions). */
  readsPeer: boolean;
}

function selectorOf(ref: string, spec: Record<string, unknown>): Labels | undefined {
  const ml = (spec.selector as { matchLabels?: unknown } | undefined | null)?.matchLabels;
  if (ml !== undefined && ml !== null && (typeof ml !== "object" || Array.isArray(ml))) {
    throw new ModelInputError(ref, `spec.selector.matchLabels must be a map of strings, found ${JSON.stringify(ml)}`);
  }
  return isEmptySelector(ml as Labels | undefined) ? undefined : (ml as Labels);
}

function isTargeted(spec: Record<string, unknown>): boolean {
  return spec.targetRef !== undefined || (Array.isArray(spec.targetRefs) && spec.targetRefs.length > 0);
}

export function readRequestAuthentication(o: KubeObject): RequestAuthnEntry {
  const namespace = namespaceOf(o);
  const ref = objectRef("RequestAuthentication", namespace, o.metadata.name);
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const rules = spec.jwtRules ?? [];
  if (!Array.isArray(rules)) throw new ModelInputError(ref, "spec.jwtRules must be a list");
  const jwtRules = rules.map((r, i) => {
    const rr = r as { issuer?: unknown; audiences?: unknown };
    if (typeof rr?.issuer !== "string" || rr.issuer === "") {
      throw new ModelInputError(ref, `spec.jwtRules[${i}].issuer must be a non-empty string, found ${JSON.stringify(rr?.issuer)}`);
    }
    const aud = rr.audiences ?? [];
    if (!Array.isArray(aud) || aud.some((a) => typeof a !== "string")) {
      throw new ModelInputError(ref, `spec.jwtRules[${i}].audiences must be a list of strings`);
    }
    return { issuer: rr.issuer, audiences: aud as string[] };
  });
  return { ref: `RequestAuthentication ${namespace}/${o.metadata.name}`, namespace, selector: selectorOf(ref, spec), jwtRules, targeted: isTargeted(spec) };
}

const PEER_FIELDS = ["principals", "notPrincipals", "namespaces", "notNamespaces", "serviceAccounts", "notServiceAccounts"];

export function readAuthorizationPolicy(o: KubeObject): AuthzPolicyEntry {
  const namespace = namespaceOf(o);
  const ref = objectRef("AuthorizationPolicy", namespace, o.metadata.name);
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const action = (spec.action ?? "ALLOW") as AuthorizationAction;
  if (!(AUTHORIZATION_ACTIONS as readonly string[]).includes(action)) {
    throw new ModelInputError(ref, `spec.action is ${JSON.stringify(spec.action)}; allowed: ${AUTHORIZATION_ACTIONS.join(", ")}`);
  }
  const provider = (spec.provider as { name?: unknown } | undefined)?.name;
  const rules = spec.rules ?? [];
  if (!Array.isArray(rules)) throw new ModelInputError(ref, "spec.rules must be a list");
  // What istiod's validating webhook refuses never reaches the cluster: the model refuses it too.
  const [problem] = authorizationPolicySpecProblems(spec);
  if (problem) throw new ModelInputError(ref, `Istio's validation rejects it: ${describeProblem(problem)}`);
  let readsPeer = false;
  rules.forEach((r, i) => {
    const rule = (r ?? {}) as AuthorizationRule;
    for (const [field, list] of [["from", rule.from], ["to", rule.to], ["when", rule.when]] as const) {
      if (list !== undefined && list !== null && !Array.isArray(list)) throw new ModelInputError(ref, `spec.rules[${i}].${field} must be a list`);
    }
    for (const f of rule.from ?? []) {
      for (const k of PEER_FIELDS) if ((f.source as Record<string, unknown>)[k] !== undefined) readsPeer = true;
    }
    for (const w of rule.when ?? []) if (w.key.startsWith("source.")) readsPeer = true;
  });
  return {
    ref: `AuthorizationPolicy ${namespace}/${o.metadata.name}`,
    namespace,
    selector: selectorOf(ref, spec),
    action,
    rules: rules.map((r) => (r ?? {}) as AuthorizationRule),
    provider: typeof provider === "string" ? provider : undefined,
    targeted: isTargeted(spec),
    readsPeer,
  };
}

/** Peer identity: present only over mTLS. */
export interface Peer {
  principal: string;
  namespace: string;
  serviceAccount: string;
}

/** The RequestAuthentications and AuthorizationPolicies that apply to one server workload. */
export class ServerHttpPolicies {
  readonly custom: AuthzPolicyEntry[] = [];
  readonly deny: AuthzPolicyEntry[] = [];
  readonly allow: AuthzPolicyEntry[] = [];
  readonly jwtRules: { rule: JwtRuleEntry; ref: string }[] = [];
  readonly empty: boolean;
  /** Whether the outcome depends on the client's identity; if not, one result serves every client. */
  readonly readsPeer: boolean;

  /** Every pattern the policies test the peer with, and which peer attribute it reads. */
  private readonly peerPatterns: { attr: "principal" | "namespace" | "serviceAccount"; pattern: CompiledPattern }[] = [];

  constructor(authn: RequestAuthnEntry[], authz: AuthzPolicyEntry[]) {
    for (const a of authn) for (const rule of a.jwtRules) this.jwtRules.push({ rule, ref: a.ref });
    for (const p of authz) {
      if (p.action === "CUSTOM") this.custom.push(p);
      else if (p.action === "DENY") this.deny.push(p);
      else if (p.action === "ALLOW") this.allow.push(p);
    }
    this.empty = authn.length === 0 && this.custom.length + this.deny.length + this.allow.length === 0;
    this.readsPeer = authz.some((p) => p.action !== "AUDIT" && p.readsPeer);
    const add = (attr: "principal" | "namespace" | "serviceAccount", list: string[] | undefined) => {
      for (const pattern of list ?? []) this.peerPatterns.push({ attr, pattern: compilePattern(pattern) });
    };
    for (const p of [...this.custom, ...this.deny, ...this.allow]) {
      for (const rule of p.rules) {
        for (const f of rule.from ?? []) {
          const src = f.source as unknown as Record<string, string[] | undefined>;
          add("principal", src.principals);
          add("principal", src.notPrincipals);
          add("namespace", src.namespaces);
          add("namespace", src.notNamespaces);
          add("serviceAccount", src.serviceAccounts);
          add("serviceAccount", src.notServiceAccounts);
        }
        for (const w of rule.when ?? []) {
          const attr = w.key === "source.principal" ? "principal" : w.key === "source.namespace" ? "namespace" : undefined;
          if (attr) {
            add(attr, w.values);
            add(attr, w.notValues);
          }
        }
      }
    }
  }

  /**
   * The peer as the policies see it: which of their peer patterns it matches (-1: no peer, i.e.
   * plaintext). Two peers with the same key get the same result, so results are cached by key
   * rather than by principal. Beyond 30 patterns the key is the principal itself.
   */
  peerKey(peer: Peer | undefined): number | string {
    if (!peer) return -1;
    const patterns = this.peerPatterns;
    if (patterns.length > 30) return peer.principal;
    let key = 0;
    for (let i = 0; i < patterns.length; i++) {
      const { attr, pattern } = patterns[i]!;
      const value = attr === "principal" ? peer.principal : attr === "namespace" ? peer.namespace : `${peer.namespace}/${peer.serviceAccount}`;
      if (compiledMatches(pattern, value)) key |= 1 << i;
    }
    return key;
  }
}

/** The policy with its source principals (and `source.principal` conditions) as Istio enforces them under the trust domain. */
function withTrustDomain(p: AuthzPolicyEntry, trustDomain: string): AuthzPolicyEntry {
  const map = (list: string[] | undefined) => list?.map((v) => principalForTrustDomain(v, trustDomain));
  const rules = p.rules.map((r) => ({
    ...r,
    ...(r.from ? { from: r.from.map((f) => ({ source: { ...f.source, principals: map(f.source.principals), notPrincipals: map(f.source.notPrincipals) } })) } : {}),
    ...(r.when ? { when: r.when.map((w) => (w.key === "source.principal" ? { ...w, values: map(w.values), notValues: map(w.notValues) } : w)) } : {}),
  }));
  return { ...p, rules };
}

/** Policies per workload: its namespace's (selector match) plus the root namespace's (mesh-wide, selector match). */
export class HttpPolicyIndex {
  private readonly authnByNs = new Map<string, RequestAuthnEntry[]>();
  private readonly authzByNs = new Map<string, AuthzPolicyEntry[]>();
  private readonly byWorkload = new Map<Workload, ServerHttpPolicies>();

  constructor(authn: readonly RequestAuthnEntry[], authz: readonly AuthzPolicyEntry[], private readonly rootNamespace: string, trustDomain: string) {
    // Sorted by name so that reasons (the first matching policy) do not depend on input order.
    const byRef = <T extends { ref: string }>(a: T, b: T) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
    for (const a of [...authn].sort(byRef)) if (!a.targeted) push(this.authnByNs, a.namespace, a);
    for (const p of [...authz].sort(byRef)) if (!p.targeted) push(this.authzByNs, p.namespace, withTrustDomain(p, trustDomain));
  }

  forWorkload(w: Workload): ServerHttpPolicies {
    let r = this.byWorkload.get(w);
    if (r) return r;
    const nss = w.namespace === this.rootNamespace ? [w.namespace] : [w.namespace, this.rootNamespace];
    const authn: RequestAuthnEntry[] = [];
    const authz: AuthzPolicyEntry[] = [];
    for (const ns of nss) {
      for (const a of this.authnByNs.get(ns) ?? []) if (selectorMatches(a.selector, w.labels)) authn.push(a);
      for (const p of this.authzByNs.get(ns) ?? []) if (selectorMatches(p.selector, w.labels)) authz.push(p);
    }
    r = new ServerHttpPolicies(authn, authz);
    this.byWorkload.set(w, r);
    return r;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
