/**
 * The stack's declared connectivity intent (ConfigMap istio-mtls-intent, data.intent) holds for
 * the model's prediction of the whole stack: "mtls" cells succeed over mTLS, "allowed" cells
 * succeed, "refused" cells do not. A declared cell the stack has no probe for is a violation too,
 * since it checks nothing.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import type { IntentEntry } from "../mesh/builders/intent";
import { cellName } from "../mesh/matrix";
import type { Cell } from "../mesh/prediction";
import { analyzeStack, describeOutcome, modelErrorMessage, succeeded } from "./analysis";

export const CONNECTIVITY_INTENT = "connectivity-intent";

/** Why the predicted cell does not meet the expectation; undefined when it does. */
export function intentMismatch(cell: IntentEntry, p: Cell): string | undefined {
  switch (cell.expect) {
    case "mtls":
      if (succeeded(p) && p.mtls) return undefined;
      return succeeded(p) ? "expected mTLS, predicted to succeed in plaintext" : "expected mTLS, predicted to fail";
    case "allowed":
      return succeeded(p) ? undefined : "expected to succeed, predicted to fail";
    case "refused":
      return succeeded(p) ? `expected to be refused, predicted to succeed${p.mtls ? " (mTLS)" : " in plaintext"}` : undefined;
  }
}

export function connectivityIntent(): StackValidationPolicy {
  return {
    name: CONNECTIVITY_INTENT,
    description: "The connectivity intent declared in ConfigMap istio-mtls-intent matches the model's prediction of the stack.",
    severity: "high",
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      if (a.intentError) {
        reportViolation(a.intentError);
        return;
      }
      const intent = a.intent;
      if (!intent || intent.intent.length === 0) return args.notApplicable("the stack declares no connectivity intent");
      if (!a.prediction) {
        reportViolation(modelErrorMessage(a), intent.urn);
        return;
      }
      const cells = new Map(a.prediction.probes.map((p) => [cellName(p), p]));
      intent.intent.forEach((cell, i) => {
        const p = cells.get(cellName(cell));
        if (!p) {
          const clients = [...new Set(a.prediction!.probes.map((q) => q.from))].join(", ");
          reportViolation(
            `${intent.ref} data.intent[${i}] ${cellName(cell)} names no predicted request; clients: ${clients || "none"}; targets are <service>.<namespace>:<service port>.`,
            intent.urn,
          );
          return;
        }
        const why = intentMismatch(cell, p);
        if (why) reportViolation(`${intent.ref} data.intent[${i}] ${cellName(cell)}: ${why}: ${describeOutcome(p)}.`, intent.urn);
      });
    },
  };
}
