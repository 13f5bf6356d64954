/**
 * How the runner reaches the cluster: list pods, exec in a container, read a ConfigMap.
 * The runner depends on the ExecTransport interface only, so it is tested with fakes; the real
 * implementation below is a thin layer over @kubernetes/client-node and needs a cluster to run
 * (none exists in unit tests), so it holds no logic worth testing on its own.
 */
import type * as k8s from "@kubernetes/client-node";

export interface ContainerState {
  name: string;
  ready: boolean;
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
  /** A Secret's data, base64-decoded, or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
}

export interface ClusterAccess {
  /** A kubeconfig document; omitted: $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig?: string;
  /** A context of that kubeconfig; omitted: its current context. */
  context?: string;
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
  const lib = require("@kubernetes/client-node") as typeof k8s;
  const { Writable } = require("node:stream") as typeof import("node:stream");
  const kc = new lib.KubeConfig();
  if (access.kubeconfig) kc.loadFromString(access.kubeconfig);
  else kc.loadFromDefault();
  if (access.context) kc.setCurrentContext(access.context);
  const core = kc.makeApiClient(lib.CoreV1Api);
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
        containers: [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].map((c) => ({
          name: c.name,
          ready: c.ready === true,
        })),
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
    async readSecret(namespace, name) {
      try {
        const secret = await core.readNamespacedSecret({ namespace, name });
        return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
      } catch (e) {
        if ((e as { code?: number }).code === 404) return undefined;
        throw e;
      }
    },
  };
}
