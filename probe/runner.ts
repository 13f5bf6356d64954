/**
 * Runs the connectivity probes in the cluster and compares what they observe with the model's
 * prediction. One exec per client pod (its script curls all of that client's targets), a bounded
 * number of execs at once, and retries with backoff until the matrix converges or the deadline
 * passes: Istio config takes seconds to reach the proxies after `pulumi up` applies it.
 *
 * A predicted failure is confirmed only by what Istio produces for it (FAILURE_EVIDENCE): a broken
 * target or an application's own 503 fails in other ways, and must not pass for a policy at work.
 */
import type { X509Certificate } from "node:crypto";
import type { ProbeOutcome } from "../mesh/prediction";
import { parseProbeOutput, type ObservedResponse } from "./parse";
import { probeScript, type ScriptTarget } from "./script";
import type { ExecTransport, PodInfo } from "./transport";

/** One cell to probe and what the model expects of it. */
export interface ProbeCell {
  /** `<workload>.<namespace>`, e.g. "sleep.foo". */
  from: string;
  /** `<service>.<namespace>:<port>`, e.g. "httpbin.foo:8000". */
  to: string;
  client: { namespace: string; name: string; labels: Record<string, string>; sidecar: boolean };
  target: { service: string; namespace: string; port: number };
  /** Default "/headers": httpbin echoes X-Forwarded-Client-Cert there, which shows mTLS. */
  path?: string;
  /** Bearer token sent as `Authorization: Bearer …`. */
  token?: string;
  expected: { code: number; mtls: boolean; clientIdentity?: string; reason: string; failure?: ProbeFailure };
}

/** How a predicted failure fails; see ProbeOutcome.failure. */
export type ProbeFailure = NonNullable<ProbeOutcome["failure"]>;

/** What one cell observed. */
export interface ObservedCell {
  from: string;
  to: string;
  path: string;
  code: number;
  curlExit: number;
  /** Observed over mTLS (XFCC echoed); null when the response cannot show it (not a 200 from /headers). */
  mtls: boolean | null;
  peerIdentity?: string;
  /** For an HTTP error status: who answered (the Server header) and the body's first line, sanitised. */
  server?: string;
  body?: string;
  timeSeconds: number;
}

export interface RunOptions {
  transport: ExecTransport;
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  /** How many client pods are exec'd at once. */
  concurrency: number;
  /** When set (the stack's CA is cert-manager's): istiod's `istio-ca-root-cert` must hold this root. */
  expectedRootCertPem?: string;
  /** Backoff between attempts; default 2 s doubling up to 15 s. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Injectable for tests: milliseconds now, and a sleep. */
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Progress lines (attempts, differences). */
  log?: (message: string) => void;
  /** Passed to the script (tests point service names at local servers). */
  connectTo?: Record<string, string>;
}

export interface RunResult {
  cells: ObservedCell[];
  attempts: number;
  secondsToConverge: number;
  execs: number;
}

/**
 * What proves each predicted failure: the curl exits a client without sidecar sees (for code 000),
 * and the first body line of the 503 a client sidecar's Envoy answers itself (`server: envoy`).
 * A refused connection (exit 7) or "no healthy upstream" means no endpoint, never a policy's reset.
 * Arrays and plain objects: module-level values are captured by the provider's serializer, which does not rebuild Sets or Maps.
 */
