/**
 * What a probe response shows, as a cell of the same type as the model's (mesh/prediction.ts),
 * and the check of a deployment: a diff of the predicted table and the observed one.
 *
 * A predicted failure or denial is confirmed only by what Istio produces for it (FAILURE_EVIDENCE,
 * DENIAL_EVIDENCE): a broken target or an application's own 503 or 403 fails in other ways, and
 * must not pass for a policy at work. Likewise a request predicted to reach the application must
 * not have been answered by Envoy.
 */
import { cellName, codeText } from "../mesh/matrix";
import type { Cell, CellFailure, Evidence } from "../mesh/prediction";
import type { ObservedResponse } from "./parse";

/**
 * What proves each predicted failure: the curl exits a client without sidecar sees (for code 000),
 * and the first body line of the 503 a client sidecar's Envoy answers itself (`server: envoy`).
 * A refused connection (exit 7) or "no healthy upstream" means no endpoint, never a policy's reset.
 * Arrays and plain objects: module-level values are captured by the provider's serializer, which does not rebuild Sets or Maps.
 */
const FAILURE_EVIDENCE: Record<CellFailure, { curlExits: readonly number[]; envoyBody: RegExp; bare: string; sidecar: string }> = {
  reset: {
    curlExits: [52, 56],
    // ". reset reason: connection termination", ". retried and the latest reset reason: remote connection failure, …"
    envoyBody: /^upstream connect error or disconnect\/reset before headers\. (retried and the latest )?reset reason: ./,
    bare: "a reset connection (curl exit 52 or 56)",
    sidecar: `the client sidecar's 503 "upstream connect error or disconnect/reset before headers"`,
  },
  "no-endpoint": {
    curlExits: [7],
    envoyBody: /^no healthy upstream$/,
    bare: "a refused connection (curl exit 7)",
    sidecar: `the client sidecar's 503 "no healthy upstream"`,
  },
};
const FAILURES = Object.keys(FAILURE_EVIDENCE) as CellFailure[];
/**
 * The client sidecar's Server header. Its outbound listener overwrites the header of every
 * response (istio pilot/pkg/networking/util/proxy_headers.go: OVERWRITE, Envoy's default name), so
 * it shows that a client sidecar passed the response on, and the body tells who wrote it.
 */
const ENVOY_SERVER = "envoy";
/**
 * The first body line of the answers the server sidecar's filters give themselves when the model
 * predicts 401 or 403 (mesh/model/http-decision.ts): Envoy's RBAC filter "RBAC: access denied"
 * (source/extensions/filters/http/rbac/rbac_filter.cc) and jwt_authn's status text
 * (jwt_verify_lib status.cc: "Jwt verification fails", "Jwt issuer is not configured", …, and
 * "Audiences in Jwt are not allowed" for 403).
 */
const DENIAL_EVIDENCE: Record<string, { body: RegExp; text: string }> = {
  "401": { body: /^(Jwt |Jwks |Found multiple Jwt tokens$)/, text: `jwt_authn's 401 ("Jwt verification fails", "Jwt issuer is not configured", …)` },
  "403": { body: /^(RBAC: access denied|Audiences in Jwt are not allowed)$/, text: `Envoy's 403 "RBAC: access denied" (or jwt_authn's "Audiences in Jwt are not allowed")` },
};

export function isCellFailure(value: unknown): value is CellFailure {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(FAILURE_EVIDENCE, value);
}

/** The failure whose evidence `code` and `e` are: a curl exit without response, or Envoy's own 503. */
function failureShown(code: number, e: Evidence): CellFailure | undefined {
  if (code === 0) return FAILURES.find((f) => FAILURE_EVIDENCE[f].curlExits.includes(e.curlExit));
  if (code !== 503 || e.curlExit !== 0 || e.server !== ENVOY_SERVER) return undefined;
  return FAILURES.find((f) => FAILURE_EVIDENCE[f].envoyBody.test(e.body ?? ""));
}

/** Whether Envoy wrote this answer itself: a failure's 503, or a denial's 401 or 403. */
function envoyAnswered(code: number, e: Evidence): boolean {
  if (code === 0 || e.curlExit !== 0) return false;
  return failureShown(code, e) !== undefined || DENIAL_EVIDENCE[code]?.body.test(e.body ?? "") === true;
}

