/**
 * A plan as `istio-mtls plan` prints it: a table, markdown (a pull-request comment) or JSON of
 * resources, predicted matrix and policy findings; or, with `--format yaml`, every object the
 * stack applies, in apply order, as `helm template` would.
 */
import { stringify } from "yaml";
import { chartSource } from "../../mesh/chart-source";
import { alignColumns, formatMarkdown, formatTable, jsonCells } from "../../mesh/matrix";
import { resourceName, resourceType, type PlanItem } from "../../mesh/plan";
import { PROBE_RESOURCE, propsOf, type Plan, type PlanViolation } from "./build";

export const PLAN_FORMATS = ["table", "json", "markdown", "yaml"] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

function textTable(header: string[], rows: string[][]): string {
  return alignColumns([header, header.map((h) => "-".repeat(h.length)), ...rows]).join("\n");
}

function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => " --- |").join("")}`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** The probes exactly as `istio-mtls predict --format json` prints them. */

export function planJson(plan: Plan): string {
  return JSON.stringify(
    {
      resources: plan.resources.map(({ type, kind, namespace, name }) => ({ type, kind, namespace, name })),
      probeClients: plan.probeClients,
      probes: jsonCells(plan.prediction),
      violations: plan.violations,
    },
    null,
    2,
  );
}

/**
 * Which cells the plan can predict: only those between the stack's own objects. What app teams
 * apply in the managed namespaces is not in the plan; the probe predicts its clients' cells again
 * live, at probe time (probe/live.ts).
 */
export function probeScopeLines(plan: Plan): string[] {
  if (!plan.resources.some((r) => r.type === PROBE_RESOURCE.type)) return ["The probe is off (probe.enabled: false): nothing is proven after apply."];
  const targets = new Set(plan.prediction.probes.map((p) => p.to)).size;
  return [
    `Predicted before apply: ${plan.prediction.probes.length} cells, from the stack's own objects (${targets} Service ports of its own).`,
    "Predicted live at probe time: the probe clients' cells to every Service port of the managed namespaces, the stack's and those app teams applied, read from the cluster; the other clients' cells are probed as predicted here.",
  ];
}

export function probeClientRows(plan: Plan): string[][] {
  return plan.probeClients.map((c) => [c.from, c.sidecar ? "yes" : "no", c.sidecar ? c.identity : `none over plaintext (${c.sidecarWhy})`]);
}

export function findingLines(violations: readonly PlanViolation[], markdown: boolean): string[] {
  if (violations.length === 0) return ["none"];
  return violations.map((v) => (markdown ? `- **${v.level}** \`${v.policy}\`: ${v.message}` : `${v.level} ${v.policy}: ${v.message}`));
}

// ---- --format yaml ----------------------------------------------------------------------------

interface YamlDocument {
  comments: string[];
  object: Record<string, unknown>;
}

/** A Kubernetes object as sent: apiVersion, kind and metadata first, as manifests are written. */
function kubeDocument(props: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion, kind, metadata, ...rest } = props;
  return { apiVersion, kind, metadata, ...rest };
}

/**
 * A Helm release as what it asks Helm for, not the chart's manifests (Helm renders those at
 * apply): `helm.sh/v3 Release` as Pulumi's type names it, which `kubectl apply` refuses.
 */
function releaseDocument(item: Extract<PlanItem, { release: unknown }>): YamlDocument {
  const { name, namespace, chart, version, repository, values } = item.release;
  const spec = { ...chartSource(chart, repository), version, values };
  return {
    comments: [
      item.installer === "cert-manager"
        ? `Helm release made by the @pulumi/kubernetes-cert-manager component${repository === undefined ? "; the chart repository is its default" : ""}`
        : "Helm release: Helm renders the chart at apply; shown are chart, version and values",
    ],
    object: { apiVersion: "helm.sh/v3", kind: "Release", metadata: { name, namespace }, spec },
  };
}

/**
 * `--format yaml`: every object the stack applies, in apply order, as a multi-document stream
 * (like `helm template`): Kubernetes objects as their inputs, Helm releases as chart, version and
 * values. The connectivity probe, which is not a Kubernetes object, is named only.
 */
export function planYaml(plan: Plan): string {
  const docs: YamlDocument[] = plan.applied.map((item) => {
    const source = `Source: ${resourceType(item)} ${resourceName(item)}`;
    if ("object" in item) return { comments: [source], object: kubeDocument(structuredClone(propsOf(item))) };
    const d = releaseDocument(item);
    return { comments: [source, ...d.comments], object: d.object };
  });
  const notShown = plan.resources.filter((r) => r.type === PROBE_RESOURCE.type).map((r) => `${r.type} ${r.name}`);
  const header = [
    `istio-mtls plan: stack ${plan.stack}, ${docs.length} objects in apply order (each after what it waits for).`,
    "Kubernetes objects are the inputs the stack sends; Helm releases name chart, version and values.",
    ...(notShown.length ? [`Not Kubernetes objects, not shown: ${notShown.join(", ")}.`] : []),
    `Policy findings (${plan.violations.length}):${plan.violations.length ? "" : " none"}`,
    ...plan.violations.map((v) => `  ${v.level} ${v.policy}: ${v.message}`),
  ];
  const comment = (lines: string[]) => lines.flatMap((l) => l.split("\n")).map((l) => `# ${l}`.trimEnd()).join("\n");
  // Strings quoted as YAML 1.1 needs them too: kubectl's parser reads an unquoted yes or on as a boolean.
  const yaml = (o: unknown) => stringify(o, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });
  const body = docs.map((d) => `${comment(d.comments)}\n${yaml(d.object)}`);
  return `${comment(header)}\n${body.map((b, i) => (i === 0 ? b : `---\n${b}`)).join("")}`.trimEnd();
}

export function formatPlan(plan: Plan, format: PlanFormat): string {
  if (format === "json") return planJson(plan);
  if (format === "yaml") return planYaml(plan);
  const md = format === "markdown";
  const table = md ? markdownTable : textTable;
  const heading = (s: string) => (md ? `### ${s}` : `${s}:`);
  const out: string[] = [];
  out.push(heading(`Resources to create for stack ${plan.stack} (${plan.resources.length})`));
  out.push(table(["kind", "namespace", "name", "type"], plan.resources.map((r) => [r.kind, r.namespace || "-", r.name, r.type])));
  out.push("");
  out.push(heading(`Clients the probe sends from (${plan.probeClients.length})`));
  if (plan.probeClients.length > 0) out.push(table(["client", "sidecar", "identity"], probeClientRows(plan)));
  out.push(...probeScopeLines(plan));
  out.push("");
  out.push(heading("Predicted connectivity"));
  out.push(plan.modelError ? `the model cannot read this stack: ${plan.modelError}` : (md ? formatMarkdown(plan.prediction) : formatTable(plan.prediction)).trimEnd());
  out.push("");
  out.push(heading(`Policy findings (${plan.violations.length})`));
  out.push(...findingLines(plan.violations, md));
  return out.join("\n");
}
