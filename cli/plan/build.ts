/**
 * A stack's plan as `istio-mtls plan` shows it: the stack's config file goes through planStack
 * (mesh/plan.ts), the one place that decides what the stack deploys, and the pack's policies run
 * in-process over its resources, as `pulumi preview` would run them; no cluster, Pulumi CLI or runtime.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { loadStackConfig } from "../../config";
import { configWithProject, readProjectConfig, stackFileGetter } from "../../config/file";
import { CERT_MANAGER_TYPE, planItems, planStack, releaseArgs, resourceName, resourceType, type PlanItem } from "../../mesh/plan";
import type { Prediction } from "../../mesh/prediction";
import { istioMtlsPolicies } from "../../policies/pack";
import { analyzeStack } from "../../policies/analysis";
import { asPolicyResources, runPolicies, type PolicyFinding } from "../../policies/run";
import type { StackResource } from "../../policies/stack-objects";

export interface PlanResource {
  type: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface PlanViolation {
  policy: string;
  level: string;
  message: string;
}

/** A client the probe runs cells from, as the model sees it. */
export interface PlanProbeClient {
  /** `<workload>.<namespace>`. */
  from: string;
  sidecar: boolean;
  /** Why it has (or lacks) a sidecar, as the model's reasons say it. */
  sidecarWhy: string;
  /** Its SPIFFE identity, which a server sees over mTLS (none over plaintext). */
  identity: string;
}

export interface Plan {
  stack: string;
  resources: PlanResource[];
  /** The probe's clients (the demo's sleep, the probe clients), in the plan's order; empty with the probe off. */
  probeClients: PlanProbeClient[];
  prediction: Prediction;
  /** Set when the model cannot read the stack's objects (the policies report it too). */
  modelError?: string;
  violations: PlanViolation[];
  /** Props per resource key, to tell changed resources apart in a diff. */
  props: Map<string, string>;
  /** What the stack applies, in an order `pulumi up` applies it in (phase by phase, each item after what it waits for). */
  applied: PlanItem[];
  /** What the plan could not read (ESC environments), for stderr. */
  notices: string[];
}

export interface PlanInput {
  /** Stack name, for URNs and messages. */
  stack: string;
  /** The stack file whose `config:` the stack runs with. */
  configFile: string;
  /** The project directory: its Pulumi.yaml names the project and holds project config. */
  projectDir: string;
  /** Pack config as `pulumi preview --policy-pack-config` takes it. */
  policyConfig?: PolicyPackConfig;
  /** The clock the exception policy reads. */
  now?: () => Date;
}

export function projectName(projectDir: string): string {
  return readProjectConfig(join(projectDir, "Pulumi.yaml")).name;
}

/** The config the stack sees: Pulumi.yaml's project config under the stack file's. */
function readConfigMap(projectDir: string, file: string, stack: string): { config: Record<string, unknown>; notices: string[] } {
  if (!existsSync(file)) throw new Error(`stack config ${file} does not exist; allowed: an existing Pulumi.<stack>.yaml (see --stack, --config)`);
  return configWithProject(join(projectDir, "Pulumi.yaml"), file, stack);
}

/** An item's inputs as its Pulumi resource gets them (components/plan-item.ts): what the pack and a diff see. */
export function propsOf(item: PlanItem): Record<string, unknown> {
  return "object" in item ? (item.object as unknown as Record<string, unknown>) : releaseArgs(item);
}

export function planResourceOf(item: PlanItem): PlanResource {
  const type = resourceType(item);
  if ("object" in item) return { type, kind: item.object.kind, namespace: item.object.metadata.namespace ?? "", name: item.object.metadata.name };
  return { type, kind: type === CERT_MANAGER_TYPE ? "CertManager" : "Release", namespace: item.release.namespace, name: resourceName(item) };
}

/** The resources as the policy pack sees them in `pulumi preview`, URNs under their phase component. */
export function stackResources(stack: string, project: string, plan: ReturnType<typeof planStack>): StackResource[] {
  return plan.phases.flatMap((phase) =>
    phase.items.map((item) => {
      const type = resourceType(item);
      const name = resourceName(item);
      return { type, name, urn: `urn:pulumi:${stack}::${project}::istio-mtls:stack:Phase$${type}::${name}`, props: propsOf(item) };
    }),
  );
}

/** The connectivity probe index.ts registers after the plan's resources (a dynamic resource, not a Kubernetes object). */
export const PROBE_RESOURCE: PlanResource = { type: "pulumi-nodejs:dynamic/probe:ConnectivityProbe", kind: "ConnectivityProbe", namespace: "", name: "connectivity" };

export function resourceKey(r: PlanResource): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

function compareResources(a: PlanResource, b: PlanResource): number {
  return a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
}

export async function buildPlan(input: PlanInput): Promise<Plan> {
  const { config, notices } = readConfigMap(input.projectDir, input.configFile, input.stack);
  const settings = loadStackConfig(stackFileGetter(config), Object.keys(config), input.projectDir);
  const plan = planStack(settings);
  const items = planItems(plan);
  // The pack's analysis predicts every client workload once; the plan shows the probe's clients' cells of it.
  const resources = asPolicyResources(stackResources(input.stack, projectName(input.projectDir), plan));
  const analysis = analyzeStack(resources);
  const findings: PolicyFinding[] = await runPolicies(istioMtlsPolicies({ now: input.now }), resources, input.policyConfig ?? {});
  const probed = new Set(plan.probeClients);
  const prediction = { probes: (analysis.prediction?.probes ?? []).filter((p) => probed.has(p.from)) };
  // As index.ts: the probe runs whenever enabled, also with no cell predicted before apply.
  const probe = settings.probe.enabled ? [PROBE_RESOURCE] : [];
  const workloads = new Map((analysis.model?.workloads ?? []).map((w) => [w.id, w]));
  const probeClients = plan.probeClients.flatMap((from) => {
    const w = workloads.get(from);
    return w ? [{ from, sidecar: w.sidecar, sidecarWhy: w.sidecarWhy, identity: w.spiffe }] : [];
  });
  return {
    stack: input.stack,
    resources: [...items.map(planResourceOf), ...probe].sort(compareResources),
    probeClients,
    prediction,
    ...(analysis.modelError ? { modelError: analysis.modelError } : {}),
    violations: findings.map(({ policy, level, message }) => ({ policy, level, message })),
    props: new Map(items.map((i) => [resourceKey(planResourceOf(i)), JSON.stringify(propsOf(i))])),
    applied: items,
    notices,
  };
}
