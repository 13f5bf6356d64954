/**
 * The posture report: from the observed cells (any source: the plan's prediction probed, or a
 * live read) and the reviewed exceptions that cover each Service port (mesh/mtls-exceptions.ts),
 * what each Service port accepts, who reached it how, and one summary line for a human.
 *
 * A Service port's `mtls`, from what clients observed:
 * - "plaintext-accepted": a client without sidecar got an HTTP answer (the server took a plaintext
 *   connection: any status, a 403 too, since authorization runs after the connection is accepted)
 *   and no client with a sidecar was seen to reach it over mTLS;
 * - "permissive": the same plaintext answer, and a sidecar client's request was seen arriving
 *   over mTLS (X-Forwarded-Client-Cert echoed): both are accepted;
 * - "strict": every client without sidecar that got a verdict was reset (curl exit 52/56), as a
 *   STRICT port answers plaintext;
 * - "unknown": no client without sidecar has a cell for it, or none got a verdict (no endpoint,
 *   timeout, name not resolved): what it accepts cannot be told, and the report says why.
 * A port that accepts plaintext is "under-exception" when a covering exception has not expired,
 * "exception-expired" when all have, "no-exception" when none covers it: the last two stand out.
 */
import type { Cell } from "../mesh/prediction";
import type { ServiceException } from "../mesh/mtls-exceptions";

export type ServiceMtls = "strict" | "permissive" | "plaintext-accepted" | "unknown";
export type PostureVerdict = "refuses-plaintext" | "under-exception" | "exception-expired" | "no-exception" | "unknown";

/** One client's request to the Service port and what it got. */
export interface ClientObservation {
  /** `<workload>.<namespace>`. */
  from: string;
  sidecar: boolean;
  /** `GET /headers`. */
  request: string;
  code: number;
  /** `mTLS spiffe://…`, `plaintext`, `reset`, `no endpoint`, `transport not shown`, `curl exit 28`. */
  how: string;
}

export interface ServicePosture {
  namespace: string;
  service: string;
  port: number;
  mtls: ServiceMtls;
  verdict: PostureVerdict;
  /** Why this mtls, in a line. */
  why: string;
  clients: ClientObservation[];
  /** The reviewed exceptions that cover it, each with whether it has expired. */
  exceptions: (Omit<ServiceException, "namespace" | "service" | "port"> & { expired: boolean })[];
}

export interface PostureReport {
  services: ServicePosture[];
  /** E.g. "9 services: 6 refuse plaintext, 1 accepts it under exceptions bar/httpbin:8000 (expires 2027-02-15); …". */
  summary: string;
}

/** How a cell's request got through, in a word or two. */
function how(c: Cell): string {
  if (c.failure === "reset") return "reset";
  if (c.failure === "no-endpoint") return "no endpoint";
  if (c.code === 0) return `curl exit ${c.evidence?.curlExit ?? "unknown"}`;
  if (!c.evidence?.mtlsShown) return "transport not shown";
  return c.mtls ? `mTLS${c.clientIdentity ? ` ${c.clientIdentity}` : ""}` : "plaintext";
}

/** A client without sidecar: an HTTP answer is a plaintext connection accepted; a reset, one refused; else no verdict. */
function plaintextVerdict(c: Cell): "accepted" | "refused" | undefined {
  if (c.client.sidecar) return undefined;
  if (c.code > 0) return "accepted";
  return c.failure === "reset" ? "refused" : undefined;
}

function serviceName(p: { namespace: string; service: string; port: number }): string {
  return `${p.namespace}/${p.service}:${p.port}`;
}

function describeExceptions(p: ServicePosture, expired: boolean): string {
  const es = p.exceptions.filter((e) => e.expired === expired);
  return `${serviceName(p)} (${es.map((e) => `${e.object}, ${expired ? "expired" : "expires"} ${e.expires}`).join("; ")})`;
}

