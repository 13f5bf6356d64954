/**
 * ConnectivityProbe: after `pulumi up` applies the mesh, runs the predicted cells (from the demo's
 * sleep and the probe clients) in the cluster, fails the deployment when the observed matrix
 * differs from the model's, and reports the posture of every Service port it probed. With `live`
 * the probe clients' cells are predicted at probe time from a read of the cluster, so the Services
 * and policies app teams applied are proven too (probe/provider.ts).
 *
 * A dynamic resource (token `pulumi-nodejs:dynamic/probe:ConnectivityProbe`). Its provider is
 * serialized into the state and run by the engine's dynamic-provider host from that text, so its
 * methods only call probe/provider.ts (captured by value; no Pulumi there), which requires client
 * libraries inside its functions. Each predicted cell is probed with its own request.
 *
 * When it runs: on create, and on update when `revision` (hash of the deployed policy objects)
 * or the probe set changes, or on every `pulumi up` with `alwaysRun`. Its diff is what preview
 * shows: "update" means the probes will run again. Nothing runs during preview (the engine
 * calls create/update only when applying).
 *
 * Test-only transport: see probe/provider.ts.
 *
 * Cluster access: the Kubernetes provider's `kubernetes:kubeconfig` (a path or the document) and
 * `kubernetes:context`, or its default loading. It reads only public material (no Secret, so no
 * private key can leak through the probe), and its identity needs exactly:
 *   - pods: `list`, and pods/exec: `create` and `get`, in each client namespace (the sleep.X
 *     and istio-mtls-probe pods). client-node execs over a WebSocket, a GET that the API server authorizes as `get`;
 *     newer Kubernetes versions also require `create` for it (AuthorizePodWebsocketUpgradeCreatePermission).
 *   - configmaps: `get` in each probed namespace (istiod's istio-ca-root-cert), with the cert-manager CA.
 *   - certificaterequests.cert-manager.io: `list` in the intermediate CA Certificate's namespace
 *     (istiod's, where `cacerts` is issued), with the cert-manager CA.
 *   - with `live`, what the reader reads (probe/cluster-read.ts): namespaces `get` (the managed ones
 *     and istio-mtls-probe); configmaps `get` in istiod's namespace (the mesh ConfigMap `istio`);
 *     mutatingwebhookconfigurations `list` cluster-wide; and `list` on services, pods,
 *     replicationcontrollers, deployments, statefulsets, daemonsets, replicasets, jobs, cronjobs,
 *     the security.istio.io and networking.istio.io kinds in each of those namespaces, the
 *     security.istio.io and networking.istio.io kinds but gateways in the mesh root namespace.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ServiceException } from "../mesh/mtls-exceptions";
import type { Cell, EndUserToken, Prediction } from "../mesh/prediction";
import type { ServicePosture } from "../probe/posture";
import { PROBE_DEFAULTS } from "../mesh/settings";
import { bearerTokens, validateLiveInput, validateProbeInputs, type LiveInput } from "../probe/inputs";
import { checkProbeInputs, rerunReason, runProbe, type CertificateRef, type ProbeInputs, type ProbeOutputs } from "../probe/provider";

export interface ConnectivityProbeArgs {
  /** The model's prediction: each of its cells is probed with the cell's own request. */
  prediction: Prediction;
  /**
   * The bytes of an end-user token the cells' requests carry (passed as secrets). Required for each
   * token other than kind "none": the probe cannot send a token it does not have.
   */
  tokenFor?: (token: EndUserToken) => pulumi.Input<string> | undefined;
  /** Hash of the deployed policy objects: the probes run again when it changes, and only then. */
  revision: pulumi.Input<string>;
  /** Run on every `pulumi up`, even with nothing changed. Default false. */
  alwaysRun?: boolean;
  /** Per-request curl timeout. Default PROBE_DEFAULTS (mesh/settings.ts), as in the stack config. */
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
  /**
   * The reviewed exceptions to STRICT covering each Service port (mesh/mtls-exceptions.ts
   * serviceExceptions over the deployed objects): the posture report tells a port that accepts
   * plaintext under one from a port that accepts it without. Default none.
   */
  exceptions?: ServiceException[];
  /**
   * Predict the probe clients' cells at probe time from a read of the cluster in these managed
   * namespaces (istiod's namespace holds the mesh ConfigMap); the prediction's cells from these
   * clients are dropped, the others (the demo's sleep) probed as predicted. Exceptions are then
   * read live: give no `exceptions`.
   */
  live?: LiveInput;
  /** Tests only; see the module comment. */
  transport?: { kind: "fake"; scenario: unknown };
}

