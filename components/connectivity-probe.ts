/**
 * ConnectivityProbe: after `pulumi up` applies the mesh, runs the sleep.X → httpbin.Y probes in
 * the cluster and fails the deployment when the observed matrix differs from the model's.
 *
 * A dynamic resource (token `pulumi-nodejs:dynamic/probe:ConnectivityProbe`). Its provider is
 * serialized into the state and run by the engine's dynamic-provider host from that text, so it
 * captures only pure functions of probe/ and requires client libraries inside its methods.
 *
 * When it runs: on create, and on update when `revision` (hash of the deployed policy objects)
 * or the probe set changes, or on every `pulumi up` with `alwaysRun`. Its diff is what preview
 * shows: "update" means the probes will run again. Nothing runs during preview (the engine
 * calls create/update only when applying).
 *
 * Test-only transport: the input `transport: { kind: "fake", scenario }` is honoured only when
 * the environment variable ISTIO_MTLS_PROBE_FAKE_TRANSPORT names a module exporting
 * `fakeTransport(scenario)`; otherwise it is an error, so a stack cannot probe a fake by accident.
 *
 * Cluster access: the Kubernetes provider's `kubernetes:kubeconfig` (a path or the document) and
 * `kubernetes:context`, or its default loading. It reads only public material (no Secret, so no
 * private key can leak through the probe), and its identity needs exactly:
 *   - pods: `list`, and pods/exec: `create` and `get`, in each client namespace (the sleep.X
 *     pods). client-node execs over a WebSocket, a GET that the API server authorizes as `get`;
 *     newer Kubernetes versions also require `create` for it (AuthorizePodWebsocketUpgradeCreatePermission).
 *   - configmaps: `get` in each probed namespace (istiod's istio-ca-root-cert), with the cert-manager CA.
 *   - certificaterequests.cert-manager.io: `list` in the intermediate CA Certificate's namespace
 *     (istiod's, where `cacerts` is issued), with the cert-manager CA.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Prediction } from "../mesh/prediction";
import { cellsFromClients, PROBE_DEFAULTS, probeClientsFromPrediction, probesHash, validateProbeInputs, type OutcomeWithRequest, type ProbeClientInput } from "../probe/inputs";
import { formatMatrix, runProbes, type ObservedCell } from "../probe/runner";
import { kubernetesTransport, type CertificateRequestInfo, type ExecTransport } from "../probe/transport";

export const FAKE_TRANSPORT_ENV = "ISTIO_MTLS_PROBE_FAKE_TRANSPORT";

/** A cert-manager Certificate. */
export interface CertificateRef {
  namespace: string;
  name: string;
}

/** What cert-manager (v1.x, 1.19 included) sets on every CertificateRequest it creates for a Certificate; annotations, not labels. */
export const CERTIFICATE_NAME_ANNOTATION = "cert-manager.io/certificate-name";
export const CERTIFICATE_REVISION_ANNOTATION = "cert-manager.io/certificate-revision";

export interface ConnectivityProbeArgs {
  /** The model's prediction; its cells are probed, grouped by client. Give this or `clients`. */
  prediction?: Prediction;
  /** Token bytes for cells whose request carries an end-user token (passed as secrets). */
  tokenFor?: (outcome: OutcomeWithRequest) => pulumi.Input<string> | undefined;
  /** The probe set itself, already grouped by client (see probeClientsFromPrediction). */
  clients?: pulumi.Input<ProbeClientInput[]>;
  /** Hash of the deployed policy objects: the probes run again when it changes, and only then. */
  revision: pulumi.Input<string>;
  /** Run on every `pulumi up`, even with nothing changed. Default false. */
  alwaysRun?: boolean;
  /** Per-request curl timeout. Default PROBE_DEFAULTS (probe/inputs.ts), as in the stack config. */
  requestTimeoutSeconds?: number;
  /** Retry until the matrix converges or this many seconds pass. Default PROBE_DEFAULTS. */
  deadlineSeconds?: number;
  /** Client pods exec'd at once. Default PROBE_DEFAULTS. */
  concurrency?: number;
  /**
   * `kubernetes:kubeconfig` (stored as a secret): a kubeconfig file's path or the document, read as the
   * Kubernetes provider reads it; omitted: default loading ($KUBECONFIG, ~/.kube/config, in-cluster).
   */
  kubeconfig?: pulumi.Input<string>;
  /** Kubeconfig context; omitted: the current one. */
  context?: pulumi.Input<string>;
  /** The stack CA's root certificate (PEM): istiod's istio-ca-root-cert must hold it. Omit when istiod's own CA is used. */
  expectedRootCertPem?: pulumi.Input<string>;
  /**
   * The intermediate CA Certificate that the stack's root signs (istiod's `cacerts`): the expected root
   * is `status.ca` of its newest CertificateRequest, read at probe time, so neither a key nor the root
   * Secret is read or passes through Pulumi state. Alternative to expectedRootCertPem.
   */
  expectedRootFromCertificate?: CertificateRef;
  /** Tests only; see the module comment. */
  transport?: { kind: "fake"; scenario: unknown };
}