function posture(target: Cell["target"], cells: readonly Cell[], exceptions: readonly ServiceException[], today: string): ServicePosture {
  const clients = cells.map((c) => ({ from: c.from, sidecar: c.client.sidecar, request: `${c.request.method} ${c.request.path}`, code: c.code, how: how(c) }));
  const verdicts = cells.map(plaintextVerdict);
  const plaintext = cells.filter((c) => !c.client.sidecar);
  const mtlsSeen = cells.some((c) => c.client.sidecar && c.mtls && c.evidence?.mtlsShown === true);
  const accepted = cells.filter((_, i) => verdicts[i] === "accepted").map((c) => c.from);
  const refused = cells.filter((_, i) => verdicts[i] === "refused").map((c) => c.from);
  let mtls: ServiceMtls;
  let why: string;
  if (accepted.length > 0) {
    mtls = mtlsSeen ? "permissive" : "plaintext-accepted";
    why = `plaintext answered for ${accepted.join(", ")}${mtlsSeen ? "; mTLS seen from sidecar clients" : "; no client seen arriving over mTLS"}`;
  } else if (refused.length > 0) {
    mtls = "strict";
    why = `plaintext reset for ${refused.join(", ")}`;
  } else {
    mtls = "unknown";
    why =
      plaintext.length === 0
        ? "no cell from a client without sidecar: whether it accepts plaintext cannot be told"
        : `no verdict for plaintext: ${plaintext.map((c) => `${c.from} ${how(c)}`).join(", ")}`;
  }
  const covering = exceptions
    .filter((e) => e.namespace === target.namespace && e.service === target.service && e.port === target.port)
    .map(({ object, reason, expires }) => ({ object, reason, expires, expired: expires < today }));
  let verdict: PostureVerdict;
  if (mtls === "unknown") verdict = "unknown";
  else if (mtls === "strict") verdict = "refuses-plaintext";
  else if (covering.length === 0) verdict = "no-exception";
  else verdict = covering.some((e) => !e.expired) ? "under-exception" : "exception-expired";
  return { namespace: target.namespace, service: target.service, port: target.port, mtls, verdict, why, clients, exceptions: covering };
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The summary line: counts first, then every Service port that accepts plaintext or cannot be told, by name. */
export function postureSummary(services: readonly ServicePosture[]): string {
  const by = (v: PostureVerdict) => services.filter((s) => s.verdict === v);
  const parts = [`${by("refuses-plaintext").length} refuse plaintext`];
  const under = by("under-exception");
  if (under.length) parts.push(`${under.length} ${under.length === 1 ? "accepts" : "accept"} it under exceptions ${under.map((s) => describeExceptions(s, false)).join(", ")}`);
  const none = by("no-exception");
  if (none.length) parts.push(`${none.length} ${none.length === 1 ? "accepts" : "accept"} it WITHOUT a reviewed exception: ${none.map(serviceName).join(", ")}`);
  const expired = by("exception-expired");
  if (expired.length) parts.push(`${expired.length} ${expired.length === 1 ? "accepts" : "accept"} it under an EXPIRED exception: ${expired.map((s) => describeExceptions(s, true)).join(", ")}`);
  const unknown = by("unknown");
  if (unknown.length) parts.push(`${unknown.length} unknown (no verdict from a client without sidecar): ${unknown.map(serviceName).join(", ")}`);
  return `${count(services.length, "service port", "service ports")}: ${parts.join("; ")}`;
}

/**
 * The report over `cells` (observed) and the exceptions covering each Service port; `today`
 * (YYYY-MM-DD, UTC) decides what has expired: an exception is allowed through its `expires` day.
 */
export function postureReport(cells: readonly Cell[], exceptions: readonly ServiceException[], today: string): PostureReport {
  const groups = new Map<string, { target: Cell["target"]; cells: Cell[] }>();
  for (const c of cells) {
    const key = serviceName(c.target);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { target: c.target, cells: [] }));
    g.cells.push(c);
  }
  const services = [...groups.values()]
    .sort((a, b) => a.target.namespace.localeCompare(b.target.namespace) || a.target.service.localeCompare(b.target.service) || a.target.port - b.target.port)
    .map((g) => posture(g.target, g.cells, exceptions, today));
  return { services, summary: postureSummary(services) };
}