export const connectivityProbeProvider: pulumi.dynamic.ResourceProvider<ProbeInputs, ProbeOutputs> = {
  async check(_olds, news) {
    return { inputs: news, failures: checkProbeInputs(news) };
  },
  async diff(_id, olds, news) {
    return { changes: rerunReason(olds, news) !== undefined };
  },
  async create(inputs) {
    const outs = await runProbe(inputs);
    return { id: `connectivity-probe-${outs.probesHash.slice(0, 12)}`, outs };
  },
  async update(_id, _olds, news) {
    return { outs: await runProbe(news) };
  },
  async delete() {
    // Probing leaves nothing in the cluster.
  },
};

export class ConnectivityProbe extends pulumi.dynamic.Resource {
  /** The observed matrix, one cell per probe. */
  declare public readonly cells: pulumi.Output<Cell[]>;
  /** How many cells were predicted before apply (the stack's own objects) and how many live at probe time. */
  declare public readonly predictedBeforeApply: pulumi.Output<number>;
  declare public readonly predictedLive: pulumi.Output<number>;
  /** What the live prediction noted: objects the model does not read, ports not probed. */
  declare public readonly notices: pulumi.Output<string[]>;
  /** The matrix as the seed documents print it: `sleep.foo to httpbin.foo: 200 (mTLS spiffe://…)`. */
  declare public readonly table: pulumi.Output<string>;
  declare public readonly attempts: pulumi.Output<number>;
  declare public readonly secondsToConverge: pulumi.Output<number>;
  declare public readonly execs: pulumi.Output<number>;
  declare public readonly revision: pulumi.Output<string>;
  /** Per Service port probed: strict, permissive, plaintext-accepted or unknown, who reached it how, its exceptions (probe/posture.ts). */
  declare public readonly posture: pulumi.Output<ServicePosture[]>;
  /** The posture in one line for a human; names every port accepting plaintext without a reviewed exception. */
  declare public readonly summary: pulumi.Output<string>;

  constructor(name: string, args: ConnectivityProbeArgs, opts?: pulumi.CustomResourceOptions) {
    const settings = {
      requestTimeoutSeconds: args.requestTimeoutSeconds ?? PROBE_DEFAULTS.requestTimeoutSeconds,
      deadlineSeconds: args.deadlineSeconds ?? PROBE_DEFAULTS.deadlineSeconds,
      concurrency: args.concurrency ?? PROBE_DEFAULTS.concurrency,
    };
    if (args.expectedRootCertPem !== undefined && args.expectedRootFromCertificate !== undefined) {
      throw new Error(`ConnectivityProbe ${name}: give at most one of expectedRootCertPem or expectedRootFromCertificate`);
    }
    const predicted = args.prediction.probes;
    const tokens = bearerTokens(predicted, (token) => {
      const t = args.tokenFor?.(token);
      return t === undefined ? undefined : pulumi.secret(t);
    });
    // Validated here, before registration, but for the token bytes (secrets): the provider's check has them.
    const failures = [...validateProbeInputs(predicted, undefined, settings, "known"), ...(args.live !== undefined ? validateLiveInput(args.live, args.exceptions) : [])];
    if (failures.length > 0) throw new Error(`ConnectivityProbe ${name}: ${failures.map((f) => f.reason).join("; ")}`);
    super(
      connectivityProbeProvider,
      name,
      {
        predicted,
        tokens,
        revision: args.revision,
        alwaysRun: args.alwaysRun ?? false,
        ...settings,
        kubeconfig: args.kubeconfig === undefined ? undefined : pulumi.secret(args.kubeconfig),
        context: args.context,
        expectedRootCertPem: args.expectedRootCertPem,
        expectedRootFromCertificate: args.expectedRootFromCertificate,
        exceptions: args.exceptions ?? [],
        live: args.live,
        transport: args.transport,
        cells: undefined,
        predictedBeforeApply: undefined,
        predictedLive: undefined,
        notices: undefined,
        table: undefined,
        attempts: undefined,
        secondsToConverge: undefined,
        execs: undefined,
        probesHash: undefined,
        posture: undefined,
        summary: undefined,
      },
      opts,
      "probe",
      "ConnectivityProbe",
    );
  }
}
