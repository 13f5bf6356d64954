/**
 * Runs the connectivity probes in the cluster: each predicted cell's own request, from a pod of
 * its client, and compares the observed table with the predicted one (probe/observe.ts). One exec
 * per client pod (its script sends all of that client's requests), a bounded number of execs at
 * once, and retries with backoff until the tables agree or the deadline passes: Istio config takes
 * seconds to reach the proxies after `pulumi up` applies it.
 */
import type { X509Certificate } from "node:crypto";
import { codeText } from "../mesh/matrix";
import { DEFAULT_REQUEST, type Cell } from "../mesh/prediction";
import { bearerOf, scriptTarget, type BearerToken } from "./inputs";
import { describeExpected, diffTables, observedCell, requestText, type Difference } from "./observe";
import { parseProbeOutput } from "./parse";
import { probeScript, type ScriptTarget } from "./script";
import type { ExecTransport, PodInfo } from "./transport";

export interface RunOptions {
  transport: ExecTransport;
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  /** How many client pods are exec'd at once. */
  concurrency: number;
  /** The bytes of the end-user tokens the cells' requests carry (see BearerToken). */
  tokens?: readonly BearerToken[];
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
  /** The observed table: one cell per predicted cell, in the same order. */
  cells: Cell[];
  attempts: number;
  secondsToConverge: number;
  execs: number;
}

export const PROXY_CONTAINER = "istio-proxy";
const ROOT_CERT_CONFIGMAP = "istio-ca-root-cert";
const ROOT_CERT_KEY = "root-cert.pem";

/**
 * The deadline error when the tables do not agree. A plain Error with fields, not a subclass:
 * the provider's serializer does not rebuild Error subclasses faithfully (their message is lost).
 */
export type ProbeMismatchError = Error & { name: "ProbeMismatchError"; differences: Difference[]; attempts: number } & Partial<LastAttempt>;

/** The last attempt of a run that did not converge: its whole observed table (one cell per predicted cell), for a report of every cell. */
export interface LastAttempt {
  observed: Cell[];
  execs: number;
  seconds: number;
}

export function probeMismatchError(message: string, differences: Difference[], attempts: number, last?: LastAttempt): ProbeMismatchError {
  return Object.assign(new Error(message), { name: "ProbeMismatchError" as const, differences, attempts, ...last });
}

export function isProbeMismatchError(e: unknown): e is ProbeMismatchError {
  return e instanceof Error && e.name === "ProbeMismatchError";
}

/**
 * The container the probe script runs in: the pod's one regular container other than istio-proxy
 * (`sleep` in the demo, `probe` in the probe clients), so any curl client workload can be one.
 * Several such containers: the pod does not say which one has curl, so it is an error naming them.
 */
export function probeContainer(pod: PodInfo): { name: string } | { problem: string } {
  const apps = pod.containers.filter((c) => !c.init && c.name !== PROXY_CONTAINER);
  if (apps.length === 1) return { name: apps[0]!.name };
  if (apps.length === 0) return { problem: `no container other than ${PROXY_CONTAINER} to run the probe in` };
  return { problem: `containers ${apps.map((c) => c.name).join(", ")} besides ${PROXY_CONTAINER}: cannot tell which one runs the probe (a client needs exactly one)` };
}

/** Readiness: Running, not terminating, the probe container ready, and `istio-proxy` ready when the client has a sidecar. */
export function podReady(pod: PodInfo, sidecar: boolean): string | undefined {
  if (pod.terminating) return "terminating";
  if (pod.phase !== "Running") return `phase ${pod.phase}`;
  const app = probeContainer(pod);
  if ("problem" in app) return app.problem;
  const wanted = sidecar ? [app.name, PROXY_CONTAINER] : [app.name];
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
  client: Cell["client"];
  /** Indexes into the table of cells (and of their script targets). */
  indexes: number[];
}

