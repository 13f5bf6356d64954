/**
 * The ConnectivityProbe provider's work, without Pulumi: check its inputs, decide whether the
 * probes run again, and run them. components/connectivity-probe.ts wraps these in the dynamic
 * provider, whose serialized text captures this module by value: only plain functions and values
 * here, client libraries required inside functions.
 *
 * Live mode (input `live`): at probe time the provider reads the cluster (probe/cluster-read.ts,
 * through the same kubeconfig and context as its execs) and predicts the probe clients' cells
 * from what runs there (probe/live.ts): the stack's objects and everything app teams applied.
 * The plan-time cells of other clients (the demo's sleep) keep their prediction and requests.
 * The posture's exceptions then come from the live objects too.
 *
 * Test-only transport: the input `transport: { kind: "fake", scenario }` is honoured only when
 * the environment variable ISTIO_MTLS_PROBE_FAKE_TRANSPORT names a module exporting
 * `fakeTransport(scenario)`; otherwise it is an error, so a stack cannot probe a fake by accident.
 */
import type { ServiceException } from "../mesh/mtls-exceptions";
import type { Cell } from "../mesh/prediction";
import { PLAINTEXT_PROBE_NAMESPACE } from "../mesh/probe-clients";
import { readCluster } from "./cluster-read";
import { probesHash, validateLiveInput, validateProbeInputs, type BearerToken, type LiveInput } from "./inputs";
import { predictLive } from "./live";
import { postureReport, type ServicePosture } from "./posture";
import { formatMatrix, runProbes } from "./runner";
import { kubernetesTransport, type CertificateRequestInfo, type ClusterAccess, type ExecTransport } from "./transport";

export const FAKE_TRANSPORT_ENV = "ISTIO_MTLS_PROBE_FAKE_TRANSPORT";

/** A cert-manager Certificate. */
export interface CertificateRef {
  namespace: string;
  name: string;
}

/** What cert-manager (v1.x, 1.19 included) sets on every CertificateRequest it creates for a Certificate; annotations, not labels. */
export const CERTIFICATE_NAME_ANNOTATION = "cert-manager.io/certificate-name";
export const CERTIFICATE_REVISION_ANNOTATION = "cert-manager.io/certificate-revision";

/** What the provider receives (resolved inputs). */
export interface ProbeInputs {
  /** The predicted cells, each probed with its own request. */
  predicted: Cell[];
  /** The bytes of the end-user tokens the cells carry (secrets). */
  tokens: BearerToken[];
  revision: string;
  alwaysRun: boolean;
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  concurrency: number;
  kubeconfig?: string;
  context?: string;
  expectedRootCertPem?: string;
  expectedRootFromCertificate?: CertificateRef;
  /** The reviewed exceptions covering each Service port (mesh/mtls-exceptions.ts), for the posture report; in live mode read live instead. */
  exceptions: ServiceException[];
  /** Live mode: predict the probe clients' cells at probe time from a read of the cluster. */
  live?: LiveInput;
  transport?: { kind: "fake"; scenario: unknown };
}

/** What the provider stores: only hashes of the inputs (no kubeconfig, no tokens) plus the observed table. */
export interface ProbeOutputs {
  revision: string;
  probesHash: string;
  alwaysRun: boolean;
  /** The observed cells, one per probed cell: the plan-time ones first, then the live ones. */
  cells: Cell[];
  /** Cells predicted before apply (from the stack's own objects) and probed as such. */
  predictedBeforeApply: number;
  /** Cells predicted live, at probe time, from a read of the cluster (0 without live mode). */
  predictedLive: number;
  /** What the live prediction noted (objects the model does not read, ports not probed), one line each. */
  notices: string[];
  table: string;
  attempts: number;
  secondsToConverge: number;
  execs: number;
  /** Per Service port of the observed cells: what it accepts and who reached it how (probe/posture.ts). */
  posture: ServicePosture[];
  /** The posture in one line, e.g. "9 service ports: 6 refuse plaintext; 1 accepts it under exceptions …". */
  summary: string;
}