/** The request the demo's httpbin answers with an echo of its headers, so the transport shows. */
function echoExpected(request: Cell["request"]): boolean {
  return request.method === "GET" && request.path.startsWith("/headers");
}

/** The cell that `expected`'s request observed: same request, client and target; what the response showed. */
export function observedCell(expected: Cell, r: ObservedResponse): Cell {
  const { from, to, request, client, target } = expected;
  const mtlsShown = r.echo;
  const evidence: Evidence = {
    curlExit: r.curlExit,
    mtlsShown,
    ...(r.code >= 400 ? { server: r.server, body: r.body } : {}),
    timeSeconds: r.timeSeconds,
  };
  const mtls = mtlsShown && r.xfcc;
  const failure = failureShown(r.code, evidence);
  return {
    from,
    to,
    request,
    code: r.code,
    mtls,
    reason: describeObserved(r.code, mtls, mtls ? r.peerIdentity : undefined, evidence),
    ...(failure !== undefined ? { failure } : {}),
    ...(mtls && r.peerIdentity ? { clientIdentity: r.peerIdentity } : {}),
    client,
    target,
    evidence,
  };
}

/**
 * Why the observed cell differs from the predicted one, or undefined when it confirms it. A
 * predicted failure or denial needs Envoy's evidence of it; a request predicted to reach the
 * application needs the application's answer: httpbin's 200 (with its echo for GET /headers) on a
 * target checked in full, any answer Envoy did not write on one of check "http".
 */
export function cellProblem(e: Cell, o: Cell): string | undefined {
  const ev = o.evidence;
  if (!ev) return "the observed cell carries no evidence";
  const anyAnswer = e.code === 200 && e.failure === undefined && e.target.check === "http";
  if (anyAnswer) {
    if (o.code === 0) return `${o.reason}, expected the application's answer`;
    if (envoyAnswered(o.code, ev)) return `${o.code} from ${describeAnswer(ev)}: Envoy's own answer, expected the application's`;
  } else if (o.code !== e.code) {
    return `status ${codeText(o.code)}, expected ${codeText(e.code)}`;
  }
  if (e.failure !== undefined) return o.failure === e.failure ? undefined : failureProblem(e.failure, o.code, ev);
  if (e.code === 0) return "000 is expected, but the expectation names no failure kind (reset or no-endpoint) that an observation could confirm";
  if (ev.curlExit !== 0) return `curl exit ${ev.curlExit} (${curlExitName(ev.curlExit)}) after status ${o.code}`;
  const denial = DENIAL_EVIDENCE[e.code];
  if (denial) return denial.body.test(ev.body ?? "") ? undefined : `${o.code} from ${describeAnswer(ev)}, expected ${denial.text}`;
  if (!anyAnswer && echoExpected(e.request) && !ev.mtlsShown) return "the answer does not echo the request's headers, as httpbin's /headers does: the transport is not shown";
  if (ev.mtlsShown && o.mtls !== e.mtls) return e.mtls ? "plaintext, expected mTLS" : "mTLS, expected plaintext";
  if (o.mtls && e.clientIdentity !== undefined && o.clientIdentity !== e.clientIdentity) {
    return `peer identity ${o.clientIdentity ?? "(none in X-Forwarded-Client-Cert)"}, expected ${e.clientIdentity}`;
  }
  return undefined;
}

/**
 * The check of a cell whose Service port does not speak HTTP (target check "connection"): the
 * probe still sends an HTTP request, so the model's status and the echoed mTLS mean nothing there;
 * only whether the connection was refused or reset (any failure evidence, either kind: a client
 * sidecar proxying TCP resets where it would answer 503 for HTTP) or accepted (the server answered
 * anything, even in another protocol: curl exits 1 or 8). A server that closes on an HTTP request
 * without a byte looks like a reset, and a silent one like a timeout: both differ, never pass.
 */
export function connectionProblem(e: Cell, o: Cell): string | undefined {
  const ev = o.evidence;
  if (!ev) return "the observed cell carries no evidence";
  const expectRefused = expectsRefusal(e);
  const refused = o.failure !== undefined;
  const accepted = !refused && (o.code > 0 || ev.curlExit === 1 || ev.curlExit === 8);
  if (expectRefused) return refused ? undefined : `connection accepted (${o.reason}), expected refused or reset (connection-level check: the port does not speak HTTP)`;
  if (accepted) return undefined;
  return `${o.reason}, expected the connection accepted (connection-level check: the port does not speak HTTP)`;
}

