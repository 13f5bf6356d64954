/**
 * A DestinationRule whose TLS setting breaks traffic that auto mTLS would carry: DISABLE toward a
 * STRICT sidecar server (the client sidecar sends plaintext: 503), ISTIO_MUTUAL toward a workload
 * without a sidecar (mTLS bytes reach a plaintext app: 503). Decided by the model, not by fields:
 * each rule's cells are predicted with and without it, and the cells that it turns from success
 * into failure are named.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { objectRef } from "../mesh/model/errors";
import { predict } from "../mesh/predict";
import type { Cell } from "../mesh/prediction";
import { analyzeStack, listCells, modelErrorMessage, succeeded } from "./analysis";

export const DESTINATION_RULE_TLS = "destination-rule-breaks-traffic";

/** The TLS modes a rule sets, e.g. "DISABLE", "ISTIO_MUTUAL on port 8000". */
function tlsSettings(spec: Record<string, unknown> | undefined): string[] {
  const tp = (spec?.trafficPolicy ?? {}) as { tls?: { mode?: string }; portLevelSettings?: { port?: { number?: number }; tls?: { mode?: string } }[] };
  const out: string[] = [];
  if (tp.tls?.mode) out.push(tp.tls.mode);
  for (const p of tp.portLevelSettings ?? []) if (p.tls?.mode) out.push(`${p.tls.mode} on port ${p.port?.number}`);
  return out;
}

export function destinationRuleTls(): StackValidationPolicy {
  return {
    name: DESTINATION_RULE_TLS,
    description: "A DestinationRule's TLS setting does not break requests that would succeed without it (DISABLE toward STRICT, ISTIO_MUTUAL toward no sidecar).",
    severity: "high",
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      const rules = a.kubeObjects.filter((o) => o.kind === "DestinationRule" && tlsSettings(o.spec as Record<string, unknown>).length > 0);
      if (rules.length === 0) return args.notApplicable("no DestinationRule sets TLS");
      if (!a.prediction) {
        reportViolation(modelErrorMessage(a));
        return;
      }
      const withRules = new Map(a.prediction.probes.map((p) => [`${p.from}|${p.to}`, p]));
      for (const rule of rules) {
        const without = predict(a.kubeObjects.filter((o) => o !== rule));
        const broken: Cell[] = [];
        for (const before of without.probes) {
          const after = withRules.get(`${before.from}|${before.to}`);
          if (after && succeeded(before) && !succeeded(after)) broken.push(after);
        }
        if (broken.length === 0) continue;
        const spec = rule.spec as { host?: string };
        reportViolation(
          `${objectRef(rule.kind, rule.metadata.namespace, rule.metadata.name)} (host ${spec.host}, tls ${tlsSettings(rule.spec as Record<string, unknown>).join(", ")}) breaks ` +
            `${broken.length} request(s) that succeed without it: ${listCells(broken)}. ` +
            `Remove the TLS setting and let auto mTLS choose, or align it with the server's PeerAuthentication.`,
          a.urnOf("DestinationRule", rule.metadata.namespace, rule.metadata.name),
        );
      }
    },
  };
}
