/**
 * In a production stack, workloads without a sidecar take plaintext whatever the PeerAuthentications
 * say (nothing enforces them), so a namespace whose workloads go without sidecars is an exception to
 * STRICT like a PERMISSIVE policy: its Namespace carries the same reason and expiry annotations
 * (mtls-exceptions.ts), checked the same way. Such a namespace is one labelled
 * `istio-injection: disabled`, or one where the model finds a workload without a sidecar. The
 * stack's plaintext probe client (mesh/probe-clients.ts) is no such workload: it only sends, from
 * a namespace of its own, to prove that STRICT refuses it.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { INJECTION_NAMESPACE_LABEL } from "../mesh/model/workloads";
import { PLAINTEXT_PROBE_NAMESPACE, probeClientName } from "../mesh/probe-clients";
import { analyzeStack } from "./analysis";
import { DEFAULT_MAX_EXCEPTION_DAYS, exceptionProblems, MAX_EXCEPTION_DAYS_PROPERTY, type MtlsExceptionsConfig } from "./mtls-exceptions";
import type { PolicyClock } from "./options";
import { PRODUCTION_CONFIG_PROPERTY, productionOf, type ProductionConfig } from "./production";

export const PRODUCTION_SIDECAR_EXCEPTIONS = "production-sidecar-exceptions";

export function productionSidecarExceptions(clock: PolicyClock): StackValidationPolicy {
  return {
    name: PRODUCTION_SIDECAR_EXCEPTIONS,
    description:
      "In a production stack, a namespace whose workloads have no sidecar (plaintext) carries the exception annotations of mtls-exception-annotations.",
    severity: "high",
    configSchema: { properties: { ...PRODUCTION_CONFIG_PROPERTY, ...MAX_EXCEPTION_DAYS_PROPERTY } },
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      const config = args.getConfig<ProductionConfig & MtlsExceptionsConfig>();
      const p = productionOf(a, config);
      if (p.production === undefined) return reportViolation(p.error);
      if (!p.production) return args.notApplicable(p.notApplicable);
      const maxDays = config.maxExceptionDays ?? DEFAULT_MAX_EXCEPTION_DAYS;
      // Without a model (its error is reported by the model-based policies) the labels still tell.
      const bare = new Map<string, string[]>();
      const plaintextProbe = probeClientName(PLAINTEXT_PROBE_NAMESPACE);
      for (const w of a.model?.workloads ?? []) {
        if (!w.sidecar && w.id !== plaintextProbe) bare.set(w.namespace, [...(bare.get(w.namespace) ?? []), `${w.id} (${w.sidecarWhy})`]);
      }
      for (const { object, urn } of a.objects) {
        if (object.kind !== "Namespace" || object.apiVersion !== "v1") continue;
        const name = object.metadata.name;
        const labels = (object.metadata.labels ?? {}) as Record<string, unknown>;
        // The plaintext probe client's namespace is disabled by design; anything else there still counts.
        const disabled = labels[INJECTION_NAMESPACE_LABEL] === "disabled" && name !== PLAINTEXT_PROBE_NAMESPACE;
        const workloads = bare.get(name) ?? [];
        if (!disabled && workloads.length === 0) continue;
        const why = [...(disabled ? [`label ${INJECTION_NAMESPACE_LABEL}: disabled`] : []), ...(workloads.length ? [`no sidecar: ${workloads.join(", ")}`] : [])];
        const what = `${p.by}; Namespace ${name} lets plaintext in (${why.join("; ")})`;
        for (const m of exceptionProblems(what, object.metadata.annotations, clock(), maxDays, "enable sidecar injection")) {
          reportViolation(m, urn);
        }
      }
    },
  };
}
