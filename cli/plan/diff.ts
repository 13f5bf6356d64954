/** `istio-mtls plan --against`: what changes from one plan (e.g. the base branch's) to another. */
import { diffPredictions, formatDiffJson, formatDiffMarkdown, formatDiffTable, type PredictionDiff } from "../../mesh/matrix";
import { resourceKey, type Plan, type PlanResource, type PlanViolation } from "./build";
import { findingLines, type PlanFormat } from "./format";

export interface PlanDiff {
  stack: string;
  cells: PredictionDiff;
  added: PlanResource[];
  removed: PlanResource[];
  changed: PlanResource[];
  violations: PlanViolation[];
}

export function diffPlans(base: Plan, head: Plan): PlanDiff {
  const baseKeys = new Set(base.resources.map(resourceKey));
  const headKeys = new Set(head.resources.map(resourceKey));
  return {
    stack: head.stack,
    cells: diffPredictions(base.prediction, head.prediction),
    added: head.resources.filter((r) => !baseKeys.has(resourceKey(r))),
    removed: base.resources.filter((r) => !headKeys.has(resourceKey(r))),
    changed: head.resources.filter((r) => baseKeys.has(resourceKey(r)) && base.props.get(resourceKey(r)) !== head.props.get(resourceKey(r))),
    violations: head.violations,
  };
}

export function formatPlanDiff(diff: PlanDiff, format: Exclude<PlanFormat, "yaml">, against: string): string {
  if (format === "json") {
    return JSON.stringify(
      {
        ...(JSON.parse(formatDiffJson(diff.cells)) as object),
        resources: { added: diff.added, removed: diff.removed, changed: diff.changed },
        violations: diff.violations,
      },
      null,
      2,
    );
  }
  const md = format === "markdown";
  const lines = [...diff.added.map((r) => `+ ${resourceKey(r)}`), ...diff.removed.map((r) => `- ${resourceKey(r)}`), ...diff.changed.map((r) => `~ ${resourceKey(r)}`)];
  const out: string[] = [];
  out.push(md ? `### istio-mtls plan: stack \`${diff.stack}\` against \`${against}\`` : `stack ${diff.stack} against ${against}:`);
  out.push("");
  out.push((md ? formatDiffMarkdown(diff.cells) : formatDiffTable(diff.cells)).trimEnd());
  out.push("");
  out.push(`Resources: ${diff.added.length} to create, ${diff.removed.length} to delete, ${diff.changed.length} to update.`);
  if (lines.length) out.push(md ? ["```diff", ...lines, "```"].join("\n") : lines.join("\n"));
  out.push("");
  out.push(md ? `**Policy findings (${diff.violations.length})**` : `Policy findings (${diff.violations.length}):`);
  out.push(...findingLines(diff.violations, md));
  return out.join("\n");
}
