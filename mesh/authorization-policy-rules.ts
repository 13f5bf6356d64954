/**
 * What Istio's validation rejects in an AuthorizationPolicy's spec (istio/istio
 * pkg/config/validation/validation.go ValidateAuthorizationPolicy): the checks on the shape of
 * actions, rules, sources, operations and conditions. Values are not parsed here (IP blocks, path
 * templates, condition values): the model reads those where it uses them.
 */
import type { ShapeProblem } from "./shape-problem";
import type { YamlPath } from "./yaml";

type Fields = Record<string, unknown>;

const SOURCE_FIELDS = [
  "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
  "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", "serviceAccounts", "notServiceAccounts",
  "trustDomains", "notTrustDomains",
];
const OPERATION_FIELDS = ["ports", "notPorts", "methods", "notMethods", "paths", "notPaths", "hosts", "notHosts"];

const isMap = (v: unknown): v is Fields => v !== null && typeof v === "object" && !Array.isArray(v);
const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const present = (m: Fields, field: string) => listOf(m[field]).length > 0;

/** Empty strings in a value list (security.CheckEmptyValues). */
function emptyValues(m: Fields, fields: readonly string[], at: YamlPath): ShapeProblem[] {
  return fields.flatMap((f) =>
    listOf(m[f]).flatMap((v, k) => (v === "" ? [{ path: [...at, f, k], problem: "is empty", allowed: "a non-empty value" }] : [])),
  );
}

function ruleProblems(rule: unknown, at: YamlPath): ShapeProblem[] {
  if (!isMap(rule)) return [{ path: at, problem: "is not a rule", allowed: "a rule map ({} matches every request)" }];
  const out: ShapeProblem[] = [];
  for (const [field, inner, fields] of [["from", "source", SOURCE_FIELDS], ["to", "operation", OPERATION_FIELDS]] as const) {
    if (rule[field] === undefined || rule[field] === null) continue;
    if (Array.isArray(rule[field]) && (rule[field] as unknown[]).length === 0) {
      out.push({ path: [...at, field], problem: "is an empty list", allowed: `omit ${field}, or at least one entry` });
    }
    listOf(rule[field]).forEach((entry, j) => {
      const value = isMap(entry) ? entry[inner] : undefined;
      const where: YamlPath = [...at, field, j, inner];
      if (!isMap(value)) {
        out.push({ path: where, problem: "is missing", allowed: `a ${inner} with at least one field` });
        return;
      }
      if (!fields.some((f) => present(value, f))) out.push({ path: where, problem: "is empty", allowed: `at least one of ${fields.join(", ")}` });
      if (inner === "source" && ["principals", "notPrincipals", "namespaces", "notNamespaces"].some((f) => present(value, f))
        && ["serviceAccounts", "notServiceAccounts"].some((f) => present(value, f))) {
        out.push({ path: where, problem: "sets serviceAccounts with namespaces or principals", allowed: "serviceAccounts alone, or principals/namespaces" });
      }
      out.push(...emptyValues(value, fields, where));
    });
  }
  listOf(rule.when).forEach((w, j) => {
    const where: YamlPath = [...at, "when", j];
    if (!isMap(w) || typeof w.key !== "string" || w.key === "") out.push({ path: [...where, "key"], problem: "is missing or empty", allowed: "a condition key" });
    else if (!present(w, "values") && !present(w, "notValues")) out.push({ path: where, problem: `sets neither values nor notValues for key ${w.key}`, allowed: "values, notValues or both" });
  });
  return out;
}

/** What Istio's validation rejects in an AuthorizationPolicy's spec, as read from YAML. */
export function authorizationPolicySpecProblems(spec: Fields): ShapeProblem[] {
  const out: ShapeProblem[] = [];
  const action = spec.action ?? "ALLOW";
  // `rules` absent, null or [] all reach Istio as no rules.
  const rules = listOf(spec.rules);
  if ((action === "DENY" || action === "CUSTOM") && rules.length === 0) {
    out.push({ path: ["spec", "rules"], problem: `are missing: a ${action} policy without rules never applies`, allowed: "at least one rule ({} for every request)" });
  }
  const provider = isMap(spec.provider) ? spec.provider.name : undefined;
  if (action === "CUSTOM" && rules.length > 0 && (typeof provider !== "string" || provider === "")) {
    out.push({ path: ["spec", "provider", "name"], problem: "is missing", allowed: "the name of an extension provider in MeshConfig" });
  }
  if (spec.provider !== undefined && spec.provider !== null && action !== "CUSTOM") {
    out.push({ path: ["spec", "provider"], problem: `is set with action ${String(action)}`, allowed: "provider only with action CUSTOM" });
  }
  rules.forEach((r, i) => out.push(...ruleProblems(r, ["spec", "rules", i])));
  return out;
}
