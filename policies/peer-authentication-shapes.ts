/**
 * PeerAuthentication shapes that Istio rejects or silently ignores, so the mesh would not do what
 * the object says: portLevelMtls without a selector (rejected by validation), a second policy at
 * mesh or namespace level (only the oldest applies), a selector in the root namespace (ignored in
 * sidecar mode), and two workload policies selecting one workload (only the oldest applies to it).
 */
import type { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { selectorMatches } from "../mesh/model/match";
import { oldestFirst, type Aged } from "../mesh/model/order";
import type { KubeObject, Labels } from "../mesh/types";
import { analyzeStack, type StackAnalysis } from "./analysis";
import { refOf } from "./stack-objects";

export const PEER_AUTHENTICATION_SHAPES = "peer-authentication-shapes";

interface PaShape extends Aged {
  object: KubeObject;
  ref: string;
  selector: Labels | undefined;
  portLevel: Record<string, unknown> | undefined;
}

function shapeOf(object: KubeObject, position: number): PaShape {
  const spec = (object.spec ?? {}) as { selector?: { matchLabels?: Labels }; portLevelMtls?: Record<string, unknown> };
  const labels = spec.selector?.matchLabels;
  const created = object.metadata.creationTimestamp ? Date.parse(object.metadata.creationTimestamp) : undefined;
  return {
    object,
    ref: refOf({ ...object, metadata: { ...object.metadata, namespace: object.metadata.namespace || "default" } }),
    name: object.metadata.name,
    namespace: object.metadata.namespace || "default",
    created: created !== undefined && !Number.isNaN(created) ? created : undefined,
    position,
    selector: labels && Object.keys(labels).length > 0 ? labels : undefined,
    portLevel: spec.portLevelMtls ?? undefined,
  };
}

function checkPortLevel(p: PaShape, report: (p: PaShape, m: string) => void): void {
  if (p.portLevel === undefined) return;
  if (!p.selector) {
    report(p, `${p.ref} sets spec.portLevelMtls without spec.selector; Istio rejects it (port-level mTLS is only valid on a workload policy). Add spec.selector.matchLabels or move the ports to a workload policy.`);
  }
  const ports = Object.keys(p.portLevel);
  if (ports.length === 0) report(p, `${p.ref} has an empty spec.portLevelMtls; Istio rejects it. Remove the field or list at least one port.`);
  for (const port of ports) {
    const n = Number(port);
    if (!/^\d+$/.test(port) || n < 1 || n > 65535) {
      report(p, `${p.ref} has spec.portLevelMtls key ${JSON.stringify(port)}; allowed: a container port 1..65535.`);
    }
  }
}

function checkLevels(policies: PaShape[], root: string, report: (p: PaShape, m: string) => void): void {
  const winners = new Map<string, PaShape>();
  for (const p of oldestFirst(policies)) {
    if (p.selector) {
      if (p.namespace === root) {
        report(p, `${p.ref} has a selector in the root namespace ${root}; Istio ignores it in sidecar mode. Move it to the workload's namespace.`);
      }
      continue;
    }
    const level = p.namespace === root ? "mesh" : `namespace ${p.namespace}`;
    const winner = winners.get(level);
    if (winner) {
      report(p, `${p.ref} is a second ${level}-level PeerAuthentication; Istio applies only the oldest, ${winner.ref}, and ignores this one. Merge them into one.`);
    } else {
      winners.set(level, p);
    }
  }
}

function checkOverlaps(a: StackAnalysis, policies: PaShape[], report: (p: PaShape, m: string) => void): void {
  if (!a.model) return;
  const root = a.mesh.rootNamespace;
  const workloadLevel = oldestFirst(policies.filter((p) => p.selector && p.namespace !== root));
  const reported = new Set<PaShape>();
  for (const w of a.model.workloads) {
    const matching = workloadLevel.filter((p) => p.namespace === w.namespace && selectorMatches(p.selector, w.labels));
    for (const loser of matching.slice(1)) {
      if (reported.has(loser)) continue;
      reported.add(loser);
      report(loser, `${loser.ref} and ${matching[0].ref} both select workload ${w.id}; Istio applies only the oldest, ${matching[0].ref}, to it (workload policies are never merged). Make the selectors disjoint.`);
    }
  }
}

export function peerAuthenticationShapes(): StackValidationPolicy {
  return {
    name: PEER_AUTHENTICATION_SHAPES,
    description: "PeerAuthentication objects have shapes Istio accepts and applies: no portLevelMtls without selector, one policy per mesh and namespace, no selector in the root namespace, no two policies for one workload.",
    severity: "high",
    validateStack: (args, reportViolation: ReportViolation) => {
      const a = analyzeStack(args.resources);
      const policies = a.kubeObjects
        .map((o, i) => ({ o, i }))
        .filter(({ o }) => o.kind === "PeerAuthentication")
        .map(({ o, i }) => shapeOf(o, i));
      if (policies.length === 0) return args.notApplicable("no PeerAuthentication");
      const report = (p: PaShape, message: string) =>
        reportViolation(message, a.urnOf("PeerAuthentication", p.object.metadata.namespace, p.object.metadata.name));
      for (const p of policies) checkPortLevel(p, report);
      checkLevels(policies, a.mesh.rootNamespace, report);
      checkOverlaps(a, policies, report);
    },
  };
}
