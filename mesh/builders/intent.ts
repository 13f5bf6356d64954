/**
 * ConfigMap `istio-mtls-intent` in the mesh root namespace: the stack's declared posture
 * (`production`), connectivity intent and mesh settings, deployed so that the policy pack, which
 * sees only resources, can check them against the model, and so that the cluster documents what
 * it promises. `mesh` is the meshConfig istiod's Helm values get (meshConfigValues): with Istio
 * installed elsewhere (istio.install false) no release carries it, and the pack reads it here;
 * `revision` is the Istio revision whose injection webhooks the stack's pods meet (installedRevision).
 */
import { stringify } from "yaml";
import { isDnsLabel, isPort } from "../names";
import type { MeshConfig } from "../types";
import type { ConfigMap } from "./kinds";
import { meshConfigValues } from "./mesh-config";

export const INTENT_CONFIGMAP = "istio-mtls-intent";

/** "mtls": must succeed over mTLS; "allowed": must succeed; "refused": must not succeed. */
export const INTENT_EXPECTATIONS = ["mtls", "allowed", "refused"] as const;
export type IntentExpectation = (typeof INTENT_EXPECTATIONS)[number];

/** A declared expectation for one cell of the matrix, as the stack config and the ConfigMap hold it. */
export interface IntentEntry {
  /** `<workload>.<namespace>` */
  from: string;
  /** `<service>.<namespace>:<port>` */
  to: string;
  expect: IntentExpectation;
}

/** `<workload>.<namespace>`, as a Cell names a client; undefined when it is not one. */
export function parseIntentFrom(s: string): { workload: string; namespace: string } | undefined {
  const m = /^([^.:]+)\.([^.:]+)$/.exec(s);
  return m && isDnsLabel(m[1]) && isDnsLabel(m[2]) ? { workload: m[1], namespace: m[2] } : undefined;
}

/** `<service>.<namespace>:<port>`, as a Cell names a target; undefined when it is not one. */
export function parseIntentTo(s: string): { service: string; namespace: string; port: number } | undefined {
  const m = /^([^.:]+)\.([^.:]+):(\d+)$/.exec(s);
  return m && isDnsLabel(m[1]) && isDnsLabel(m[2]) && isPort(Number(m[3])) ? { service: m[1], namespace: m[2], port: Number(m[3]) } : undefined;
}

export function buildIntentConfigMap(mesh: MeshConfig, production: boolean, intent: readonly IntentEntry[], revision: string): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: INTENT_CONFIGMAP, namespace: mesh.rootNamespace, labels: { "app.kubernetes.io/managed-by": "istio-mtls" } },
    data: {
      production: String(production),
      intent: stringify(intent.map(({ from, to, expect }) => ({ from, to, expect }))),
      mesh: stringify(meshConfigValues(mesh)),
      revision,
    },
  };
}
