/** A problem Istio's validation finds in one object, as the shape rules (mesh/*-rules.ts) return it. */
import { fieldPath } from "./schema";
import type { YamlPath } from "./yaml";

/** A problem with one object: where in it, what is wrong with the value there, what is allowed. */
export interface ShapeProblem {
  path: YamlPath;
  /** Reads after the field or its value: "is empty", "requires …". */
  problem: string;
  allowed: string;
}

/** `spec.portLevelMtls is empty; allowed: …`, for messages that name the object before it. */
export function describeProblem(p: ShapeProblem): string {
  return `${fieldPath(p.path)} ${p.problem}; allowed: ${p.allowed}`;
}
