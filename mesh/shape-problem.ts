/**
 * A problem Istio's validation finds in one object, as the shape rules (mesh/*-rules.ts) return it.
 * No zod here (mesh/schema.ts has it): the model imports this module, and the probe's serialized
 * provider captures the model, which cannot capture zod's modules.
 */
import type { YamlPath } from "./yaml";

/** `spec.rules[0].from[1].source.principals`, the notation of `kubectl explain` and API errors. */
export function fieldPath(path: YamlPath): string {
  let s = "";
  for (const seg of path) s += typeof seg === "number" ? `[${seg}]` : s === "" ? seg : `.${seg}`;
  return s;
}

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
