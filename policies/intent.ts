/**
 * The stack's declared intent, which the stack deploys as ConfigMap `istio-mtls-intent` in the
 * mesh root namespace: `data.production` ("true" | "false") and `data.intent`, a YAML list of
 * `{from: <workload>.<namespace>, to: <service>.<namespace>:<port>, expect: mtls|allowed|refused}`.
 */
import { parse } from "yaml";
import { INTENT_CONFIGMAP, INTENT_EXPECTATIONS, parseIntentFrom, parseIntentTo, type IntentEntry, type IntentExpectation } from "../mesh/builders/intent";
import { objectRef } from "../mesh/model/errors";
import type { KubeObject } from "../mesh/types";
import type { StackObject } from "./stack-objects";

export interface StackIntent {
  production: boolean;
  intent: IntentEntry[];
  /** `ConfigMap <ns>/istio-mtls-intent`. */
  ref: string;
  urn: string;
}

export class IntentError extends Error {
  constructor(readonly ref: string, message: string) {
    super(`${ref}: ${message}`);
    this.name = "IntentError";
  }
}

export function parseIntentConfigMap(cm: KubeObject, urn: string): StackIntent {
  const ref = objectRef(cm.kind, cm.metadata.namespace, cm.metadata.name);
  const data = (cm.data ?? {}) as Record<string, unknown>;
  const production = data.production ?? "false";
  if (production !== "true" && production !== "false") {
    throw new IntentError(ref, `data.production is ${JSON.stringify(production)}; allowed: "true", "false"`);
  }
  let list: unknown = [];
  if (data.intent !== undefined && data.intent !== "") {
    if (typeof data.intent !== "string") throw new IntentError(ref, `data.intent must be a YAML string, found ${typeof data.intent}`);
    try {
      list = parse(data.intent) ?? [];
    } catch (e) {
      throw new IntentError(ref, `data.intent is not valid YAML: ${(e as Error).message}`);
    }
  }
  if (!Array.isArray(list)) throw new IntentError(ref, `data.intent must be a YAML list, found ${typeof list}`);
  const intent = list.map((item: unknown, i): IntentEntry => {
    const e = (item ?? {}) as Record<string, unknown>;
    if (typeof e.from !== "string" || !parseIntentFrom(e.from)) {
      throw new IntentError(ref, `data.intent[${i}].from is ${JSON.stringify(e.from)}; allowed: <workload>.<namespace>, e.g. sleep.foo`);
    }
    if (typeof e.to !== "string" || !parseIntentTo(e.to)) {
      throw new IntentError(ref, `data.intent[${i}].to is ${JSON.stringify(e.to)}; allowed: <service>.<namespace>:<port>, e.g. httpbin.foo:8000`);
    }
    if (!(INTENT_EXPECTATIONS as readonly unknown[]).includes(e.expect)) {
      throw new IntentError(ref, `data.intent[${i}].expect is ${JSON.stringify(e.expect)}; allowed: ${INTENT_EXPECTATIONS.join(", ")}`);
    }
    return { from: e.from, to: e.to, expect: e.expect as IntentExpectation };
  });
  return { production: production === "true", intent, ref, urn };
}

/**
 * The intent ConfigMap of the stack: the one in the root namespace when several exist.
 * Undefined when the stack deploys none (the intent policies then have nothing to check).
 */
export function findStackIntent(objects: readonly StackObject[], rootNamespace: string): StackIntent | undefined {
  const found = objects.filter(
    (s) => s.object.kind === "ConfigMap" && s.object.apiVersion === "v1" && s.object.metadata.name === INTENT_CONFIGMAP,
  );
  const chosen = found.find((s) => s.object.metadata.namespace === rootNamespace) ?? found[0];
  return chosen ? parseIntentConfigMap(chosen.object, chosen.urn) : undefined;
}