/** Shown for inputs not known until apply. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The cluster the execs and the live read go to: the Kubernetes provider's kubeconfig and context. */
function accessOf(inputs: ProbeInputs): ClusterAccess {
  return {
    ...(inputs.kubeconfig ? { kubeconfig: inputs.kubeconfig } : {}),
    ...(inputs.context ? { context: inputs.context } : {}),
  };
}

function transportFor(inputs: ProbeInputs): ExecTransport {
  if (inputs.transport !== undefined) {
    const modulePath = process.env[FAKE_TRANSPORT_ENV];
    if (inputs.transport?.kind !== "fake" || !modulePath) {
      throw new Error(`transport ${JSON.stringify(inputs.transport?.kind)} is for tests only and needs ${FAKE_TRANSPORT_ENV} set to a module path; remove the transport input to probe the cluster`);
    }
    return require(modulePath).fakeTransport(inputs.transport.scenario);
  }
  return kubernetesTransport(accessOf(inputs));
}

/**
 * The root that signed Certificate `cert`: status.ca (base64 PEM) of its newest CertificateRequest,
 * which cert-manager's CA issuer fills with the top of its signing chain, i.e. the self-signed root.
 * The newest revision must be Ready: an older request's CA may be a root since replaced. Anything
 * short of a PEM certificate is an error, never a pass.
 */
export function expectedRootFromRequests(cert: CertificateRef, requests: CertificateRequestInfo[]): string {
  const where = `Certificate ${cert.namespace}/${cert.name}`;
  const mine = requests.filter((r) => r.annotations[CERTIFICATE_NAME_ANNOTATION] === cert.name);
  if (mine.length === 0) {
    throw new Error(
      `trust check: no CertificateRequest of ${where} (annotation ${CERTIFICATE_NAME_ANNOTATION}=${cert.name}) in namespace ${cert.namespace}; ` +
        `cert-manager creates one when it issues the intermediate CA, and its status.ca is the root the check expects. ` +
        `See kubectl describe certificate ${cert.name} -n ${cert.namespace}`,
    );
  }
  const revisioned = mine.map((r) => {
    const raw = r.annotations[CERTIFICATE_REVISION_ANNOTATION];
    if (raw === undefined || !/^\d+$/.test(raw)) {
      throw new Error(
        `trust check: CertificateRequest ${cert.namespace}/${r.name} has ${CERTIFICATE_REVISION_ANNOTATION} ${JSON.stringify(raw)}; allowed: the revision number cert-manager sets`,
      );
    }
    return { request: r, revision: Number(raw) };
  });
  const { request, revision } = revisioned.sort((a, b) => b.revision - a.revision)[0]!;
  const name = `CertificateRequest ${cert.namespace}/${request.name}`;
  const ready = request.conditions.find((c) => c.type === "Ready");
  if (ready?.status !== "True") {
    const state = ready ? `Ready=${ready.status}${ready.reason ? ` (${ready.reason})` : ""}${ready.message ? `: ${ready.message}` : ""}` : "no Ready condition";
    throw new Error(
      `trust check: ${name} (revision ${revision}) is not Ready: ${state}; it is the newest request of ${where}, whose status.ca is the root the check expects. ` +
        `Wait for cert-manager to issue it (kubectl describe certificaterequest ${request.name} -n ${cert.namespace}) and run the probe again`,
    );
  }
  const pem = Buffer.from(request.ca ?? "", "base64").toString("utf8");
  if (!pem.trim()) throw new Error(`trust check: ${name} has no status.ca (revision ${revision}, Ready); cert-manager's CA issuer records the root there`);
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`trust check: ${name} status.ca is not a PEM certificate`);
  return pem;
}

/** The root PEM the trust check expects: given inline, or from the intermediate's CertificateRequest. */
async function expectedRoot(inputs: ProbeInputs, transport: ExecTransport): Promise<string | undefined> {
  // Given, even empty: the runner rejects an empty root; dropping it would turn the check off.
  if (inputs.expectedRootCertPem !== undefined) return inputs.expectedRootCertPem;
  const cert = inputs.expectedRootFromCertificate;
  if (!cert) return undefined;
  return expectedRootFromRequests(cert, await transport.listCertificateRequests(cert.namespace));
}