const FAILURE_EVIDENCE: Record<ProbeFailure, { curlExits: readonly number[]; envoyBody: RegExp; bare: string; sidecar: string }> = {
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
/** The Server header of a response Envoy generated itself. */
const ENVOY_SERVER = "envoy";
const SLEEP_CONTAINER = "sleep";
const PROXY_CONTAINER = "istio-proxy";
const ROOT_CERT_CONFIGMAP = "istio-ca-root-cert";
const ROOT_CERT_KEY = "root-cert.pem";

/**
 * The deadline error when the matrix did not converge. A plain Error with fields, not a subclass:
 * the provider's serializer does not rebuild Error subclasses faithfully (their message is lost).
 */
export type ProbeMismatchError = Error & { name: "ProbeMismatchError"; differences: Difference[]; attempts: number };

export function probeMismatchError(message: string, differences: Difference[], attempts: number): ProbeMismatchError {
  return Object.assign(new Error(message), { name: "ProbeMismatchError" as const, differences, attempts });
}

export function isProbeMismatchError(e: unknown): e is ProbeMismatchError {
  return e instanceof Error && e.name === "ProbeMismatchError";
}

export interface Difference {
  cell: ProbeCell;
  observed: ObservedCell;
  problem: string;
}

export function cellPath(cell: ProbeCell): string {
  return cell.path ?? "/headers";
}

function mtlsObservable(cell: ProbeCell, r: ObservedResponse): boolean {
  return r.code === 200 && cellPath(cell).startsWith("/headers");
}

export function isProbeFailure(value: unknown): value is ProbeFailure {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(FAILURE_EVIDENCE, value);
}

export function toObserved(cell: ProbeCell, r: ObservedResponse): ObservedCell {
  const observable = mtlsObservable(cell, r);
  return {
    from: cell.from,
    to: cell.to,
    path: cellPath(cell),
    code: r.code,
    curlExit: r.curlExit,
    mtls: observable ? r.xfcc : null,
    ...(observable && r.peerIdentity ? { peerIdentity: r.peerIdentity } : {}),
    ...(r.code >= 400 ? { server: r.server, body: r.body } : {}),
    timeSeconds: r.timeSeconds,
  };
}

/** Why an observed cell differs from the expectation, or undefined when it matches. */
export function compareCell(cell: ProbeCell, o: ObservedCell): string | undefined {
  const e = cell.expected;
  if (o.code !== e.code) return `status ${fmtCode(o.code)}, expected ${fmtCode(e.code)}`;
  if (e.failure !== undefined) return failureProblem(e.failure, o);
  if (e.code === 0) return "000 is expected, but the expectation names no failure kind (reset or no-endpoint) that an observation could confirm";
  if (o.curlExit !== 0) return `curl exit ${o.curlExit} (${curlExitName(o.curlExit)}) after status ${o.code}`;
  if (o.mtls !== null && o.mtls !== e.mtls) return e.mtls ? "plaintext, expected mTLS" : "mTLS, expected plaintext";
  if (o.mtls === true && e.clientIdentity !== undefined && o.peerIdentity !== e.clientIdentity) {
    return `peer identity ${o.peerIdentity ?? "(none in X-Forwarded-Client-Cert)"}, expected ${e.clientIdentity}`;
  }
  return undefined;
}

/** Why `o` (with the expected status) is not the predicted failure, or undefined when it is. */
function failureProblem(failure: ProbeFailure, o: ObservedCell): string | undefined {
  const want = FAILURE_EVIDENCE[failure];
  if (o.code === 0) {
    return want.curlExits.includes(o.curlExit) ? undefined : `curl exit ${o.curlExit} (${curlExitName(o.curlExit)}), expected ${want.bare}`;
  }
  if (o.curlExit !== 0) return `curl exit ${o.curlExit} (${curlExitName(o.curlExit)}) after status ${o.code}, expected ${want.sidecar}`;
  if (o.server === ENVOY_SERVER && want.envoyBody.test(o.body ?? "")) return undefined;
  return `${o.code} from ${describeAnswer(o)}, expected ${want.sidecar}`;
}

/** `server envoy: "no healthy upstream"`: who answered an HTTP error, and its body's first line. */
function describeAnswer(o: ObservedCell): string {
  return `server ${o.server ? o.server : "(no Server header)"}: ${JSON.stringify(o.body ?? "")}`;
}

function fmtCode(code: number): string {
  return code === 0 ? "000" : String(code);
}

function curlExitName(exit: number): string {
  const names: Record<number, string> = { 0: "ok", 6: "host not resolved", 7: "connection refused", 28: "timeout", 52: "empty reply", 56: "connection reset" };
  return names[exit] ?? "curl error";
}

export function describeExpected(cell: ProbeCell): string {
  const e = cell.expected;
  if (e.failure !== undefined) return `${fmtCode(e.code)} ${e.failure}`;
  return e.code === 200 ? `200 ${e.mtls ? "mTLS" : "plaintext"}` : `${e.code}${e.mtls ? " (mTLS)" : ""}`;
}

export function describeObserved(o: ObservedCell): string {
  if (o.code === 0) return `000 (curl exit ${o.curlExit}: ${curlExitName(o.curlExit)})`;
  const transport = o.mtls === null ? "" : o.mtls ? ` mTLS${o.peerIdentity ? ` ${o.peerIdentity}` : ""}` : " plaintext";
  const answer = o.server !== undefined ? ` (${describeAnswer(o)})` : "";
  return `${o.code}${transport}${answer}${o.curlExit !== 0 ? ` (curl exit ${o.curlExit})` : ""}`;
}

/** Readiness: Running, not terminating, `sleep` ready, and `istio-proxy` ready when the client has a sidecar. */
export function podReady(pod: PodInfo, sidecar: boolean): string | undefined {
  if (pod.terminating) return "terminating";
  if (pod.phase !== "Running") return `phase ${pod.phase}`;
  const wanted = sidecar ? [SLEEP_CONTAINER, PROXY_CONTAINER] : [SLEEP_CONTAINER];
  for (const name of wanted) {
    const c = pod.containers.find((x) => x.name === name);
    if (!c) return `no container ${name}${name === PROXY_CONTAINER ? " (is sidecar injection on for the namespace?)" : ""}`;
    if (!c.ready) return `container ${name} not ready`;
  }
  return undefined;
}

/** Runs `tasks` with at most `limit` in flight; results in task order; the first rejection rejects. */
export async function boundedAll<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results;
}

