/**
 * Runs the pack's policies in-process over recorded resources, the way the Pulumi engine's
 * analyzer does (resource policies per resource, then stack policies once, levels from the pack
 * config), for `istio-mtls plan` and tests. CrossGuard itself has no in-process runner.
 */
import type {
  EnforcementLevel,
  Policies,
  PolicyPackConfig,
  PolicyResource,
  ResourceValidationArgs,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT_LEVEL } from "./pack";
import type { StackResource } from "./stack-objects";

export interface PolicyFinding {
  policy: string;
  level: EnforcementLevel;
  message: string;
  urn?: string;
}

export class NotApplicable extends Error {}

const OPTIONS = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

/** The level a policy runs at: pack config, then the policy's own, then the pack default. */
export function enforcementLevelOf(policyName: string, policyLevel: EnforcementLevel | undefined, config: PolicyPackConfig): EnforcementLevel {
  const c = config[policyName];
  const fromConfig = typeof c === "string" ? c : c?.enforcementLevel;
  return fromConfig ?? policyLevel ?? DEFAULT_ENFORCEMENT_LEVEL;
}

/** A policy's own config: everything but enforcementLevel, as the analyzer passes it. */
function configOf(policyName: string, config: PolicyPackConfig): object {
  const c = config[policyName];
  if (c === undefined || typeof c === "string") return {};
  const { enforcementLevel: _level, ...rest } = c;
  return rest;
}

export function asPolicyResource(r: StackResource): PolicyResource {
  return {
    ...r,
    props: r.props as Record<string, any>,
    opts: OPTIONS,
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  };
}

export const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

/** The resources as the analyzer hands them to policies; runPolicies over this array reuses an analyzeStack of it. */
export function asPolicyResources(resources: readonly StackResource[]): PolicyResource[] {
  return resources.map(asPolicyResource);
}

export async function runPolicies(
  policies: Policies,
  resources: readonly StackResource[] | readonly PolicyResource[],
  config: PolicyPackConfig = {},
): Promise<PolicyFinding[]> {
  const findings: PolicyFinding[] = [];
  const stackResources = resources.every((r) => "opts" in r) ? (resources as PolicyResource[]) : asPolicyResources(resources);
  for (const policy of policies) {
    const level = enforcementLevelOf(policy.name, policy.enforcementLevel, config);
    if (level === "disabled") continue;
    const report = (message: string, urn?: string) => findings.push({ policy: policy.name, level, message, ...(urn ? { urn } : {}) });
    try {
      if ("validateResource" in policy && policy.validateResource) {
        const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const r of stackResources) {
          const args: ResourceValidationArgs = {
            type: r.type,
            props: r.props,
            urn: r.urn,
            name: r.name,
            opts: r.opts,
            stackTags: new Map(),
            isType: () => false,
            asType: () => undefined,
            getConfig: <T extends object>() => configOf(policy.name, config) as T,
            notApplicable,
          };
          for (const validate of validations) {
            try {
              await validate(args, (message, urn) => report(message, urn ?? r.urn));
            } catch (e) {
              if (!(e instanceof NotApplicable)) throw e;
            }
          }
        }
      }
      if ("validateStack" in policy) {
        const args: StackValidationArgs = {
          resources: stackResources,
          stackTags: new Map(),
          getConfig: <T extends object>() => configOf(policy.name, config) as T,
          notApplicable,
        };
        await (policy as StackValidationPolicy).validateStack(args, report);
      }
    } catch (e) {
      if (e instanceof NotApplicable) continue;
      throw new Error(`policy ${policy.name} failed: ${(e as Error).message}`);
    }
  }
  return findings;
}
