/**
 * `istio-mtls verify --kube`: proves the mesh that is running, outside Pulumi. Reads the cluster's
 * objects (probe/cluster-read.ts), predicts the cells from the probe clients (mesh/probe-clients.ts;
 * --from names others) to every Service port in scope, probes them through the connectivity
 * probe's runner (one exec per client, concurrent) and prints both tables.
 *
 * Exit 0 when every cell matches, 1 when one differs, 2 on an error (usage, a cluster that cannot
 * be read, a client pod that cannot be probed, a failed trust check).
 */
import { readFileSync } from "node:fs";
import { InvalidArgumentError, Option, type Command } from "commander";
import { MATRIX_FORMATS, type MatrixFormat } from "../../mesh/matrix";
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_NAME } from "../../mesh/probe-clients";
import { PROBE_DEFAULTS, PROBE_MAXIMA } from "../../mesh/settings";
import { isUnknownClientError, predictLive, type LivePrediction } from "../../probe/live";
import { expectedRootFromRequests } from "../../probe/provider";
import { isProbeMismatchError, runProbes, type RunResult } from "../../probe/runner";
import { kubernetesTransport, type ClusterAccess, type ExecTransport } from "../../probe/transport";
import { EXIT_CHANGES, EXIT_INVALID, EXIT_OK, UsageError, type CliIO } from "../command";
import { addKubeOptions, clusterAccess, readKube, type KubeOptions } from "../kube-input";
import { request } from "../matrix-input";
import { formatVerify, type VerifyResult } from "../verify-report";

/** A running mesh has converged: retries only ride out a pod restarting, so the deadline is shorter than the stack's. */
export const VERIFY_DEADLINE_SECONDS = 30;

export interface VerifyOptions extends KubeOptions {
  from: string[];
  path: string;
  method: string;
  format: MatrixFormat;
  requestTimeout: number;
  deadline: number;
  concurrency: number;
  expectedRoot?: string;
  rootFromCertificate?: string;
}

export interface VerifyDeps {
  /** The exec transport for the kubeconfig; tests give a fake cluster. */
  transport?: (access: ClusterAccess) => ExecTransport;
}

function seconds(max: number, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`allowed: a whole number ${min}..${max}`);
    return n;
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

/** `namespace/name` of a cert-manager Certificate. */
function certificateRef(value: string): { namespace: string; name: string } {
  const m = /^([a-z0-9][a-z0-9.-]*)\/([a-z0-9][a-z0-9.-]*)$/.exec(value);
  if (!m) throw new UsageError(`--root-from-certificate ${JSON.stringify(value)}: allowed: <namespace>/<name> of a cert-manager Certificate`);
  return { namespace: m[1]!, name: m[2]! };
}

