/**
 * The live-cluster input `predict --kube` and `verify --kube` share: the flags, kubectl's scope
 * rule (the context's namespace, else `default`; `--namespace` repeatable or comma-separated;
 * `--all-namespaces`), and the read itself (probe/cluster-read.ts), its notices on stderr.
 */
import { Command, Option } from "commander";
import { ModelInputError } from "../mesh/predict";
import { SourceError } from "../mesh/yaml";
import { readCluster, type ClusterRead } from "../probe/cluster-read";
import type { ClusterAccess } from "../probe/transport";
import { UsageError, type CliIO } from "./command";

export interface KubeOptions {
  kube?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace: string[];
  allNamespaces?: boolean;
  istioNamespace?: string;
}

/** The flags errors name: what the user typed, not the stack's config keys. */
const CLI_SETTINGS = { kubeconfig: "--kubeconfig", context: "--context" };

function collect(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

export function addKubeOptions(cmd: Command): Command {
  return cmd
    .option("--kube", "read the objects from a live cluster through the Kubernetes API instead of files")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or the in-cluster service account)")
    .option("--context <name>", "kubeconfig context (default: its current context)")
    .option("-n, --namespace <namespace>", "namespace to read (repeatable or comma-separated; default: the context's namespace, else default)", collect, [])
    .addOption(new Option("-A, --all-namespaces", "read every namespace").conflicts("namespace"))
    .option("--istio-namespace <namespace>", "istiod's namespace, holding the mesh ConfigMap istio", "istio-system");
}

/** Kube flags without --kube are a usage error (they would be silently ignored). */
export function checkKubeFlags(opts: KubeOptions): void {
  if (opts.kube) return;
  const given = [
    opts.kubeconfig !== undefined && "--kubeconfig",
    opts.context !== undefined && "--context",
    opts.namespace.length > 0 && "--namespace",
    opts.allNamespaces && "--all-namespaces",
  ].filter((x): x is string => typeof x === "string");
  if (given.length > 0) throw new UsageError(`${given.join(", ")} ${given.length > 1 ? "go" : "goes"} with --kube, which reads a live cluster`);
}

export function clusterAccess(opts: KubeOptions): ClusterAccess {
  return { ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}), ...(opts.context ? { context: opts.context } : {}), settings: CLI_SETTINGS };
}

/** Reads the cluster for the flags' scope; notices on stderr. */
export async function readKube(opts: KubeOptions, io: CliIO, optionalNamespaces: readonly string[] = []): Promise<ClusterRead> {
  const read = await readCluster(clusterAccess(opts), {
    namespaces: opts.namespace,
    allNamespaces: opts.allNamespaces === true,
    optionalNamespaces,
    ...(opts.istioNamespace ? { istioNamespace: opts.istioNamespace } : {}),
  });
  for (const n of read.notices) io.stderr(`${n}\n`);
  return read;
}

/** A model error about a live object: named as the model names it, with the context it was read from. */
export function locateInCluster(read: ClusterRead): (e: ModelInputError) => Error {
  return (e) => new SourceError(`context ${read.context}`, e.message);
}
