/**
 * The HTTP decision of a server sidecar, once the transport has let the request in (rules §D):
 * RequestAuthentication (JWT), then AuthorizationPolicy CUSTOM, DENY, ALLOW (istio/api
 * security/v1beta1 authorization_policy.proto and request_authentication.proto; Envoy jwt_authn
 * answers 403 for a disallowed audience and 401 for any other verification failure,
 * source/extensions/filters/http/jwt_authn/filter.cc).
 */
import type { AuthorizationRule } from "../types";
import type { CellRequest } from "../prediction";
import type { AuthzPolicyEntry, Peer, ServerHttpPolicies } from "./authorization";
import { anyMatches } from "./match";

/** The request as the server sidecar sees it: the cell's. */
export type HttpRequest = CellRequest;

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

/** The response code and why, for `req` from `peer` (undefined: plaintext) at workload port `port`. */
export function httpDecision(policies: ServerHttpPolicies, req: HttpRequest, peer: Peer | undefined, port: number): HttpResult {
  if (policies.empty) return { code: 200, why: "" };
  const notes: string[] = [];
  let requestPrincipal: string | undefined;
  let audiences: string[] = [];
  let claims: Record<string, unknown> = {};
  // JWT: only when some RequestAuthentication applies; otherwise the token is not looked at.
  if (policies.jwtRules.length > 0 && req.token.kind !== "none") {
    const refs = [...new Set(policies.jwtRules.map((j) => j.ref))].join(", ");
    if (req.token.kind === "invalid") return { code: 401, why: `token rejected (${refs})` };
    const t = req.token;
    const sameIssuer = policies.jwtRules.filter((j) => j.rule.issuer === t.issuer);
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
  for (const p of policies.custom) {
    const m = policyMatches(p, ctx);
    if (m !== NO) notes.push(`CUSTOM ${p.ref} (provider ${p.provider}) not modelled, assumed to allow`);
  }
  for (const p of policies.deny) {
    ctx.unknown.clear();
    const m = policyMatches(p, ctx);
    if (m === YES) return { code: 403, why: `RBAC: access denied (DENY ${p.ref})` };
    if (m === UNKNOWN) {
      return { code: 403, why: `RBAC: access denied (DENY ${p.ref}; ${[...ctx.unknown].join(", ")} not evaluable, assumed to match)` };
    }
  }
  if (policies.allow.length > 0) {
    const unknown: string[] = [];
    for (const p of policies.allow) {
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
      why: `RBAC: access denied (no ALLOW policy matches ${who}: ${policies.allow.map((p) => p.ref).join(", ")}${unknown.length ? `; ${unknown.join("; ")}` : ""})`,
    };
  }
  return { code: 200, why: notes.join("; ") };
}