export async function runVerify(opts: VerifyOptions, io: CliIO, deps: VerifyDeps = {}): Promise<number> {
  if (!opts.kube) throw new UsageError("verify probes a live cluster: pass --kube (with --context, --namespace or --all-namespaces as needed)");
  const certificate = opts.rootFromCertificate !== undefined ? certificateRef(opts.rootFromCertificate) : undefined;
  let expectedRootPem: string | undefined;
  if (opts.expectedRoot !== undefined) {
    try {
      expectedRootPem = readFileSync(opts.expectedRoot, "utf8");
    } catch (e) {
      throw new UsageError(`--expected-root ${opts.expectedRoot}: ${(e as Error).message}`);
    }
  }
  const fail = (message: string) => {
    io.stderr(`error: ${message}\n`);
    return EXIT_INVALID;
  };
  try {
    const read = await readKube(opts, io, [PLAINTEXT_PROBE_NAMESPACE]);
    let live: LivePrediction;
    try {
      live = predictLive(read, { clients: opts.from, request: request({ ...opts, jwtAudience: [] }) });
    } catch (e) {
      if (isUnknownClientError(e)) throw new UsageError(`--from ${e.unknown.map((u) => JSON.stringify(u)).join(", ")}: no such client workload in the input (workloads: ${e.workloads.join(", ") || "none"})`);
      throw e;
    }
    const { clients, cells } = live;
    // Nothing to send is not a proof: the stack may report 0 service ports, verify may not pass.
    if (cells.length === 0) return fail(`no Service port to probe in ${read.scope.join(", ")}`);
    for (const n of live.notices) io.stderr(`${n}\n`);

    const transport = (deps.transport ?? kubernetesTransport)(clusterAccess(opts));
    if (certificate) expectedRootPem = expectedRootFromRequests(certificate, await transport.listCertificateRequests(certificate.namespace));
    let result: RunResult;
    let mismatch = false;
    try {
      result = await runProbes(cells, {
        transport,
        requestTimeoutSeconds: opts.requestTimeout,
        deadlineSeconds: opts.deadline,
        concurrency: opts.concurrency,
        ...(expectedRootPem !== undefined ? { expectedRootCertPem: expectedRootPem } : {}),
        log: (m) => io.stderr(`verify: ${m}\n`),
      });
    } catch (e) {
      // Differing cells: the report shows the last attempt's whole table, not only the error's.
      if (!isProbeMismatchError(e) || !e.observed) throw e;
      result = { cells: e.observed, attempts: e.attempts, secondsToConverge: e.seconds ?? 0, execs: e.execs ?? 0 };
      mismatch = true;
    }
    const report: VerifyResult = {
      context: read.context,
      scope: read.scope,
      clients,
      predicted: cells,
      observed: result.cells,
      attempts: result.attempts,
      seconds: result.secondsToConverge,
      execs: result.execs,
    };
    io.stdout(formatVerify(report, opts.format));
    return mismatch ? EXIT_CHANGES : EXIT_OK;
  } catch (e) {
    // Usage errors go to runCli; a TypeError and its kin are defects, shown with their stack.
    if (e instanceof UsageError || e instanceof TypeError || e instanceof ReferenceError || e instanceof SyntaxError) throw e;
    // A cluster that cannot be read or probed, a failed trust check: the message says what and where.
    if (e instanceof Error) return fail(e.message);
    throw e;
  }
}

export function registerVerifyCommand(program: Command, io: CliIO, setExit: (code: number) => void, deps: VerifyDeps = {}): Command {
  return addKubeOptions(
    program
      .command("verify")
      .description("predict a live cluster (--kube) and probe it from its probe clients: exit 0 when every cell matches the prediction, 1 when one differs, 2 on an error")
      .option("--from <workload>", `client workloads <name>.<namespace> (repeatable or comma-separated; default: the probe clients, ${PROBE_CLIENT_NAME}.<namespace>)`, collect, [])
      .option("--path <path>", "request path of the probe", "/headers")
      .option("--method <method>", "request method of the probe", "GET")
      .addOption(new Option("-f, --format <format>", "output format").choices(MATRIX_FORMATS).default("table"))
      .option("--request-timeout <seconds>", "timeout of each request", seconds(PROBE_MAXIMA.requestTimeoutSeconds, 1), PROBE_DEFAULTS.requestTimeoutSeconds)
      .option("--deadline <seconds>", "retry differing cells until then (0: one attempt)", seconds(PROBE_MAXIMA.deadlineSeconds, 0), VERIFY_DEADLINE_SECONDS)
      .option("--concurrency <n>", "client pods exec'd at once", seconds(PROBE_MAXIMA.concurrency, 1), PROBE_DEFAULTS.concurrency)
      .option("--expected-root <pem-file>", "trust check: istio-ca-root-cert in every probed namespace must hold this root certificate")
      .addOption(
        new Option("--root-from-certificate <namespace/name>", "trust check: the root is status.ca of the newest CertificateRequest of this cert-manager Certificate (the stack's istio-system/cacerts)").conflicts("expectedRoot"),
      ),
  ).action(async (opts: VerifyOptions) => setExit(await runVerify(opts, io, deps)));
}