interface ClientGroup {
  key: string;
  client: ProbeCell["client"];
  cells: { index: number; cell: ProbeCell }[];
}

export function groupByClient(cells: ProbeCell[]): ClientGroup[] {
  const groups = new Map<string, ClientGroup>();
  cells.forEach((cell, index) => {
    const key = `${cell.client.namespace}/${cell.client.name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, client: cell.client, cells: [] }));
    g.cells.push({ index, cell });
  });
  return [...groups.values()];
}

/** One attempt: every client probed once. Throws on a missing pod, a failed exec or bad output. */
async function attempt(cells: ProbeCell[], opts: RunOptions): Promise<{ observed: ObservedCell[]; execs: number }> {
  const groups = groupByClient(cells);
  const observed: ObservedCell[] = new Array(cells.length);
  let execs = 0;
  await boundedAll(
    groups.map((g) => async () => {
      const pods = await opts.transport.listPods(g.client.namespace, g.client.labels);
      const sorted = [...pods].sort((a, b) => a.name.localeCompare(b.name));
      const pod = sorted.find((p) => podReady(p, g.client.sidecar) === undefined);
      if (!pod) {
        const found = sorted.map((p) => `${p.name}: ${podReady(p, g.client.sidecar)}`).join("; ") || "no pods";
        throw new Error(`no ready pod for client ${g.client.name}.${g.client.namespace} (labels ${JSON.stringify(g.client.labels)}): ${found}`);
      }
      const targets: ScriptTarget[] = g.cells.map(({ index, cell }) => ({
        id: `c${index}`,
        host: `${cell.target.service}.${cell.target.namespace}`,
        port: cell.target.port,
        path: cellPath(cell),
        ...(cell.token !== undefined ? { token: cell.token } : {}),
      }));
      const script = probeScript(targets, { requestTimeoutSeconds: opts.requestTimeoutSeconds, ...(opts.connectTo ? { connectTo: opts.connectTo } : {}) });
      // The script runs its curls one after another: allow each its timeout plus slack for the exec itself.
      const timeoutMs = (targets.length * opts.requestTimeoutSeconds + 15) * 1000;
      execs++;
      const res = await opts.transport.exec(pod.namespace, pod.name, SLEEP_CONTAINER, ["sh", "-c", script], timeoutMs);
      if (res.exitCode !== 0) {
        throw new Error(`probe script in ${pod.namespace}/${pod.name} exited ${res.exitCode}: ${res.stderr.trim() || "(no stderr)"}`);
      }
      const parsed = parseProbeOutput(res.stdout, targets.map((t) => t.id));
      for (const { index, cell } of g.cells) observed[index] = toObserved(cell, parsed.get(`c${index}`)!);
    }),
    opts.concurrency,
  );
  return { observed, execs };
}

/** The certificates of a PEM text; throws when one of them does not parse. */
function pemCertificates(pem: string, what: string): X509Certificate[] {
  const { X509Certificate } = require("node:crypto") as typeof import("node:crypto");
  return (pem.match(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g) ?? []).map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new Error(`trust check: ${what}: certificate ${i + 1} does not parse (${(e as Error).message})`);
    }
  });
}

/**
 * The stack's CA root, parsed: exactly one certificate. Anything else is a configuration error,
 * raised before probing: an empty or unreadable root would otherwise prove nothing.
 */
export function parseExpectedRoot(pem: string): X509Certificate {
  const what = "the expected root certificate (the stack CA's ca.crt)";
  const certs = pemCertificates(pem, what);
  if (certs.length !== 1) {
    const found = pem.trim() === "" ? "it is empty" : `it holds ${certs.length} PEM certificates`;
    throw new Error(`trust check: ${what}: ${found}, expected exactly one`);
  }
  return certs[0]!;
}

/** istiod's distributed roots must include the stack's CA root (same DER) in every probed namespace. */
async function checkTrust(cells: ProbeCell[], opts: RunOptions, root: X509Certificate): Promise<void> {
  const namespaces = [...new Set(cells.flatMap((c) => [c.client.namespace, c.target.namespace]))].sort();
  for (const ns of namespaces) {
    const data = await opts.transport.readConfigMap(ns, ROOT_CERT_CONFIGMAP);
    if (!data) throw new Error(`trust check: ConfigMap ${ns}/${ROOT_CERT_CONFIGMAP} does not exist (istiod writes it to every namespace; is istiod running?)`);
    const found = data[ROOT_CERT_KEY];
    if (found === undefined) throw new Error(`trust check: ConfigMap ${ns}/${ROOT_CERT_CONFIGMAP} has no key ${ROOT_CERT_KEY}`);
    const distributed = pemCertificates(found, `${ns}/${ROOT_CERT_CONFIGMAP} ${ROOT_CERT_KEY}`);
    if (!distributed.some((c) => c.raw.equals(root.raw))) {
      const held = distributed.map((c) => `${c.subject.replace(/\n/g, ", ")} (SHA-256 ${c.fingerprint256})`).join("; ") || "no certificate";
      throw new Error(
        `trust check: ${ns}/${ROOT_CERT_CONFIGMAP} ${ROOT_CERT_KEY} is not the stack's CA root: istiod is not using the cert-manager CA. ` +
          `It holds ${held}; the stack's root is SHA-256 ${root.fingerprint256}. ` +
          `Check the Secret cacerts in istiod's namespace and restart istiod (kubectl rollout restart deploy/istiod -n istio-system).`,
      );
    }
  }
}

