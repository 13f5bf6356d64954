/**
 * One install phase of the plan (mesh/plan.ts) as a component: its items as children, each after
 * the items it names (mesh/plan.ts waitsFor), which `pulumi destroy` deletes in the reverse order.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Phase, PhaseName, PlanItem } from "../mesh/plan";
import { createResource } from "./plan-item";

export interface StackPhaseArgs {
  /** The phase's items, from planStack. */
  phase: Phase;
  /** The resources of the phases before, by plan item id: an item's `after` may name any earlier item. */
  before: ReadonlyMap<string, pulumi.Resource>;
}

/**
 * The components (type, name) that registered each item before the stack deployed phases. Aliases
 * to them keep the resources of stacks deployed before (same URN: no replacement, no delete of
 * the live object); an item whose old parent is not certain gets one alias per candidate.
 */
function previousParents(phase: PhaseName, item: PlanItem): [string, string][] {
  const kind = "object" in item ? item.object.kind : "Release";
  const name = "object" in item ? item.object.metadata.name : "";
  const namespace = "object" in item ? item.object.metadata.namespace : undefined;
  switch (phase) {
    case "ca":
      return kind === "Namespace" ? [["istio-mtls:namespace:MeshNamespace", name], ["istio-mtls:ca:MeshCa", "mesh-ca"]] : [["istio-mtls:ca:MeshCa", "mesh-ca"]];
    case "istio":
      return [["istio-mtls:istio:Istio", "istio"]];
    case "namespaces":
      return [["istio-mtls:namespace:MeshNamespace", name]];
    case "workloads":
      return [["istio-mtls:demo:DemoWorkloads", `demo-${namespace}`]];
    case "policies":
      return (
        {
          PeerAuthentication: [["istio-mtls:mtls:MutualTlsPolicies", "mtls"]],
          DestinationRule: [["istio-mtls:client-tls:ClientTlsPolicies", "client-tls"]],
          RequestAuthentication: [["istio-mtls:end-user-auth:EndUserAuth", "end-user-auth"]],
          AuthorizationPolicy: [["istio-mtls:end-user-auth:EndUserAuth", "end-user-auth"], ["istio-mtls:authorization:PeerAuthorization", "authorization"]],
        } as Record<string, [string, string][]>
      )[kind] ?? [];
    case "ingress":
      return kind === "Release" ? [["istio-mtls:istio:Istio", "istio"]] : [["istio-mtls:ingress:HttpbinIngress", "ingress"]];
    case "intent":
      return [["istio-mtls:intent:StackIntent", "intent"]];
  }
}

export class StackPhase extends pulumi.ComponentResource {
  /** This phase's resources, by plan item id. */
  declare public readonly resources: ReadonlyMap<string, pulumi.Resource>;

  constructor(name: string, args: StackPhaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("istio-mtls:stack:Phase", name, {}, opts);
    const resources = new Map<string, pulumi.Resource>();
    for (const item of args.phase.items) {
      const dependsOn = item.after.map((id) => {
        const r = resources.get(id) ?? args.before.get(id);
        if (!r) throw new Error(`plan item ${item.id} waits for ${id}, which is not planned before it`);
        return r;
      });
      const aliases = previousParents(args.phase.name, item).map(([type, name]) => ({ parent: pulumi.createUrn(name, type) }));
      resources.set(item.id, createResource(item, { parent: this, aliases, ...(dependsOn.length > 0 ? { dependsOn } : {}) }));
    }
    this.resources = resources;
    this.registerOutputs({});
  }
}

/** The plan's phases, in order; every resource, by plan item id. */
export function deployPhases(phases: readonly Phase[]): Map<string, pulumi.Resource> {
  const created = new Map<string, pulumi.Resource>();
  for (const phase of phases) {
    for (const [id, r] of new StackPhase(phase.name, { phase, before: created }).resources) created.set(id, r);
  }
  return created;
}
