/**
 * Shrinks a disagreeing scenario to a smallest one that still disagrees: drop whole policy
 * objects, reset namespaces and workloads to the plain demo, then drop fields and list entries of
 * what is left, keeping each step that still disagrees (greedy, as property-test shrinkers do).
 */
import type { KubeObject } from "../../mesh/types";
import { plainDemo } from "./generate";

/** The demo's skeleton: reset to the plain demo, never removed (the cells are named after them). */
const SKELETON = new Set(["Namespace", "Service", "Deployment"]);

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/** JSON paths under `root` whose removal leaves a smaller object: map keys and entries of lists longer than one. */
function removablePaths(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) {
    const own = v.length > 1 ? v.map((_, i) => [...path, i]) : [];
    return [...own, ...v.flatMap((x, i) => removablePaths(x, [...path, i]))];
  }
  if (v !== null && typeof v === "object") {
    return Object.entries(v).flatMap(([k, x]) => [[...path, k], ...removablePaths(x, [...path, k])]);
  }
  return [];
}

function without(o: KubeObject, path: (string | number)[]): KubeObject {
  const copy = structuredClone(o) as Record<string, unknown>;
  let node: unknown = copy;
  for (const seg of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[seg];
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) node.splice(last as number, 1);
  else delete (node as Record<string, unknown>)[last as string];
  return copy as KubeObject;
}

/** Every one-step smaller variant, the coarsest first. */
export function* candidates(objects: readonly KubeObject[]): Generator<KubeObject[]> {
  const plain = new Map(plainDemo().map((o) => [key(o), o]));
  // Objects beyond the demo's skeleton (an extra workload too) may go.
  for (let i = 0; i < objects.length; i++) {
    if (!SKELETON.has(objects[i]!.kind) || !plain.has(key(objects[i]!))) yield objects.filter((_, j) => j !== i);
  }
  for (let i = 0; i < objects.length; i++) {
    const p = plain.get(key(objects[i]!));
    if (p && JSON.stringify(p) !== JSON.stringify(objects[i])) yield objects.map((o, j) => (j === i ? structuredClone(p) : o));
  }
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i]!;
    if (SKELETON.has(o.kind)) continue;
    const paths = [
      ...(o.metadata.creationTimestamp ? [["metadata", "creationTimestamp"]] : []),
      ...removablePaths((o as Record<string, unknown>).spec, ["spec"]).filter((p) => !(p.length === 2 && p[1] === "host")),
      ...removablePaths((o as Record<string, unknown>).data, ["data"]),
    ];
    for (const p of paths) yield objects.map((x, j) => (j === i ? without(x, p) : x));
  }
}

export interface Shrunk {
  objects: KubeObject[];
  /** Scenarios evaluated while shrinking. */
  tries: number;
}

/**
 * `stillFails` answers for a batch at once (the oracle evaluates them in parallel); the first
 * failing candidate of a batch, in order, is kept. Stops after `budget` evaluations.
 */
export async function shrink(objects: readonly KubeObject[], stillFails: (batch: KubeObject[][]) => Promise<boolean[]>, batchSize: number, budget = 300): Promise<Shrunk> {
  let current = [...objects];
  let tries = 0;
  let progress = true;
  while (progress && tries < budget) {
    progress = false;
    const it = candidates(current);
    for (;;) {
      const batch: KubeObject[][] = [];
      while (batch.length < batchSize) {
        const r = it.next();
        if (r.done) break;
        batch.push(r.value);
      }
      if (batch.length === 0) break;
      const fails = await stillFails(batch);
      tries += batch.length;
      const hit = fails.indexOf(true);
      if (hit >= 0) {
        current = batch[hit]!;
        progress = true;
        break;
      }
      if (tries >= budget) break;
    }
  }
  return { objects: current, tries };
}
