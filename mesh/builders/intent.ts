/**
 * ConfigMap `istio-mtls-intent` in the mesh root namespace: the stack's declared posture
 * (`production`) and connectivity intent, deployed so that the policy pack, which sees only
 * resources, can check them against the model, and so that the cluster documents what it promises.
 */
import { stringify } from "yaml";
import type { ConfigMap } from "./kinds";

export const INTENT_CONFIGMAP = "istio-mtls-intent";

export interface IntentEntry {
  from: string;
  to: string;
  expect: "mtls" | "allowed" | "refused";
}

export function buildIntentConfigMap(rootNamespace: string, production: boolean, intent: readonly IntentEntry[]): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: INTENT_CONFIGMAP, namespace: rootNamespace, labels: { "app.kubernetes.io/managed-by": "istio-mtls" } },
    data: {
      production: String(production),
      intent: stringify(intent.map(({ from, to, expect }) => ({ from, to, expect }))),
    },
  };
}
