/**
 * An AuthorizationPolicy that matches by peer identity (`principals`, `namespaces`) only works on
 * mTLS requests: a plaintext request has no principal. On a workload that still accepts plaintext
 * (resolved PeerAuthentication mode PERMISSIVE or DISABLE at a served port) an ALLOW by identity
 * refuses plaintext callers whatever the rule says, and a DENY by identity is bypassed by them.
 * The mode is the model's resolution (mesh → namespace → workload → port), not the object's field.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { AuthzPolicyEntry } from "../mesh/model/authorization";
import type { Workload } from "../mesh/model/workloads";
import type { AuthorizationRule } from "../mesh/types";
import { analyzeStack, modelErrorMessage } from "./analysis";

export const AUTHORIZATION_NEEDS_STRICT = "authorization-identity-needs-strict";

/** Whether a rule matches by positive peer identity (negations such as notPrincipals ["*"] are how plaintext is refused). */
function matchesByIdentity(rules: readonly AuthorizationRule[]): boolean {
  return rules.some((r) => (r.from ?? []).some((f) => (f.source?.principals?.length ?? 0) > 0 || (f.source?.namespaces?.length ?? 0) > 0));
}

interface Finding {
  policy: AuthzPolicyEntry;
  where: string[];
}

export function authorizationNeedsStrict(): StackValidationPolicy {
  return {
    name: AUTHORIZATION_NEEDS_STRICT,
    description: "AuthorizationPolicies that match principals or namespaces apply to workloads that only accept mTLS (STRICT).",
    severity: "high",
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      if (!a.kubeObjects.some((o) => o.kind === "AuthorizationPolicy")) return args.notApplicable("no AuthorizationPolicy");
      if (!a.model) {
        reportViolation(modelErrorMessage(a));
        return;
      }
      const model = a.model;
      const findings = new Map<string, Finding>();
      const servedPorts = (w: Workload): number[] => {
        const ports = new Set<number>();
        for (const sp of model.servicePorts) for (const e of sp.endpoints) if (e.workload === w) ports.add(e.targetPort);
        return [...ports].sort((x, y) => x - y);
      };
      for (const w of model.workloads) {
        if (!w.sidecar) continue;
        const http = model.http.forWorkload(w);
        const identityPolicies = [...http.allow, ...http.deny].filter((p) => matchesByIdentity(p.rules));
        if (identityPolicies.length === 0) continue;
        const open: string[] = [];
        const ports = servedPorts(w);
        for (const port of ports.length ? ports : [undefined]) {
          const d = port === undefined ? model.peerAuthn.forWorkload(w).workloadMode : model.peerAuthn.modeAt(w, port);
          if (d.mode !== "STRICT") open.push(`${w.id}${port === undefined ? "" : ` port ${port}`} is ${d.mode} (${d.source})`);
        }
        if (open.length === 0) continue;
        for (const p of identityPolicies) {
          const f = findings.get(p.ref) ?? { policy: p, where: [] };
          f.where.push(...open);
          findings.set(p.ref, f);
        }
      }
      for (const { policy, where } of findings.values()) {
        const effect =
          policy.action === "DENY"
            ? "plaintext requests have no principal or namespace, so they bypass this DENY"
            : "plaintext requests have no principal or namespace, so this ALLOW refuses them (403) whoever sends them";
        const [, name] = policy.ref.split("/");
        reportViolation(
          `${policy.ref} matches by principals/namespaces, but ${where.join("; ")}: ${effect}. ` +
            `Make these workloads STRICT (PeerAuthentication) or match on something a plaintext request carries.`,
          a.urnOf("AuthorizationPolicy", policy.namespace, name),
        );
      }
    },
  };
}