/** What the provider receives (resolved inputs). */
interface ProviderInputs {
  clients: ProbeClientInput[];
  revision: string;
  alwaysRun: boolean;
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  concurrency: number;
  kubeconfig?: string;
  context?: string;
  expectedRootCertPem?: string;
  expectedRootFromCertificate?: CertificateRef;
  transport?: { kind: "fake"; scenario: unknown };
}

/** What the provider stores: only hashes of the inputs (no kubeconfig, no tokens) plus the results. */
interface ProviderOutputs {
  revision: string;
  probesHash: string;
  alwaysRun: boolean;
  cells: ObservedCell[];
  table: string;
  attempts: number;
  secondsToConverge: number;
  execs: number;
}

/** Shown for inputs not known until apply. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function transportFor(inputs: ProviderInputs): ExecTransport {
  if (inputs.transport !== undefined) {
    const modulePath = process.env[FAKE_TRANSPORT_ENV];
    if (inputs.transport?.kind !== "fake" || !modulePath) {
      throw new Error(`transport ${JSON.stringify(inputs.transport?.kind)} is for tests only and needs ${FAKE_TRANSPORT_ENV} set to a module path; remove the transport input to probe the cluster`);
    }
    return require(modulePath).fakeTransport(inputs.transport.scenario);
  }
  return kubernetesTransport({
    ...(inputs.kubeconfig ? { kubeconfig: inputs.kubeconfig } : {}),
    ...(inputs.context ? { context: inputs.context } : {}),
  });
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
async function expectedRoot(inputs: ProviderInputs, transport: ExecTransport): Promise<string | undefined> {
  // Given, even empty: the runner rejects an empty root; dropping it would turn the check off.
  if (inputs.expectedRootCertPem !== undefined) return inputs.expectedRootCertPem;
  const cert = inputs.expectedRootFromCertificate;
  if (!cert) return undefined;
  return expectedRootFromRequests(cert, await transport.listCertificateRequests(cert.namespace));
}

async function probe(inputs: ProviderInputs): Promise<ProviderOutputs> {
  const cells = cellsFromClients(inputs.clients);
  const transport = transportFor(inputs);
  const rootPem = await expectedRoot(inputs, transport);
  const result = await runProbes(cells, {
    transport,
    requestTimeoutSeconds: inputs.requestTimeoutSeconds,
    deadlineSeconds: inputs.deadlineSeconds,
    concurrency: inputs.concurrency,
    ...(rootPem !== undefined ? { expectedRootCertPem: rootPem } : {}),
  });
  return {
    revision: inputs.revision,
    probesHash: probesHash(inputs.clients),
    alwaysRun: inputs.alwaysRun,
    cells: result.cells,
    table: formatMatrix(result.cells),
    attempts: result.attempts,
    secondsToConverge: Math.round(result.secondsToConverge * 10) / 10,
    execs: result.execs,
  };
}

function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/** Why the probes would run again for these inputs, or undefined. */
export function rerunReason(olds: Partial<ProviderOutputs>, news: ProviderInputs): string | undefined {
  if (news.alwaysRun) return "alwaysRun is set";
  if (containsUnknown(news.revision) || containsUnknown(news.clients)) return "inputs are not known until apply";
  if (olds.revision !== news.revision) return "the deployed policy objects changed (revision)";
  if (olds.probesHash !== probesHash(news.clients)) return "the probe set changed";
  return undefined;
}

