/**
 * The HTTP layer of a sidecar server: RequestAuthentication (JWT), then AuthorizationPolicy
 * CUSTOM, DENY, ALLOW (istio/api security/v1beta1 authorization_policy.proto and
 * request_authentication.proto; Envoy jwt_authn answers 403 for a disallowed audience and 401 for
 * any other verification failure, source/extensions/filters/http/jwt_authn/filter.cc).
 */
import {
  AUTHORIZATION_ACTIONS,
  type AuthorizationAction,
  type AuthorizationRule,
  type KubeObject,
  type Labels,
} from "../types";
import type { EndUserToken } from "../prediction";
import { ModelInputError, objectRef } from "./errors";
import { anyMatches, compiledMatches, compilePattern, isEmptySelector, selectorMatches, type CompiledPattern } from "./match";
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
  if (action === "CUSTOM" && typeof provider !== "string") {
    throw new ModelInputError(ref, "spec.provider.name is required with action CUSTOM");
  }
  const rules = spec.rules ?? [];
  if (!Array.isArray(rules)) throw new ModelInputError(ref, "spec.rules must be a list");
  let readsPeer = false;
  rules.forEach((r, i) => {
    const rule = (r ?? {}) as AuthorizationRule;
    for (const [field, list] of [["from", rule.from], ["to", rule.to], ["when", rule.when]] as const) {
      if (list !== undefined && list !== null && !Array.isArray(list)) throw new ModelInputError(ref, `spec.rules[${i}].${field} must be a list`);
    }
    for (const f of rule.from ?? []) {
      if (!f?.source) throw new ModelInputError(ref, `spec.rules[${i}].from entries need a source`);
      for (const k of PEER_FIELDS) if ((f.source as Record<string, unknown>)[k] !== undefined) readsPeer = true;
    }
    for (const t of rule.to ?? []) if (!t?.operation) throw new ModelInputError(ref, `spec.rules[${i}].to entries need an operation`);
    for (const w of rule.when ?? []) {
      if (typeof w?.key !== "string") throw new ModelInputError(ref, `spec.rules[${i}].when entries need a key`);
      if (w.key.startsWith("source.")) readsPeer = true;
    }
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

/** The request as the server sidecar sees it. */
export interface HttpRequest {
  method: string;
  path: string;
  token: EndUserToken;
}

/** Peer identity: present only over mTLS. */
export interface Peer {
  principal: string;
  namespace: string;
  serviceAccount: string;
}

export interface HttpResult {
  code: 200 | 401 | 403;
  /** Empty when nothing applies. */
  why: string;
}

/** Tri-state for conditions the model cannot evaluate (IP blocks, headers, hosts). */
const NO = 0;
const YES = 1;
const UNKNOWN = 2;
type Tri = 0 | 1 | 2;

function and(a: Tri, b: Tri): Tri {
  if (a === NO || b === NO) return NO;
  return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : YES;
}
function or(a: Tri, b: Tri): Tri {
  if (a === YES || b === YES) return YES;
  return a === UNKNOWN || b === UNKNOWN ? UNKNOWN : NO;
}

interface EvalContext {
  peer: Peer | undefined;
  requestPrincipal: string | undefined;
  audiences: string[];
  claims: Record<string, unknown>;
  method: string;
  path: string;
  port: number;
  unknown: Set<string>;
}

function pos(list: string[] | undefined, value: string | undefined): Tri {
  return list === undefined ? YES : anyMatches(list, value) ? YES : NO;
}
function neg(list: string[] | undefined, value: string | undefined): Tri {
  return list === undefined ? YES : anyMatches(list, value) ? NO : YES;
}
function unknownIf(list: unknown, field: string, ctx: EvalContext): Tri {
  if (list === undefined) return YES;
  ctx.unknown.add(field);
  return UNKNOWN;
}

function sourceMatches(s: Record<string, string[] | undefined>, ctx: EvalContext): Tri {
  const sa = ctx.peer ? `${ctx.peer.namespace}/${ctx.peer.serviceAccount}` : undefined;
  let r: Tri = YES;
  r = and(r, pos(s.principals, ctx.peer?.principal));
  r = and(r, neg(s.notPrincipals, ctx.peer?.principal));
  r = and(r, pos(s.requestPrincipals, ctx.requestPrincipal));
  r = and(r, neg(s.notRequestPrincipals, ctx.requestPrincipal));
  r = and(r, pos(s.namespaces, ctx.peer?.namespace));
  r = and(r, neg(s.notNamespaces, ctx.peer?.namespace));
  r = and(r, pos(s.serviceAccounts, sa));
  r = and(r, neg(s.notServiceAccounts, sa));
  for (const f of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"]) r = and(r, unknownIf(s[f], f, ctx));
  return r;
}

function operationMatches(o: Record<string, string[] | undefined>, ctx: EvalContext): Tri {
  const port = String(ctx.port);
  let r: Tri = YES;
  r = and(r, pos(o.methods, ctx.method));
  r = and(r, neg(o.notMethods, ctx.method));
  r = and(r, pos(o.paths, ctx.path));
  r = and(r, neg(o.notPaths, ctx.path));
  r = and(r, o.ports === undefined ? YES : o.ports.includes(port) ? YES : NO);
  r = and(r, o.notPorts === undefined ? YES : o.notPorts.includes(port) ? NO : YES);
  r = and(r, unknownIf(o.hosts, "hosts", ctx));
  r = and(r, unknownIf(o.notHosts, "notHosts", ctx));
  return r;
}

function claim(claims: Record<string, unknown>, path: string[]): string[] | undefined {
  let v: unknown = claims;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  if (typeof v === "string") return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  return undefined;
}

/** Values a `when` key has for this request; undefined when the model cannot know them. */
function conditionValues(key: string, ctx: EvalContext): string[] | undefined {
  switch (key) {
    case "source.principal":
      return ctx.peer ? [ctx.peer.principal] : [];
    case "source.namespace":
      return ctx.peer ? [ctx.peer.namespace] : [];
    case "request.auth.principal":
      return ctx.requestPrincipal ? [ctx.requestPrincipal] : [];
    case "request.auth.audiences":
      return ctx.audiences;
    case "request.auth.presenter":
      return claim(ctx.claims, ["azp"]) ?? [];
    case "destination.port":
      return [String(ctx.port)];
  }
  const m = /^request\.auth\.claims((?:\[[^\]]+\])+)$/.exec(key);
  if (m) return ctx.requestPrincipal ? (claim(ctx.claims, [...m[1]!.matchAll(/\[([^\]]+)\]/g)].map((x) => x[1]!)) ?? []) : [];
  return undefined;
}

function conditionMatches(c: { key: string; values?: string[]; notValues?: string[] }, ctx: EvalContext): Tri {
  const vals = conditionValues(c.key, ctx);
  if (vals === undefined) {
    ctx.unknown.add(`when ${c.key}`);
    return UNKNOWN;
  }
  let r: Tri = YES;
  if (c.values) r = and(r, vals.some((v) => anyMatches(c.values!, v)) ? YES : NO);
  if (c.notValues) r = and(r, vals.some((v) => anyMatches(c.notValues!, v)) ? NO : YES);
  return r;
}

function ruleMatches(rule: AuthorizationRule, ctx: EvalContext): Tri {
  let r: Tri = YES;
  if (rule.from && rule.from.length) {
    let any: Tri = NO;
    for (const f of rule.from) any = or(any, sourceMatches(f.source as unknown as Record<string, string[] | undefined>, ctx));
    r = and(r, any);
  }
  if (rule.to && rule.to.length) {
    let any: Tri = NO;
    for (const t of rule.to) any = or(any, operationMatches(t.operation as unknown as Record<string, string[] | undefined>, ctx));
    r = and(r, any);
  }
  for (const w of rule.when ?? []) r = and(r, conditionMatches(w, ctx));
  return r;
}

/** An absent or empty rules list matches nothing; `rules: [{}]` matches everything. */
function policyMatches(p: AuthzPolicyEntry, ctx: EvalContext): Tri {
  let r: Tri = NO;
  for (const rule of p.rules) r = or(r, ruleMatches(rule, ctx));
  return r;
}

/** The RequestAuthentications and AuthorizationPolicies that apply to one server workload. */
export class ServerHttpPolicy {
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

  evaluate(req: HttpRequest, peer: Peer | undefined, port: number): HttpResult {
    if (this.empty) return { code: 200, why: "" };
    const notes: string[] = [];
    let requestPrincipal: string | undefined;
    let audiences: string[] = [];
    let claims: Record<string, unknown> = {};
    // JWT: only when some RequestAuthentication applies; otherwise the token is not looked at.
    if (this.jwtRules.length > 0 && req.token.kind !== "none") {
      const refs = [...new Set(this.jwtRules.map((j) => j.ref))].join(", ");
      if (req.token.kind === "invalid") return { code: 401, why: `token rejected (${refs})` };
      const t = req.token;
      const sameIssuer = this.jwtRules.filter((j) => j.rule.issuer === t.issuer);
      if (sameIssuer.length === 0) return { code: 401, why: `token issuer ${t.issuer} not configured (${refs})` };
      const tokenAud = t.audiences ?? [];
      const accepted = sameIssuer.some((j) => j.rule.audiences.length === 0 || j.rule.audiences.some((a) => tokenAud.includes(a)));
      if (!accepted) {
        return { code: 403, why: `token audience [${tokenAud.join(", ")}] not allowed (${[...new Set(sameIssuer.map((j) => j.ref))].join(", ")})` };
      }
      requestPrincipal = `${t.issuer}/${t.subject}`;
      audiences = tokenAud;
      claims = t.claims ?? {};
      notes.push(`token valid, request principal ${requestPrincipal}`);
    }
    const ctx: EvalContext = { peer, requestPrincipal, audiences, claims, method: req.method, path: req.path, port, unknown: new Set() };
    for (const p of this.custom) {
      const m = policyMatches(p, ctx);
      if (m !== NO) notes.push(`CUSTOM ${p.ref} (provider ${p.provider}) not modelled, assumed to allow`);
    }
    for (const p of this.deny) {
      ctx.unknown.clear();
      const m = policyMatches(p, ctx);
      if (m === YES) return { code: 403, why: `RBAC: access denied (DENY ${p.ref})` };
      if (m === UNKNOWN) {
        return { code: 403, why: `RBAC: access denied (DENY ${p.ref}; ${[...ctx.unknown].join(", ")} not evaluable, assumed to match)` };
      }
    }
    if (this.allow.length > 0) {
      const unknown: string[] = [];
      for (const p of this.allow) {
        ctx.unknown.clear();
        const m = policyMatches(p, ctx);
        if (m === YES) {
          notes.push(`allowed by ${p.ref}`);
          return { code: 200, why: notes.join("; ") };
        }
        if (m === UNKNOWN) unknown.push(`${p.ref}: ${[...ctx.unknown].join(", ")} not evaluable, assumed not to match`);
      }
      // The peer stays out of the text (clientIdentity carries it) so that one result serves many clients.
      const who = peer ? "the peer identity" : "no peer identity (plaintext)";
      return {
        code: 403,
        why: `RBAC: access denied (no ALLOW policy matches ${who}: ${this.allow.map((p) => p.ref).join(", ")}${unknown.length ? `; ${unknown.join("; ")}` : ""})`,
      };
    }
    return { code: 200, why: notes.join("; ") };
  }
}

/** Policies per workload: its namespace's (selector match) plus the root namespace's (mesh-wide, selector match). */
export class HttpPolicyIndex {
  private readonly authnByNs = new Map<string, RequestAuthnEntry[]>();
  private readonly authzByNs = new Map<string, AuthzPolicyEntry[]>();
  private readonly byWorkload = new Map<Workload, ServerHttpPolicy>();

  constructor(authn: readonly RequestAuthnEntry[], authz: readonly AuthzPolicyEntry[], private readonly rootNamespace: string) {
    // Sorted by name so that reasons (the first matching policy) do not depend on input order.
    const byRef = <T extends { ref: string }>(a: T, b: T) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
    for (const a of [...authn].sort(byRef)) if (!a.targeted) push(this.authnByNs, a.namespace, a);
    for (const p of [...authz].sort(byRef)) if (!p.targeted) push(this.authzByNs, p.namespace, p);
  }

  forWorkload(w: Workload): ServerHttpPolicy {
    let r = this.byWorkload.get(w);
    if (r) return r;
    const nss = w.namespace === this.rootNamespace ? [w.namespace] : [w.namespace, this.rootNamespace];
    const authn: RequestAuthnEntry[] = [];
    const authz: AuthzPolicyEntry[] = [];
    for (const ns of nss) {
      for (const a of this.authnByNs.get(ns) ?? []) if (selectorMatches(a.selector, w.labels)) authn.push(a);
      for (const p of this.authzByNs.get(ns) ?? []) if (selectorMatches(p.selector, w.labels)) authz.push(p);
    }
    r = new ServerHttpPolicy(authn, authz);
    this.byWorkload.set(w, r);
    return r;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
