/**
 * PeerAuthentication shapes that Istio rejects or silently ignores, so the mesh would not do what
 * the object says: portLevelMtls without a selector (rejected by validation), a second policy at
 * mesh or namespace level (only the oldest applies), a selector in the root namespace (ignored in
 * sidecar mode), and two workload policies selecting one workload (only the oldest applies to it).
 */
import type { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { objectRef } from "../mesh/model/errors";
import { selectorMatches } from "../mesh/model/match";
import { oldestFirst, type Aged } from "../mesh/model/order";
import { namespaceOf } from "../mesh/model/workloads";
import { peerAuthenticationLevels, peerAuthenticationSpecProblems } from "../mesh/peer-authentication-rules";
import { describeProblem } from "../mesh/shape-problem";
import { creationTime, type KubeObject, type Labels } from "../mesh/types";
import { analyzeStack, type StackAnalysis } from "./analysis";

export const PEER_AUTHENTICATION_SHAPES = "peer-authentication-shapes";

interface PaShape extends Aged {
  object: KubeObject;
  ref: string;
  selector: Labels | undefined;
}

function shapeOf(object: KubeObject, position: number): PaShape {
  const labels = (object.spec as { selector?: { matchLabels?: Labels } } | undefined)?.selector?.matchLabels;
  const namespace = namespaceOf(object);
  return {
    object,
    ref: objectRef("PeerAuthentication", namespace, object.metadata.name),
    name: object.metadata.name,
    namespace,
    created: creationTime(object.metadata),
    position,
    selector: labels && Object.keys(labels).length > 0 ? labels : undefined,
  };
}

function checkSpec(p: PaShape, report: (p: PaShape, m: string) => void): void {
  for (const problem of peerAuthenticationSpecProblems((p.object.spec ?? {}) as Record<string, unknown>)) {
    report(p, `${p.ref} is rejected by Istio: ${describeProblem(problem)}.`);
  }
}

function checkLevels(policies: PaShape[], root: string, report: (p: PaShape, m: string) => void): void {
  for (const { policy, why, winner } of peerAuthenticationLevels(oldestFirst(policies), root).ignored) {
    const fix = winner ? "Merge them into one." : "Move it to the workload's namespace.";
    report(policy, `${policy.ref} is ignored: ${why}. ${fix}`);
  }
}

function checkOverlaps(a: StackAnalysis, report: (p: PaShape, m: string) => void, byRef: Map<string, PaShape>): void {
  if (!a.model) return;
  const reported = new Set<string>();
  for (const w of a.model.workloads) {
    const matching = (a.model.peerAuthn.workloadLevel.get(w.namespace) ?? []).filter((p) => selectorMatches(p.selector, w.labels));
    for (const loser of matching.slice(1)) {
      if (reported.has(loser.ref)) continue;
      reported.add(loser.ref);
      report(byRef.get(loser.ref)!, `${loser.ref} and ${matching[0].ref} both select workload ${w.id}; Istio applies only the oldest, ${matching[0].ref}, to it (workload policies are never merged). Make the selectors disjoint.`);
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
      for (const p of policies) checkSpec(p, report);
      checkLevels(policies, a.mesh.rootNamespace, report);
      checkOverlaps(a, report, new Map(policies.map((p) => [p.ref, p])));
    },
  };
}