/** Today in UTC, YYYY-MM-DD: an exception is allowed through its `expires` day. */
function todayUtc(): string {
  return new Date().toISOString().slice(0, 10);
}

/** What to probe: the plan-time cells, or in live mode those of other clients and the live prediction. */
interface ProbeSet {
  cells: Cell[];
  beforeApply: number;
  exceptions: ServiceException[];
  notices: string[];
}

async function probeSet(inputs: ProbeInputs): Promise<ProbeSet> {
  const { live } = inputs;
  if (!live) return { cells: inputs.predicted, beforeApply: inputs.predicted.length, exceptions: inputs.exceptions ?? [], notices: [] };
  const read = await readCluster(accessOf(inputs), { namespaces: live.namespaces, optionalNamespaces: [PLAINTEXT_PROBE_NAMESPACE], istioNamespace: live.istioNamespace });
  // Explicit clients: a probe client the stack deployed but the read lacks is an error, not a notice.
  const predicted = predictLive(read, { clients: live.clients });
  const probeClients = new Set(live.clients);
  const before = inputs.predicted.filter((c) => !probeClients.has(c.from));
  return {
    cells: [...before, ...predicted.cells],
    beforeApply: before.length,
    exceptions: predicted.exceptions,
    notices: [...read.notices, ...predicted.notices],
  };
}

/** Probes the cluster; resolves with the observed table and its posture, rejects when it differs from the predicted one. */
export async function runProbe(inputs: ProbeInputs): Promise<ProbeOutputs> {
  const transport = transportFor(inputs);
  const set = await probeSet(inputs);
  const rootPem = await expectedRoot(inputs, transport);
  const result = await runProbes(set.cells, {
    transport,
    requestTimeoutSeconds: inputs.requestTimeoutSeconds,
    deadlineSeconds: inputs.deadlineSeconds,
    concurrency: inputs.concurrency,
    tokens: inputs.tokens,
    ...(rootPem !== undefined ? { expectedRootCertPem: rootPem } : {}),
  });
  const posture = postureReport(result.cells, set.exceptions, todayUtc());
  return {
    revision: inputs.revision,
    probesHash: probesHash(inputs.predicted, inputs.tokens, inputs.live),
    alwaysRun: inputs.alwaysRun,
    cells: result.cells,
    predictedBeforeApply: set.beforeApply,
    predictedLive: set.cells.length - set.beforeApply,
    notices: set.notices,
    table: formatMatrix(result.cells),
    attempts: result.attempts,
    secondsToConverge: Math.round(result.secondsToConverge * 10) / 10,
    execs: result.execs,
    posture: posture.services,
    summary: posture.summary,
  };
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Why the probes would run again for these inputs, or undefined. */
export function rerunReason(olds: Partial<ProbeOutputs>, news: ProbeInputs): string | undefined {
  if (news.alwaysRun) return "alwaysRun is set";
  if (containsUnknown(news.revision) || containsUnknown(news.predicted) || containsUnknown(news.tokens)) return "inputs are not known until apply";
  if (olds.revision !== news.revision) return "the deployed policy objects changed (revision)";
  if (olds.probesHash !== probesHash(news.predicted, news.tokens, news.live)) return "the probe set changed";
  return undefined;
}

/** The provider's check: every problem with the inputs; values not known yet (preview) are checked again when known. */
export function checkProbeInputs(news: ProbeInputs): { property: string; reason: string }[] {
  const failures = validateProbeInputs(containsUnknown(news.predicted) ? [] : news.predicted, containsUnknown(news.tokens) ? undefined : (news.tokens ?? []), news, news.revision);
  if (news.exceptions !== undefined && !Array.isArray(news.exceptions)) {
    failures.push({ property: "exceptions", reason: `exceptions is ${typeof news.exceptions}: expected the reviewed exceptions covering each Service port` });
  }
  if (news.live !== undefined) failures.push(...validateLiveInput(news.live, news.exceptions));
  if (news.transport !== undefined && news.transport?.kind !== "fake") {
    failures.push({ property: "transport", reason: `transport.kind is ${JSON.stringify(news.transport?.kind)}: only "fake" (tests) is allowed; omit it to probe the cluster` });
  }
  return failures;
}
