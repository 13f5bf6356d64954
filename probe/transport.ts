/**
 * How the runner reaches the cluster: list pods, exec in a container, read a ConfigMap, list
 * cert-manager CertificateRequests. Only public material is read: no Secret, no private key.
 * The runner depends on the ExecTransport interface only, so it is tested with fakes; the real
 * implementation below is a thin layer over @kubernetes/client-node, tested against a local
 * HTTP server (test/probe/cluster-access.test.ts).
 */
import type * as k8s from "@kubernetes/client-node";

export interface ContainerState {
  name: string;
  ready: boolean;
  /** An init container (istio-init, or istio-proxy as a native sidecar): never the one the probe runs in. */
  init?: boolean;
}

export interface PodInfo {
  namespace: string;
  name: string;
  /** status.phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  /** metadata.deletionTimestamp is set: the pod is going away. */
  terminating: boolean;
  /** Regular containers and native sidecars (init containers that keep running, e.g. istio-proxy). */
  containers: ContainerState[];
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecTransport {
  /** Pods of `namespace` whose labels contain `labels`. */
  listPods(namespace: string, labels: Record<string, string>): Promise<PodInfo[]>;
  /** Runs `command` (no shell unless the command is one) in a container; rejects on timeout or a broken stream. */
  exec(namespace: string, pod: string, container: string, command: string[], timeoutMs: number): Promise<ExecResult>;
  /** A ConfigMap's data, or undefined when it does not exist. */
  readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Every cert-manager.io/v1 CertificateRequest of `namespace`, as the API returns them (status.ca still base64). */
  listCertificateRequests(namespace: string): Promise<CertificateRequestInfo[]>;
}

/** The parts of a CertificateRequest the trust check reads; all public (no key material). */
export interface CertificateRequestInfo {
  name: string;
  annotations: Record<string, string>;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  /** status.ca: base64 of the issuing CA's certificate (PEM); absent until issued. */
  ca?: string;
}

export interface ClusterAccess {
  /**
   * `kubernetes:kubeconfig`, read as the Kubernetes provider reads it: the path of a kubeconfig
   * file when one exists there (`~` expanded, relative to the working directory), else the
   * kubeconfig document itself. Omitted or empty: $KUBECONFIG, ~/.kube/config or the in-cluster
   * service account.
   */
  kubeconfig?: string;
  /** `kubernetes:context`: a context of that kubeconfig; omitted: its current context. */
  context?: string;
  /**
   * What errors call the two settings: the stack's config keys by default; the CLI passes its
   * flags (`--kubeconfig`, `--context`), so each message names what the user wrote.
   */
  settings?: SettingNames;
}

export interface SettingNames {
  kubeconfig: string;
  context: string;
}

export const PULUMI_SETTINGS: SettingNames = { kubeconfig: "kubernetes:kubeconfig", context: "kubernetes:context" };

/**
 * The oldest Node.js the project runs on: @kubernetes/client-node 2.x loads undici, whose engines
 * say >=22.19.0; older Nodes crash loading it (`reading 'bind'`), i.e. only at probe time, after
 * the whole mesh is deployed. Equal to package.json "engines" (test/probe/node-version.test.ts).
 */
export const NODE_MINIMUM = "22.19.0";

/** Why Node.js `version` ("v22.18.0" or "22.18.0") cannot run this project, or undefined when it can. */
export function nodeVersionProblem(version: string, minimum: string = NODE_MINIMUM): string | undefined {
  const parse = (v: string) => /^v?(\d+)\.(\d+)\.(\d+)/.exec(v.trim())?.slice(1, 4).map(Number);
  const found = parse(version);
  const min = parse(minimum)!;
  const diff = found?.map((n, i) => n - min[i]!).find((d) => d !== 0) ?? 0;
  if (found && diff >= 0) return undefined;
  return (
    `Node.js ${JSON.stringify(version)} is too old for this project; allowed: Node.js >= ${minimum} ` +
    `(@kubernetes/client-node, which the connectivity probe uses, requires it through undici). ` +
    `Install Node.js ${minimum} or later (e.g. the current 22.x LTS) and put it first on PATH: ` +
    `\`pulumi up\` runs the program and the probe's provider with the \`node\` found there (check with \`node --version\`).`
  );
}

/** Throws nodeVersionProblem's message; called where the program starts and where a transport is made. */
export function assertNodeVersion(version: string = process.version): void {
  const problem = nodeVersionProblem(version);
  if (problem) throw new Error(problem);
}

/** The kubeconfig a `kubernetes:kubeconfig` value stands for, with where it came from (for errors). */
export interface KubeconfigText {
  document: string;
  /** "file /abs/path" or "document" (never the contents: a kubeconfig may hold credentials). */
  source: string;
}

/** Where a pod's service-account token is mounted (client-node's in-cluster loading reads it). */
const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

const KUBECONFIG_ALLOWED =
  "the path of a kubeconfig file (absolute, relative to the working directory, or ~/…) or the kubeconfig document itself (YAML or JSON)";

/**
 * The Kubernetes provider's rule for `kubernetes:kubeconfig` (pulumi-kubernetes
 * parseKubeconfigString): `~` and `~/…` expanded; an existing path is read as a file; anything
 * else is the document. Unlike the provider, which reports an unusable value only as an
 * unreachable cluster, a value that is neither is an error naming the key and the value.
 */
export function readKubeconfig(value: string, env: { home: string; cwd: string }, key: string = PULUMI_SETTINGS.kubeconfig): KubeconfigText {
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  const expanded = value === "~" ? env.home : value.startsWith("~/") ? path.join(env.home, value.slice(2)) : value;
  const file = path.resolve(env.cwd, expanded);
  let stat: import("node:fs").Stats | undefined;
  try {
    // A document is no file name (too long, or with newlines): stat fails and it is read as the document.
    stat = fs.statSync(file);
  } catch {
    stat = undefined;
  }
  const shown = !value.includes("\n") && value.length <= 300 ? JSON.stringify(value) : `a ${value.split("\n").length}-line value`;
  if (stat?.isDirectory()) throw new Error(`${key}: ${shown} is a directory (${file}); allowed: ${KUBECONFIG_ALLOWED}`);
  if (stat) {
    try {
      return { document: fs.readFileSync(file, "utf8"), source: `file ${file}` };
    } catch (e) {
      throw new Error(`${key}: ${shown}: cannot read ${file}: ${(e as Error).message}; allowed: ${KUBECONFIG_ALLOWED}`);
    }
  }

  const { parse } = require("yaml") as typeof import("yaml");
  let doc: unknown;
  let why = "";
  try {
    doc = parse(value);
  } catch (e) {
    // Only the position: the YAML error's excerpt would echo the value.
    const at = (e as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    why = at ? ` (YAML error at line ${at.line}, column ${at.col})` : " (not YAML)";
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    const detail = value.includes("\n") ? why : ` (no file at ${file})`;
    throw new Error(`${key}: ${shown} is neither an existing file nor a kubeconfig document${detail}; allowed: ${KUBECONFIG_ALLOWED}`);
  }
  return { document: value, source: "document" };
}

/**
 * A KubeConfig for `access`, its context checked: client-node itself accepts any context name and
 * fails later with "No active cluster!", naming neither the setting nor the value.
 */
export function loadKubeConfig(lib: typeof k8s, access: ClusterAccess): k8s.KubeConfig {
  const os = require("node:os") as typeof import("node:os");
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  const names = access.settings ?? PULUMI_SETTINGS;
  const kc = new lib.KubeConfig();
  let source: string;
  if (access.kubeconfig) {
    const text = readKubeconfig(access.kubeconfig, { home: os.homedir(), cwd: process.cwd() }, names.kubeconfig);
    source = `the ${names.kubeconfig} ${text.source}`;
    try {
      kc.loadFromString(text.document);
    } catch (e) {
      throw new Error(`${names.kubeconfig}: the ${text.source} is not a valid kubeconfig (${(e as Error).message}); allowed: ${KUBECONFIG_ALLOWED}`);
    }
  } else {
    source = process.env.KUBECONFIG ? `$KUBECONFIG (${process.env.KUBECONFIG})` : "the default kubeconfig (~/.kube/config or the in-cluster service account)";
    // Without any of them client-node quietly falls back to http://localhost:8080, which would
    // surface later as an unreachable server that no kubeconfig named.
    const inCluster = fs.existsSync(SERVICE_ACCOUNT_TOKEN) && process.env.KUBERNETES_SERVICE_HOST;
    if (!process.env.KUBECONFIG && !fs.existsSync(path.join(os.homedir(), ".kube", "config")) && !inCluster) {
      throw new Error(`no kubeconfig: ${names.kubeconfig} is not set, $KUBECONFIG is not set, there is no ~/.kube/config and this is not a pod with a service account; allowed: ${KUBECONFIG_ALLOWED}`);
    }
    try {
      kc.loadFromDefault();
    } catch (e) {
      throw new Error(`loading ${source} failed: ${(e as Error).message}; set ${names.kubeconfig} to ${KUBECONFIG_ALLOWED}`);
    }
  }
  const contexts = kc.getContexts().map((c) => c.name);
  if (contexts.length === 0) throw new Error(`${source} defines no context; allowed: a kubeconfig with a context for the cluster`);
  const allowed = contexts.join(", ");
  if (access.context) {
    if (!kc.getContextObject(access.context)) throw new Error(`${names.context}: ${JSON.stringify(access.context)} is not a context of ${source}; allowed: ${allowed}`);
    kc.setCurrentContext(access.context);
  } else if (!kc.getContextObject(kc.getCurrentContext())) {
    const current = kc.getCurrentContext();
    throw new Error(
      `${source}: ${current ? `its current context ${JSON.stringify(current)} is not one of its contexts` : "it has no current context"}; ` +
        `set ${names.context} to one of: ${allowed}`,
    );
  }
  const ctx = kc.getContextObject(kc.getCurrentContext())!;
  if (!kc.getCurrentCluster()) {
    throw new Error(`${source}: context ${JSON.stringify(ctx.name)} names cluster ${JSON.stringify(ctx.cluster)}, which it does not define`);
  }
  return kc;
}

export function labelSelector(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** Exit status from the V1Status that the exec stream ends with. */
export function exitCodeFromStatus(status: { status?: string; reason?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } }): number {
  if (status.status === "Success") return 0;
  const cause = status.details?.causes?.find((c) => c.reason === "ExitCode");
  if (status.reason === "NonZeroExitCode" && cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  throw new Error(`exec failed: ${status.reason ?? "unknown reason"}: ${status.message ?? JSON.stringify(status)}`);
}

/** The ExecTransport of a real cluster, through the Kubernetes API (pods/exec over a websocket). */
export function kubernetesTransport(access: ClusterAccess): ExecTransport {
  // Required here, not at the top: client-node is ESM (Node 22 require(esm)) and heavy, and this
  // module is also captured by the dynamic provider's serializer, which must see no client object.
  // Before loading client-node: on an older Node it crashes with a TypeError that names nothing.
  // The dynamic provider runs in its own node process, which need not be the program's.
  assertNodeVersion();
  const lib = require("@kubernetes/client-node") as typeof k8s;
  const { Writable } = require("node:stream") as typeof import("node:stream");
  const kc = loadKubeConfig(lib, access);
  const core = kc.makeApiClient(lib.CoreV1Api);
  const custom = kc.makeApiClient(lib.CustomObjectsApi);
  const exec = new lib.Exec(kc);

  const sink = (chunks: Buffer[]) =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });

  return {
    async listPods(namespace, labels) {
      const list = await core.listNamespacedPod({ namespace, labelSelector: labelSelector(labels) });
      return list.items.map((p) => ({
        namespace,
        name: p.metadata?.name ?? "",
        phase: p.status?.phase ?? "Unknown",
        terminating: p.metadata?.deletionTimestamp !== undefined,
        containers: [
          ...(p.status?.containerStatuses ?? []).map((c) => ({ name: c.name, ready: c.ready === true })),
          ...(p.status?.initContainerStatuses ?? []).map((c) => ({ name: c.name, ready: c.ready === true, init: true })),
        ],
      }));
    },
    exec(namespace, pod, container, command, timeoutMs) {
      return new Promise<ExecResult>((resolve, reject) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let settled = false;
        let socket: { close(): void } | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined = undefined;
        const finish = (f: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket?.close();
          f();
        };
        timer = setTimeout(
          () => finish(() => reject(new Error(`exec in ${namespace}/${pod} container ${container} timed out after ${timeoutMs} ms`))),
          timeoutMs,
        );
        exec
          .exec(namespace, pod, container, command, sink(out), sink(err), null, false, (status) => {
            finish(() => {
              try {
                resolve({ stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), exitCode: exitCodeFromStatus(status) });
              } catch (e) {
                reject(new Error(`${namespace}/${pod} container ${container}: ${(e as Error).message}\n${Buffer.concat(err).toString("utf8")}`));
              }
            });
          })
          .then((ws) => {
            socket = ws;
            if (settled) ws.close();
            // A stream that closes without a status line never told us the exit code: an error.
            ws.on("close", () => finish(() => reject(new Error(`exec in ${namespace}/${pod} container ${container}: the stream closed without an exit status`))));
            ws.on("error", (e: Error) => finish(() => reject(new Error(`exec in ${namespace}/${pod} container ${container}: ${e.message}`))));
          })
          .catch((e: Error) => finish(() => reject(new Error(`exec in ${namespace}/${pod} container ${container}: ${e.message}`))));
      });
    },
    async readConfigMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        return cm.data ?? {};
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    },
    async listCertificateRequests(namespace) {
      const items: CertificateRequestObject[] = [];
      let next: string | undefined;
      do {
        let page: { items?: CertificateRequestObject[]; metadata?: { continue?: string } };
        try {
          page = await custom.listNamespacedCustomObject({ group: "cert-manager.io", version: "v1", namespace, plural: "certificaterequests", limit: 500, ...(next ? { _continue: next } : {}) });
        } catch (e) {
          const code = (e as { code?: number }).code;
          const why = code === 404 ? "not served (is cert-manager installed?)" : code === 403 ? "forbidden: the probe's identity needs `list` on them" : (e as Error).message;
          throw new Error(`listing certificaterequests.cert-manager.io in namespace ${namespace}: ${why}`);
        }
        items.push(...(page.items ?? []));
        next = page.metadata?.continue || undefined;
      } while (next);
      return items.map((cr) => ({
        name: cr.metadata?.name ?? "",
        annotations: cr.metadata?.annotations ?? {},
        conditions: cr.status?.conditions ?? [],
        ...(cr.status?.ca !== undefined ? { ca: cr.status.ca } : {}),
      }));
    },
  };
}

/** What the API returns for a CertificateRequest, as far as it is read. */
interface CertificateRequestObject {
  metadata?: { name?: string; annotations?: Record<string, string> };
  status?: { conditions?: CertificateRequestInfo["conditions"]; ca?: string };
}
