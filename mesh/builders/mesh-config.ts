/**
 * A stand-in for istiod's ConfigMap `istio` (key `mesh`), so the model reads the same
 * rootNamespace, trustDomain and enableAutoMtls that the istiod Helm values set. Helm owns the
 * real ConfigMap; this one is for prediction only and is never deployed.
 */
import { stringify } from "yaml";
import { MESH_CONFIGMAP, type MeshConfig } from "../types";
import type { ConfigMap } from "./kinds";

export { MESH_CONFIGMAP };

/** The meshConfig block of istiod's Helm values, keys sorted. */
export function meshConfigValues(mesh: MeshConfig): Record<string, unknown> {
  return { enableAutoMtls: mesh.enableAutoMtls, rootNamespace: mesh.rootNamespace, trustDomain: mesh.trustDomain };
}

export function buildMeshConfigMap(mesh: MeshConfig): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: MESH_CONFIGMAP, namespace: mesh.rootNamespace },
    data: { mesh: stringify(meshConfigValues(mesh)) },
  };
}