/** At the connection level, a predicted cell expects the connection refused or reset (else accepted). */
export function expectsRefusal(e: Cell): boolean {
  return e.failure !== undefined || e.code === 0;
}

/** Why a response with the expected status is not the evidence of `failure`. */
function failureProblem(failure: CellFailure, code: number, e: Evidence): string {
  const want = FAILURE_EVIDENCE[failure];
  if (code === 0) return `curl exit ${e.curlExit} (${curlExitName(e.curlExit)}), expected ${want.bare}`;
  if (e.curlExit !== 0) return `curl exit ${e.curlExit} (${curlExitName(e.curlExit)}) after status ${code}, expected ${want.sidecar}`;
  return `${code} from ${describeAnswer(e)}, expected ${want.sidecar}`;
}

/** A predicted cell, the cell observed for its request, and why they differ. */
export interface Difference {
  cell: Cell;
  observed: Cell;
  problem: string;
}

/** `httpbin.foo:8000/ip`, `POST httpbin.foo:8000/anything`: where a cell's request goes. */
export function requestText(c: Pick<Cell, "to" | "request">): string {
  return `${c.request.method === "GET" ? "" : `${c.request.method} `}${c.to}${c.request.path}`;
}

/** A cell's row in a table: its client, Service port and request (the token by its claims). */
export function cellKey(c: Pick<Cell, "from" | "to" | "request">): string {
  const { method, path, token } = c.request;
  return `${cellName(c)} ${method} ${path} ${JSON.stringify(token)}`;
}

/**
 * The predicted table against the observed one, row by row: every predicted cell needs an
 * observed cell for the same request that confirms it. Cells to a target of check "connection"
 * are checked by connectionProblem, the others by cellProblem.
 */
export function diffTables(predicted: readonly Cell[], observed: readonly Cell[]): Difference[] {
  const byKey = new Map(observed.map((o) => [cellKey(o), o]));
  const diffs: Difference[] = [];
  for (const cell of predicted) {
    const o = byKey.get(cellKey(cell));
    if (!o) throw new Error(`${cell.from} to ${requestText(cell)}: no observed cell for this request`);
    const problem = cell.target.check === "connection" ? connectionProblem(cell, o) : cellProblem(cell, o);
    if (problem) diffs.push({ cell, observed: o, problem });
  }
  return diffs;
}

/** `server envoy: "no healthy upstream"`: who answered an HTTP error, and its body's first line. */
function describeAnswer(e: Evidence): string {
  return `server ${e.server ? e.server : "(no Server header)"}: ${JSON.stringify(e.body ?? "")}`;
}

function curlExitName(exit: number): string {
  const names: Record<number, string> = { 0: "ok", 1: "the reply is not HTTP", 8: "weird server reply", 6: "host not resolved", 7: "connection refused", 28: "timeout", 52: "empty reply", 56: "connection reset" };
  return names[exit] ?? "curl error";
}

/** What the model expects, as the mismatch table shows it: `200 mTLS`, `000 reset`, `403`, `application answers (plaintext)`. */
export function describeExpected(c: Cell): string {
  if (c.failure !== undefined) return `${codeText(c.code)} ${c.failure}`;
  const transport = c.mtls ? "mTLS" : "plaintext";
  if (c.code !== 200) return `${c.code}${c.mtls ? " (mTLS)" : ""}`;
  return c.target.check === "http" ? `application answers (${transport})` : `200 ${transport}`;
}

/** What the probe saw: `000 (curl exit 56: connection reset)`, `200 mTLS spiffe://…`, `503 (server envoy: "…")`. */
function describeObserved(code: number, mtls: boolean, peerIdentity: string | undefined, e: Evidence): string {
  if (code === 0) return `000 (curl exit ${e.curlExit}: ${curlExitName(e.curlExit)})`;
  const transport = !e.mtlsShown ? "" : mtls ? ` mTLS${peerIdentity ? ` ${peerIdentity}` : ""}` : " plaintext";
  const answer = e.server !== undefined ? ` (${describeAnswer(e)})` : "";
  return `${code}${transport}${answer}${e.curlExit !== 0 ? ` (curl exit ${e.curlExit})` : ""}`;
}