function groupByClient(cells: readonly Cell[]): ClientGroup[] {
  const groups = new Map<string, ClientGroup>();
  cells.forEach((cell, index) => {
    const key = `${cell.client.namespace}/${cell.client.name}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { client: cell.client, indexes: [] }));
    g.indexes.push(index);
  });
  return [...groups.values()];
}

/** One attempt: every client probed once. Throws on a missing pod, a failed exec or bad output. */
async function attempt(cells: readonly Cell[], targets: readonly ScriptTarget[], opts: RunOptions): Promise<{ observed: Cell[]; execs: number }> {
  const observed: Cell[] = new Array(cells.length);
  let execs = 0;
  await boundedAll(
    groupByClient(cells).map((g) => async () => {
      const pods = await opts.transport.listPods(g.client.namespace, g.client.labels);
      const sorted = [...pods].sort((a, b) => a.name.localeCompare(b.name));
      const pod = sorted.find((p) => podReady(p, g.client.sidecar) === undefined);
      if (!pod) {
        const found = sorted.map((p) => `${p.name}: ${podReady(p, g.client.sidecar)}`).join("; ") || "no pods";
        throw new Error(`no ready pod for client ${g.client.name}.${g.client.namespace} (labels ${JSON.stringify(g.client.labels)}): ${found}`);
      }
      const mine = g.indexes.map((i) => targets[i]!);
      const script = probeScript(mine, { requestTimeoutSeconds: opts.requestTimeoutSeconds, ...(opts.connectTo ? { connectTo: opts.connectTo } : {}) });
      // The script runs its curls one after another: allow each its timeout plus slack for the exec itself.
      const timeoutMs = (mine.length * opts.requestTimeoutSeconds + 15) * 1000;
      execs++;
      const container = (probeContainer(pod) as { name: string }).name;
      const res = await opts.transport.exec(pod.namespace, pod.name, container, ["sh", "-c", script], timeoutMs);
      if (res.exitCode !== 0) {
        throw new Error(`probe script in ${pod.namespace}/${pod.name} exited ${res.exitCode}: ${res.stderr.trim() || "(no stderr)"}`);
      }
      const parsed = parseProbeOutput(res.stdout, mine.map((t) => t.id));
      for (const i of g.indexes) observed[i] = observedCell(cells[i]!, parsed.get(targets[i]!.id)!);
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
async function checkTrust(cells: readonly Cell[], opts: RunOptions, root: X509Certificate): Promise<void> {
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
  const rows = diffs.map((d) => [d.cell.from, requestText(d.cell), describeExpected(d.cell), d.observed.reason, d.cell.reason]);
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
 * Probes until the observed table equals the predicted one. Resolves with the observed cells;
 * rejects at the deadline with the differences (ProbeMismatchError) or with the last error.
 * A cell whose request the probe cannot send as predicted (a token without its bytes, a method
 * curl cannot send plainly) is an error before anything runs, never a probe of another request.
 */
export async function runProbes(cells: readonly Cell[], opts: RunOptions): Promise<RunResult> {
  if (cells.length === 0) return { cells: [], attempts: 0, secondsToConverge: 0, execs: 0 };
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) throw new Error(`concurrency ${opts.concurrency} is invalid: allowed an integer ≥ 1`);
  const tokens = opts.tokens ?? [];
  const targets = cells.map((cell, i) => scriptTarget(cell, `c${i}`, bearerOf(cell, tokens)));
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
      const result = await attempt(cells, targets, opts);
      execs += result.execs;
      const diffs = diffTables(cells, result.observed);
      const seconds = (clock() - start) / 1000;
      if (diffs.length === 0) return { cells: result.observed, attempts: n, secondsToConverge: seconds, execs };
      failure = probeMismatchError(mismatchMessage(diffs, cells.length, n, seconds), diffs, n, { observed: result.observed, execs, seconds });
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

/** The observed table in the seed documents' style: `sleep.foo to httpbin.foo: 200 (mTLS spiffe://…)`. */
export function formatMatrix(cells: readonly Cell[]): string {
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
      const { method, path } = c.request;
      const request = `${method === DEFAULT_REQUEST.method ? "" : ` ${method}`}${path === DEFAULT_REQUEST.path ? "" : ` ${path}`}`;
      const e = c.evidence;
      const detail = e?.mtlsShown ? (c.mtls ? `mTLS${c.clientIdentity ? ` ${c.clientIdentity}` : ""}` : "plaintext") : c.code === 0 && e ? `curl exit ${e.curlExit}` : "";
      return `${c.from} to ${to}${request}: ${codeText(c.code)}${detail ? ` (${detail})` : ""}`;
    })
    .join("\n");
}

function splitTo(to: string): [string, string] {
  const i = to.lastIndexOf(":");
  return i < 0 ? [to, ""] : [to.slice(0, i), to.slice(i + 1)];
}
