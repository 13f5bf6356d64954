import { parse } from "yaml";
import { DEFAULT_MESH_CONFIG, ISTIOD_NAMESPACE, MESH_CONFIGMAP, type KubeObject, type MeshConfig } from "../types";
import { ModelInputError, objectRef } from "./errors";

/**
 * MeshConfig from the input's ConfigMap `istio` (in istio-system, or in a namespace that its own
 * `rootNamespace` names); Istio's defaults for every field it does not set.
 */
export function readMeshConfig(objects: readonly KubeObject[]): MeshConfig {
  const candidates = objects.filter(
    (o) => o.kind === "ConfigMap" && o.apiVersion === "v1" && o.metadata?.name === MESH_CONFIGMAP,
  );
  const parsed = candidates.map((cm) => ({ cm, mesh: parseMeshConfig(cm) }));
  const chosen =
    parsed.find((p) => p.cm.metadata.namespace === ISTIOD_NAMESPACE) ??
    parsed.find((p) => p.mesh.rootNamespace === p.cm.metadata.namespace);
  return chosen ? chosen.mesh : { ...DEFAULT_MESH_CONFIG };
}

export function parseMeshConfig(cm: KubeObject): MeshConfig {
  const ref = objectRef("ConfigMap", cm.metadata.namespace, cm.metadata.name);
  const data = cm.data as Record<string, unknown> | undefined;
  const text = data?.mesh;
  if (text === undefined) return { ...DEFAULT_MESH_CONFIG };
  if (typeof text !== "string") {
    throw new ModelInputError(ref, `data.mesh must be a YAML string, found ${typeof text}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ModelInputError(ref, `data.mesh is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return { ...DEFAULT_MESH_CONFIG };
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ModelInputError(ref, `data.mesh must hold a YAML mapping, found ${Array.isArray(doc) ? "a list" : typeof doc}`);
  }
  const m = doc as Record<string, unknown>;
  return {
    rootNamespace: stringField(ref, m, "rootNamespace", DEFAULT_MESH_CONFIG.rootNamespace),
    trustDomain: stringField(ref, m, "trustDomain", DEFAULT_MESH_CONFIG.trustDomain),
    enableAutoMtls: boolField(ref, m, "enableAutoMtls", DEFAULT_MESH_CONFIG.enableAutoMtls),
  };
}

function stringField(ref: string, m: Record<string, unknown>, key: string, dflt: string): string {
  const v = m[key];
  if (v === undefined || v === null || v === "") return dflt;
  if (typeof v !== "string") throw new ModelInputError(ref, `mesh.${key} must be a string, found ${JSON.stringify(v)}`);
  return v;
}

function boolField(ref: string, m: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = m[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean") {
    throw new ModelInputError(ref, `mesh.${key} must be true or false, found ${JSON.stringify(v)}`);
  }
  return v;
}