/** The deadline error: a table of differing cells and what to look at. */
export function mismatchMessage(diffs: Difference[], total: number, attempts: number, seconds: number): string {
  const rows = diffs.map((d) => [d.cell.from, `${d.cell.to}${d.observed.path}`, describeExpected(d.cell), describeObserved(d.observed), d.cell.expected.reason]);
  const head = ["from", "to", "expected", "observed", "model's reason"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "  " + r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]!))).join("  ");
  const hints = new Set<string>(["kubectl get peerauthentication,destinationrule,requestauthentication,authorizationpolicy -A"]);
  for (const d of diffs) {
    hints.add(`istioctl x describe pod $(kubectl get pod -n ${d.cell.target.namespace} -l app=${d.cell.target.service} -o jsonpath='{.items[0].metadata.name}') -n ${d.cell.target.namespace}`);
    if (d.cell.client.sidecar) {
      hints.add(
        `istioctl proxy-config cluster $(kubectl get pod -n ${d.cell.client.namespace} -l ${labelArg(d.cell.client.labels)} -o jsonpath='{.items[0].metadata.name}') -n ${d.cell.client.namespace} --fqdn ${d.cell.target.service}.${d.cell.target.namespace}.svc.cluster.local -o json`,
      );
    }
  }
  hints.add("istioctl proxy-status   # every proxy SYNCED?");
  return [
    `connectivity probe: ${diffs.length} of ${total} cells differ from the prediction after ${attempts} attempt(s) over ${seconds.toFixed(1)} s:`,
    line(head),
    ...rows.map(line),
    "Differences:",
    ...diffs.map((d) => `  ${d.cell.from} to ${d.cell.to}: ${d.problem}`),
    "What to look at:",
    ...[...hints].map((h) => `  ${h}`),
  ].join("\n");
}

