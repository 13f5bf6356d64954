/**
 * The stack read once per validation: its Kubernetes objects, the mesh model built from them and
 * the predicted matrix. Stack policies share it, so a pack run builds the model once.
 */
import { buildModel, type MeshModel } from "../mesh/model/index";
import { readMeshConfig } from "../mesh/model/mesh-config";
import { predictModel } from "../mesh/predict";
import { cellName, cellText } from "../mesh/matrix";
import type { Cell, Prediction } from "../mesh/prediction";
import { DEFAULT_MESH_CONFIG, type KubeObject, type MeshConfig } from "../mesh/types";
import { findStackIntent, type StackIntent } from "./intent";
import { declaredRevisions, stackObjects, type StackObject, type StackResource } from "./stack-objects";

export interface StackAnalysis {
  objects: StackObject[];
  kubeObjects: KubeObject[];
  mesh: MeshConfig;
  /** Undefined when the model cannot read the objects; `modelError` says why. */
  model?: MeshModel;
  prediction?: Prediction;
  modelError?: string;
  intent?: StackIntent;
  intentError?: string;
  /** The deploying resource's URN of an object, by `Kind namespace/name`. */
  urnOf(kind: string, namespace: string | undefined, name: string): string | undefined;
}

const cache = new WeakMap<readonly StackResource[], StackAnalysis>();

function key(kind: string, namespace: string | undefined, name: string): string {
  return `${kind} ${namespace || "default"}/${name}`;
}

export function analyzeStack(resources: readonly StackResource[]): StackAnalysis {
  const hit = cache.get(resources);
  if (hit) return hit;
  const objects = stackObjects(resources);
  const kubeObjects = objects.map((s) => s.object);
  const urns = new Map(objects.map((s) => [key(s.object.kind, s.object.metadata.namespace, s.object.metadata.name), s.urn]));
  let mesh: MeshConfig;
  const result: Partial<StackAnalysis> = { objects, kubeObjects };
  try {
    mesh = readMeshConfig(kubeObjects);
  } catch (e) {
    mesh = { ...DEFAULT_MESH_CONFIG };
    result.modelError = (e as Error).message;
  }
  if (!result.modelError) {
    try {
      result.model = buildModel(kubeObjects, { revisions: declaredRevisions(kubeObjects) });
      result.prediction = predictModel(result.model);
    } catch (e) {
      result.model = undefined;
      result.modelError = (e as Error).message;
    }
  }
  try {
    result.intent = findStackIntent(objects, mesh.rootNamespace);
  } catch (e) {
    result.intentError = (e as Error).message;
  }
  const analysis: StackAnalysis = {
    ...(result as StackAnalysis),
    mesh,
    urnOf: (kind, namespace, name) => urns.get(key(kind, namespace, name)),
  };
  cache.set(resources, analysis);
  return analysis;
}

/** What curl shows, then why: `000: plaintext client (no sidecar) → STRICT …`. */
export function describeOutcome(p: Cell): string {
  return `${cellText(p)}: ${p.reason}`;
}

export function succeeded(p: Cell): boolean {
  return p.code >= 200 && p.code < 400;
}

/** Several cells in one message, capped so that a violation stays readable. */
export function listCells(cells: readonly Cell[], max = 6): string {
  const shown = cells.slice(0, max).map((p) => `${cellName(p)} (${describeOutcome(p)})`);
  if (cells.length > max) shown.push(`and ${cells.length - max} more`);
  return shown.join("; ");
}

/** The message every model-based policy reports when the model cannot read the stack. */
export function modelErrorMessage(a: StackAnalysis): string {
  return `the mesh model cannot read this stack, so its outcomes cannot be checked: ${a.modelError}`;
}
