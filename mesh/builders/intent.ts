/**
 * ConfigMap `istio-mtls-intent` in the mesh root namespace: the stack's declared posture
 * (`production`), connectivity intent and mesh settings, deployed so that the policy pack, which
 * sees only resources, can check them against the model, and so that the cluster documents what
 * it promises. `mesh` is the meshConfig istiod's Helm values get (meshConfigValues): with Istio
 * installed elsewhere (istio.install false) no release carries it, and the pack reads it here.
 */
import { stringify } from "yaml";
import type { MeshConfig } from "../types";
import type { ConfigMap } from "./kinds";
import { meshConfigValues } from "./mesh-config";

export const INTENT_CONFIGMAP = "istio-mtls-intent";

export interface IntentEntry {
  from: string;
  to: string;
  expect: "mtls" | "allowed" | "refused";
}

export function buildIntentConfigMap(mesh: MeshConfig, production: boolean, intent: readonly IntentEntry[]): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: INTENT_CONFIGMAP, namespace: mesh.rootNamespace, labels: { "app.kubernetes.io/managed-by": "istio-mtls" } },
    data: {
      production: String(production),
      intent: stringify(intent.map(({ from, to, expect }) => ({ from, to, expect }))),
      mesh: stringify(meshConfigValues(mesh)),
    },
  };
}