function labelArg(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/**
 * Probes until the observed matrix equals the expected one. Resolves with the observed cells;
 * rejects at the deadline with the differences (ProbeMismatchError) or with the last error.
 */
export async function runProbes(cells: ProbeCell[], opts: RunOptions): Promise<RunResult> {
  if (cells.length === 0) return { cells: [], attempts: 0, secondsToConverge: 0, execs: 0 };
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error(`concurrency ${opts.concurrency} is invalid: allowed an integer ≥ 1`);
  const clock = opts.clock ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = opts.log ?? (() => undefined);
  const start = clock();
  const deadline = start + opts.deadlineSeconds * 1000;
  let backoff = opts.initialBackoffMs ?? 2000;
  const maxBackoff = opts.maxBackoffMs ?? 15000;
  let execs = 0;
  const root = opts.expectedRootCertPem !== undefined ? parseExpectedRoot(opts.expectedRootCertPem) : undefined;
  for (let n = 1; ; n++) {
    let failure: Error;
    try {
      if (root) await checkTrust(cells, opts, root);
      const result = await attempt(cells, opts);
      execs += result.execs;
      const diffs: Difference[] = [];
      result.observed.forEach((o, i) => {
        const problem = compareCell(cells[i]!, o);
        if (problem) diffs.push({ cell: cells[i]!, observed: o, problem });
      });
      const seconds = (clock() - start) / 1000;
      if (diffs.length === 0) return { cells: result.observed, attempts: n, secondsToConverge: seconds, execs };
      failure = probeMismatchError(mismatchMessage(diffs, cells.length, n, seconds), diffs, n);
      log(`attempt ${n}: ${diffs.length} of ${cells.length} cells differ`);
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
      log(`attempt ${n}: ${failure.message.split("\n")[0]}`);
    }
    if (clock() + backoff > deadline) {
      if (isProbeMismatchError(failure)) throw failure;
      throw new Error(`connectivity probe failed after ${n} attempt(s) over ${((clock() - start) / 1000).toFixed(1)} s: ${failure.message}`);
    }
    await sleep(backoff);
    backoff = Math.min(backoff * 2, maxBackoff);
  }
}

/** The observed matrix in the seed documents' style: `sleep.foo to httpbin.foo: 200 (mTLS spiffe://…)`. */
export function formatMatrix(cells: ObservedCell[]): string {
  // Drop the port when a service is only probed on one port, as the seed documents print it.
  const ports = new Map<string, Set<string>>();
  for (const c of cells) {
    const [svc, port] = splitTo(c.to);
    if (!ports.has(svc)) ports.set(svc, new Set());
    ports.get(svc)!.add(port);
  }
  return cells
    .map((c) => {
      const [svc] = splitTo(c.to);
      const to = ports.get(svc)!.size > 1 ? c.to : svc;
      const path = c.path === "/headers" ? "" : ` ${c.path}`;
      const code = c.code === 0 ? "000" : String(c.code);
      const detail = c.mtls === true ? `mTLS${c.peerIdentity ? ` ${c.peerIdentity}` : ""}` : c.mtls === false ? "plaintext" : c.code === 0 ? `curl exit ${c.curlExit}` : "";
      return `${c.from} to ${to}${path}: ${code}${detail ? ` (${detail})` : ""}`;
    })
    .join("\n");
}

function splitTo(to: string): [string, string] {
  const i = to.lastIndexOf(":");
  return i < 0 ? [to, ""] : [to.slice(0, i), to.slice(i + 1)];
}
