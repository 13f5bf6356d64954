/**
 * A RequestAuthentication only rejects invalid tokens; a request without a token passes unless an
 * AuthorizationPolicy requires a request principal. Each RequestAuthentication's workloads are
 * probed with the model without a token: when a request succeeds, the token is not required.
 * JWKS must be fetched over https (istiod fetches them; http allows key substitution).
 */
import type { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { objectRef } from "../mesh/model/errors";
import { namespaceOf } from "../mesh/model/workloads";
import { predictModel } from "../mesh/predict";
import type { Cell } from "../mesh/prediction";
import type { JWTRule, KubeObject } from "../mesh/types";
import { analyzeStack, listCells, modelErrorMessage, succeeded, type StackAnalysis } from "./analysis";

export const REQUEST_AUTHENTICATION = "request-authentication-requires-token";
const DEFAULT_PATH = "/headers";

/** A concrete path that an AuthorizationPolicy path pattern ("/admin/*", "*.json", "/x") matches. */
function concretePath(pattern: string): string {
  if (pattern.endsWith("*")) return `${pattern.slice(0, -1)}probe`;
  if (pattern.startsWith("*")) return `/probe${pattern.slice(1)}`;
  return pattern;
}

/**
 * Where a token is required, per the AuthorizationPolicies (on the RequestAuthentication's
 * workloads) that match request principals; /headers when none does or a rule has no paths.
 */
function tokenPaths(a: StackAnalysis, raRef: string): string[] {
  const paths = new Set<string>();
  for (const w of a.model!.workloads) {
    const http = a.model!.http.forWorkload(w);
    if (!http.jwtRules.some((j) => j.ref === raRef)) continue;
    for (const p of [...http.allow, ...http.deny]) {
      for (const rule of p.rules) {
        const byToken = (rule.from ?? []).some((f) => f.source?.requestPrincipals !== undefined || f.source?.notRequestPrincipals !== undefined);
        if (!byToken) continue;
        const ops = (rule.to ?? []).flatMap((t) => t.operation?.paths ?? []);
        if (ops.length === 0) paths.add(DEFAULT_PATH);
        for (const o of ops) paths.add(concretePath(o));
      }
    }
  }
  return paths.size ? [...paths].sort() : [DEFAULT_PATH];
}

function checkJwksUris(a: StackAnalysis, ra: KubeObject, report: ReportViolation): void {
  const rules = ((ra.spec as { jwtRules?: JWTRule[] } | undefined)?.jwtRules ?? []) as JWTRule[];
  rules.forEach((rule, i) => {
    if (rule.jwksUri !== undefined && !/^https:\/\//i.test(rule.jwksUri)) {
      report(
        `${objectRef(ra.kind, ra.metadata.namespace, ra.metadata.name)} spec.jwtRules[${i}].jwksUri is ${JSON.stringify(rule.jwksUri)}; allowed: an https:// URL (keys fetched over plaintext can be replaced in transit).`,
        a.urnOf("RequestAuthentication", ra.metadata.namespace, ra.metadata.name),
      );
    }
  });
}

export function requestAuthentication(): StackValidationPolicy {
  return {
    name: REQUEST_AUTHENTICATION,
    description: "Workloads with a RequestAuthentication also have an AuthorizationPolicy that requires a token, and JWKS URIs are https.",
    severity: "high",
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      const ras = a.kubeObjects.filter((o) => o.kind === "RequestAuthentication");
      if (ras.length === 0) return args.notApplicable("no RequestAuthentication");
      for (const ra of ras) checkJwksUris(a, ra, reportViolation);
      if (!a.model || !a.prediction) {
        reportViolation(modelErrorMessage(a));
        return;
      }
      const model = a.model;
      // Which RequestAuthentication applies to which Service ports, by the model's own selection.
      const portsByRa = new Map<string, Set<string>>();
      for (const sp of model.servicePorts) {
        for (const e of sp.endpoints) {
          if (!e.workload.sidecar) continue;
          for (const { ref } of model.http.forWorkload(e.workload).jwtRules) {
            const set = portsByRa.get(ref) ?? new Set<string>();
            set.add(sp.id);
            portsByRa.set(ref, set);
          }
        }
      }
      for (const ra of ras) {
        const ref = objectRef(ra.kind, namespaceOf(ra), ra.metadata.name);
        const ports = portsByRa.get(ref);
        if (!ports) continue;
        const accepted: Cell[] = [];
        for (const path of tokenPaths(a, ref)) {
          // The model's request carries no token unless asked; the default path is /headers.
          const prediction = path === DEFAULT_PATH ? a.prediction! : predictModel(model, { request: { path } });
          accepted.push(...prediction.probes.filter((p) => ports.has(p.to) && succeeded(p)).map((p) => ({ ...p, to: `${p.to}${path}` })));
        }
        if (accepted.length === 0) continue;
        reportViolation(
          `${ref} validates tokens on ${[...ports].join(", ")}, but nothing requires one: ${accepted.length} request(s) without a token are predicted to succeed: ${listCells(accepted)}. ` +
            `Add an AuthorizationPolicy with rules[].from[].source.requestPrincipals ["*"] (ALLOW) or notRequestPrincipals ["*"] (DENY).`,
          a.urnOf("RequestAuthentication", ra.metadata.namespace, ra.metadata.name),
        );
      }
    },
  };
}
