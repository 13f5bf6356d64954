/**
 * Live prediction: from a read of the cluster (probe/cluster-read.ts), the cells to probe, with
 * what the probe needs besides (connection-level ports, the exceptions for the posture report).
 * The one home of that rule for `verify --kube` and the ConnectivityProbe's provider, whose
 * serialized text captures this module by value: plain functions only, no Pulumi, no CLI.
 *
 * Cells: each client to each Service port of the read's scope, predicted by the model from every
 * object read (the stack's and the app teams'), marked where a networking object the model does
 * not read could change them, each target with the check the probe can make there
 * (probe/port-protocol.ts). UDP and SCTP ports are not probed (probe/port-protocol.ts), with a
 * notice. No client is an error. No Service port in scope (a production namespace before its
 * applications arrive) gives no cell and says so: callers decide whether that may pass (the stack
 * reports "0 service ports"; `verify` refuses to prove nothing).
 */
import { modelExceptions, type ServiceException } from "../mesh/mtls-exceptions";
import { ModelInputError, ModelInputErrors } from "../mesh/model/errors";
import { buildModel } from "../mesh/model/index";
import { notModelledNotice, predictBuilt } from "../mesh/predict";
import type { Cell, CellRequest } from "../mesh/prediction";
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_NAME, probeClientName } from "../mesh/probe-clients";
import type { ClusterRead } from "./cluster-read";
import { portChecks } from "./port-protocol";

export interface LiveOptions {
  /** `<workload>.<namespace>` of the clients; each must be a workload of the read. Default: the probe clients of the scope and the plaintext one, those running. */
  clients?: readonly string[];
  /** The request every cell sends; unset parts are DEFAULT_REQUEST's. */
  request?: Partial<CellRequest>;
}

export interface LivePrediction {
  /** The clients the cells are sent from: as named, else the probe clients sorted. */
  clients: string[];
  cells: Cell[];
  /** One line each: objects the model does not read, what it assumed, clients missing, ports not probed. */
  notices: string[];
  /** The reviewed exceptions covering each Service port of the read, for the posture report. */
  exceptions: ServiceException[];
}

/** Named clients that are no workload of the read; `unknown` and `workloads` let the CLI word it as its own usage error. */
export type UnknownClientError = Error & { name: "UnknownClientError"; unknown: string[]; workloads: string[] };

export function isUnknownClientError(e: unknown): e is UnknownClientError {
  return e instanceof Error && e.name === "UnknownClientError";
}

/** The model's errors, named by the context they were read from (the serializer keeps no Error subclass across). */
function located(read: ClusterRead, e: unknown): unknown {
  if (e instanceof ModelInputErrors) return new Error(e.errors.map((x) => `context ${read.context}: ${x.message}`).join("\n"));
  if (e instanceof ModelInputError) return new Error(`context ${read.context}: ${e.message}`);
  return e;
}

/** The default clients: the probe client of each scope namespace and the plaintext one, those the read holds; notices for the rest. */
function probeClients(read: ClusterRead, available: ReadonlySet<string>, notices: string[]): string[] {
  const without = read.scope.filter((ns) => ns !== PLAINTEXT_PROBE_NAMESPACE && !available.has(probeClientName(ns)));
  if (without.length > 0) {
    notices.push(`no running probe client (Deployment ${PROBE_CLIENT_NAME}) in ${without.length === 1 ? "namespace" : "namespaces"} ${without.join(", ")}: no request is sent from ${without.length === 1 ? "it" : "them"} (their Services are still probed from the others)`);
  }
  if (!available.has(probeClientName(PLAINTEXT_PROBE_NAMESPACE))) {
    notices.push(`no running plaintext probe client (Deployment ${PROBE_CLIENT_NAME} in namespace ${PLAINTEXT_PROBE_NAMESPACE}): nothing shows that STRICT ports refuse clients without a sidecar`);
  }
  return [...new Set([...read.scope, PLAINTEXT_PROBE_NAMESPACE].map(probeClientName))].filter((c) => available.has(c)).sort();
}

/** Predicts the read cluster; throws when there is no client to send from. */
export function predictLive(read: ClusterRead, options: LiveOptions = {}): LivePrediction {
  const notices: string[] = [];
  for (const o of read.objects) {
    const n = notModelledNotice(o);
    if (n) notices.push(n);
  }
  // One model for the cells, the clients and the exceptions; the installed revisions come from the webhooks read.
  let model: ReturnType<typeof buildModel>;
  let probes: Cell[];
  try {
    model = buildModel(read.objects);
    probes = predictBuilt(model, read.objects, { ...(options.request ? { request: options.request } : {}), markNotModelled: true, notice: (n) => notices.push(n) }).probes;
  } catch (e) {
    throw located(read, e);
  }
  const available = new Set(model.workloads.filter((w) => w.running).map((w) => w.id));
  let clients: string[];
  if (options.clients !== undefined && options.clients.length > 0) {
    clients = [...new Set(options.clients)];
    const unknown = clients.filter((c) => !available.has(c));
    if (unknown.length > 0) {
      const workloads = [...available];
      throw Object.assign(new Error(`no such client workload in context ${read.context}: ${unknown.join(", ")} (workloads: ${workloads.join(", ") || "none"})`), {
        name: "UnknownClientError" as const,
        unknown,
        workloads,
      });
    }
  } else {
    clients = probeClients(read, available, notices);
  }
  if (clients.length === 0) {
    throw new Error(`no probe client runs in ${read.scope.join(", ")} or ${PLAINTEXT_PROBE_NAMESPACE}: deploy them (the stack's probe.enabled) or name client workloads with --from`);
  }
  const inScope = new Set(read.scope);
  const checks = portChecks(read.objects);
  const wanted = new Set(clients);
  const skipped = new Set<string>();
  const cells: Cell[] = [];
  for (const c of probes) {
    if (!wanted.has(c.from) || !inScope.has(c.target.namespace)) continue;
    const check = checks.get(c.to);
    // Every Service port the model predicts is one of the read's Services.
    if (check === undefined) throw new Error(`context ${read.context}: no Service port ${c.to} in the read`);
    if (check === "none") skipped.add(c.to);
    else cells.push({ ...c, target: { ...c.target, check } });
  }
  if (skipped.size > 0) notices.push(`not probed (UDP or SCTP; the probe sends HTTP over TCP): ${[...skipped].sort().join(", ")}`);
  if (cells.length === 0) notices.push(`no Service port to probe in ${read.scope.join(", ")}: nothing is proven until one runs there`);
  return {
    clients,
    cells,
    notices,
    exceptions: modelExceptions(model, read.objects),
  };
}