export const connectivityProbeProvider: pulumi.dynamic.ResourceProvider<ProviderInputs, ProviderOutputs> = {
  async check(_olds, news) {
    // Values computed by other resources are unknown in preview; the engine checks again with them known.
    const failures = validateProbeInputs(containsUnknown(news.clients) ? [] : news.clients, news, news.revision);
    if (news.transport !== undefined && news.transport?.kind !== "fake") {
      failures.push({ property: "transport", reason: `transport.kind is ${JSON.stringify(news.transport?.kind)}: only "fake" (tests) is allowed; omit it to probe the cluster` });
    }
    return { inputs: news, failures };
  },
  async diff(_id, olds, news) {
    return { changes: rerunReason(olds, news) !== undefined };
  },
  async create(inputs) {
    const outs = await probe(inputs);
    return { id: `connectivity-probe-${outs.probesHash.slice(0, 12)}`, outs };
  },
  async update(_id, _olds, news) {
    return { outs: await probe(news) };
  },
  async delete() {
    // Probing leaves nothing in the cluster.
  },
};

export class ConnectivityProbe extends pulumi.dynamic.Resource {
  /** The observed matrix, one cell per probe. */
  declare public readonly cells: pulumi.Output<ObservedCell[]>;
  /** The matrix as the seed documents print it: `sleep.foo to httpbin.foo: 200 (mTLS spiffe://…)`. */
  declare public readonly table: pulumi.Output<string>;
  declare public readonly attempts: pulumi.Output<number>;
  declare public readonly secondsToConverge: pulumi.Output<number>;
  declare public readonly execs: pulumi.Output<number>;
  declare public readonly revision: pulumi.Output<string>;

  constructor(name: string, args: ConnectivityProbeArgs, opts?: pulumi.CustomResourceOptions) {
    const settings = {
      requestTimeoutSeconds: args.requestTimeoutSeconds ?? PROBE_DEFAULTS.requestTimeoutSeconds,
      deadlineSeconds: args.deadlineSeconds ?? PROBE_DEFAULTS.deadlineSeconds,
      concurrency: args.concurrency ?? PROBE_DEFAULTS.concurrency,
    };
    if ((args.prediction === undefined) === (args.clients === undefined)) {
      throw new Error(`ConnectivityProbe ${name}: give exactly one of prediction or clients`);
    }
    if (args.expectedRootCertPem !== undefined && args.expectedRootFromCertificate !== undefined) {
      throw new Error(`ConnectivityProbe ${name}: give at most one of expectedRootCertPem or expectedRootFromCertificate`);
    }
    const clients =
      args.clients ??
      probeClientsFromPrediction(args.prediction!, (o) => {
        const t = args.tokenFor?.(o);
        return t === undefined ? undefined : pulumi.secret(t);
      });
    // Plain inputs are validated here, before registration; the provider's check repeats it for computed ones.
    const plain = args.clients === undefined ? (clients as ProbeClientInput[]).map((c) => ({ ...c, targets: c.targets.map(({ token: _secret, ...t }) => t) })) : [];
    const failures = validateProbeInputs(plain, settings, "known");
    if (failures.length > 0) throw new Error(`ConnectivityProbe ${name}: ${failures.map((f) => f.reason).join("; ")}`);
    super(
      connectivityProbeProvider,
      name,
      {
        clients,
        revision: args.revision,
        alwaysRun: args.alwaysRun ?? false,
        ...settings,
        kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
        context: args.context,
        expectedRootCertPem: args.expectedRootCertPem,
        expectedRootFromCertificate: args.expectedRootFromCertificate,
        transport: args.transport,
        cells: undefined,
        table: undefined,
        attempts: undefined,
        secondsToConverge: undefined,
        execs: undefined,
        probesHash: undefined,
      },
      opts,
      "probe",
      "ConnectivityProbe",
    );
  }
}
