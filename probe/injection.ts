/**
 * The injection check of a deployed stack: for every pod of a Deployment the model reads, whether
 * istiod's injector added the `istio-proxy` container (a regular container, or a native sidecar
 * among the init containers), against the model's prediction (mesh/model/workloads.ts
 * sidecarInjected). A pod injected against the prediction fails, so does one not injected, and so
 * does a predicted Deployment with no pod: then nothing about it was checked.
 */
import { installedRevisions } from "../mesh/model/injection-webhooks";
import { readNamespaceLabels, readWorkload } from "../mesh/model/workloads";
import type { KubeObject } from "../mesh/types";
import { PROXY_CONTAINER } from "./runner";

export interface PodInjection {
  /** `<namespace>/<pod>`. */
  pod: string;
  /** `<name>.<namespace>` of its Deployment. */
  workload: string;
  predicted: boolean;
  /** The model's reason. */
  why: string;
  injected: boolean;
}

interface PodShape {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
  spec?: { containers?: { name: string }[]; initContainers?: { name: string }[] };
}

/** The Deployment a pod belongs to: its ReplicaSet is `<deployment>-<pod-template-hash>`. */
function deploymentOf(pod: PodShape): string | undefined {
  const hash = pod.metadata.labels?.["pod-template-hash"];
  const rs = pod.metadata.ownerReferences?.find((o) => o.kind === "ReplicaSet")?.name;
  return hash && rs?.endsWith(`-${hash}`) ? rs.slice(0, -hash.length - 1) : undefined;
}

/** `revisions`: the stack's installed revisions (StackPlan.revisions). */
export function checkInjection(model: readonly KubeObject[], pods: readonly unknown[], trustDomain: string, revisions: readonly string[]): { rows: PodInjection[]; problems: string[] } {
  const nsLabels = readNamespaceLabels(model);
  const installed = installedRevisions(model, revisions);
  const predicted = new Map<string, { sidecar: boolean; why: string }>();
  model.forEach((o, i) => {
    if (o.kind !== "Deployment") return;
    const w = readWorkload(o, i, nsLabels, trustDomain, installed);
    predicted.set(w.id, { sidecar: w.sidecar, why: w.sidecarWhy });
  });
  const rows: PodInjection[] = [];
  for (const pod of pods as PodShape[]) {
    const deployment = deploymentOf(pod);
    const workload = deployment && `${deployment}.${pod.metadata.namespace}`;
    const p = workload ? predicted.get(workload) : undefined;
    if (!workload || !p) continue;
    const names = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].map((c) => c.name);
    rows.push({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, workload, predicted: p.sidecar, why: p.why, injected: names.includes(PROXY_CONTAINER) });
  }
  rows.sort((a, b) => a.pod.localeCompare(b.pod));
  const problems = rows
    .filter((r) => r.predicted !== r.injected)
    .map((r) => `${r.pod}: ${r.injected ? "injected" : "not injected"}, but the model predicts ${r.predicted ? "a sidecar" : "none"} (${r.why})`);
  for (const workload of predicted.keys()) {
    if (!rows.some((r) => r.workload === workload)) problems.push(`${workload}: no pod found, so its injection was not checked`);
  }
  return { rows, problems };
}
