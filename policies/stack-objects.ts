/**
 * The stack as the model sees it: every `kubernetes:*` resource's manifest as a plain KubeObject,
 * and MeshConfig as ConfigMap `istio` (where the model reads it) from the mesh settings the
 * intent ConfigMap records: planStack gives istiod's Helm values the same ones.
 */
import { INTENT_CONFIGMAP } from "../mesh/builders/intent";
import { MESH_CONFIGMAP } from "../mesh/builders/mesh-config";
import { HELM_RELEASE_TYPE } from "../mesh/plan";
import type { KubeObject } from "../mesh/types";

/** What the pack needs of a Pulumi resource; PolicyResource and the plan's records both fit. */
export interface StackResource {
  type: string;
  props: Record<string, unknown>;
  urn: string;
  name: string;
}

export interface StackObject {
  object: KubeObject;
  /** The resource that deploys it, for reportViolation(message, urn). */
  urn: string;
}

const KUBERNETES_TYPE = /^kubernetes:([^:]+):([^:]+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * `kubernetes:apps/v1:Deployment` → apps/v1, Deployment; `core/v1` is the core group ("v1").
 * The SDK sets apiVersion and kind as inputs, but a CustomResource carries them only in props.
 */
function typeTokenGroupKind(type: string): { apiVersion: string; kind: string } | undefined {
  const m = KUBERNETES_TYPE.exec(type);
  if (!m) return undefined;
  const apiVersion = m[1].startsWith("core/") ? m[1].slice("core/".length) : m[1];
  return { apiVersion, kind: m[2] };
}

/** One manifest, or undefined for resources that are not Kubernetes objects (providers, components, Helm, yaml groups). */
export function kubeObjectOf(r: StackResource): KubeObject | undefined {
  const fromType = typeTokenGroupKind(r.type);
  if (!fromType || r.type === HELM_RELEASE_TYPE || fromType.kind.endsWith("List")) return undefined;
  const props = r.props;
  const metadata = isRecord(props.metadata) ? props.metadata : {};
  const name = typeof metadata.name === "string" && metadata.name !== "" ? metadata.name : r.name;
  const apiVersion = typeof props.apiVersion === "string" ? props.apiVersion : fromType.apiVersion;
  const kind = typeof props.kind === "string" ? props.kind : fromType.kind;
  // A plain copy: policy props are read-only proxies that throw on unknown preview values.
  const copy = JSON.parse(JSON.stringify(props)) as Record<string, unknown>;
  return { ...copy, apiVersion, kind, metadata: { ...(copy.metadata as object), name } } as KubeObject;
}

/** ConfigMap `istio` from the stack's declared mesh settings (`istio-mtls-intent` data.mesh). */
function declaredMeshConfigMap(o: KubeObject): KubeObject | undefined {
  const mesh = (o.data as Record<string, unknown> | undefined)?.mesh;
  if (o.kind !== "ConfigMap" || o.metadata.name !== INTENT_CONFIGMAP || typeof mesh !== "string") return undefined;
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: MESH_CONFIGMAP, namespace: o.metadata.namespace }, data: { mesh } };
}

/** The Istio revision the stack declares (`istio-mtls-intent` data.revision), as the model's BuildOptions.revisions. */
export function declaredRevisions(objects: readonly KubeObject[]): string[] | undefined {
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === INTENT_CONFIGMAP);
  const revision = (cm?.data as Record<string, unknown> | undefined)?.revision;
  return typeof revision === "string" && revision !== "" ? [revision] : undefined;
}

export function stackObjects(resources: readonly StackResource[]): StackObject[] {
  const out: StackObject[] = [];
  for (const r of resources) {
    const object = kubeObjectOf(r);
    if (object) out.push({ object, urn: r.urn });
  }
  if (!out.some((s) => s.object.kind === "ConfigMap" && s.object.metadata.name === MESH_CONFIGMAP)) {
    const declared = out.flatMap((s) => {
      const cm = declaredMeshConfigMap(s.object);
      return cm ? [{ object: cm, urn: s.urn }] : [];
    });
    out.push(...declared);
  }
  return out;
}
