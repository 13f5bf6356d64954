/**
 * `istio-mtls plan`: what `pulumi preview` would create for a stack, the connectivity matrix the
 * model predicts for it with reasons, and the policy pack's findings, without a cluster or the
 * Pulumi CLI. The stack program (index.ts) runs under Pulumi's mock runtime with the stack's
 * config file; the pack's policies run in-process over the resources it registered.
 * `--against FILE` renders another config (e.g. the base branch's) and prints what changes;
 * `--base-ref REF` renders that side with REF's code too, from a git worktree of it.
 * `--format yaml` prints instead every object the stack applies, in apply order, as `helm template` would.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { Command, Option } from "commander";
import { stringify } from "yaml";
import {
  alignColumns,
  diffPredictions,
  formatDiffJson,
  formatDiffMarkdown,
  formatDiffTable,
  formatJson,
  formatMarkdown,
  formatTable,
  type PredictionDiff,
} from "../mesh/matrix";
import type { Prediction } from "../mesh/prediction";
import { analyzeStack } from "../policies/analysis";
import { istioMtlsPolicies } from "../policies/pack";
import { parseDay } from "../mesh/day";
import { runPolicies, type PolicyFinding } from "../policies/run";
import { renderStack, type RenderedResource } from "./plan-render";
import { configWithProject, readProjectConfig } from "../config/file";

export const PLAN_FORMATS = ["table", "json", "markdown", "yaml"] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

export interface PlanResource {
  type: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface PlanViolation {
  policy: string;
  level: string;
  message: string;
}

export interface Plan {
  stack: string;
  resources: PlanResource[];
  prediction: Prediction;
  /** Set when the model cannot read the stack's objects (the policies report it too). */
  modelError?: string;
  violations: PlanViolation[];
  /** Props per resource key, to tell changed resources apart in a diff. */
  props: Map<string, string>;
  /** The resources to create in an order `pulumi up` could apply them in (see applyOrder). */
  applied: RenderedResource[];
  /** What the plan could not read (ESC environments), for stderr. */
  notices: string[];
}

export interface PlanInput {
  /** Stack name, for URNs and messages. */
  stack: string;
  /** The stack file whose `config:` the program runs with. */
  configFile: string;
  /** The project directory: its index.ts is the program. */
  projectDir: string;
  /** The program; default `<projectDir>/index.ts`. */
  program?: string;
  /** Pack config as `pulumi preview --policy-pack-config` takes it. */
  policyConfig?: PolicyPackConfig;
  /** The clock the exception policy reads. */
  now?: () => Date;
}

/** Where `istio-mtls` lives: its index.ts is the stack program. */
export const PROJECT_DIR = resolve(__dirname, "..");

/** Types that are our own ComponentResources: they group, they create nothing. */
const COMPONENT_TYPE = /^istio-mtls:/;

export function projectName(projectDir: string): string {
  return readProjectConfig(join(projectDir, "Pulumi.yaml")).name;
}

/** The config the program sees: Pulumi.yaml's project config under the stack file's. */
function readConfigMap(projectDir: string, file: string, stack: string): { config: Record<string, unknown>; notices: string[] } {
  if (!existsSync(file)) throw new Error(`stack config ${file} does not exist; allowed: an existing Pulumi.<stack>.yaml (see --stack, --config)`);
  return configWithProject(join(projectDir, "Pulumi.yaml"), file, stack);
}

export function planResourceOf(r: RenderedResource): PlanResource {
  const kindFromType = r.type.split(":").pop() ?? r.type;
  const props = r.props as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; namespace?: unknown; name?: unknown };
  if (r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release") {
    return {
      type: r.type,
      kind: typeof props.kind === "string" ? props.kind : kindFromType,
      namespace: typeof props.metadata?.namespace === "string" ? props.metadata.namespace : "",
      name: typeof props.metadata?.name === "string" ? props.metadata.name : r.name,
    };
  }
  return {
    type: r.type,
    kind: kindFromType,
    namespace: typeof props.namespace === "string" ? props.namespace : "",
    name: typeof props.name === "string" && props.name !== "" ? props.name : r.name,
  };
}

function resourceKey(r: PlanResource): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

function compareResources(a: PlanResource, b: PlanResource): number {
  return a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
}

/** Whether `pulumi up` would create it: providers and our components create nothing themselves. */
function isCreated(r: RenderedResource): boolean {
  return !COMPONENT_TYPE.test(r.type) && !r.type.startsWith("pulumi:");
}

function created(records: readonly RenderedResource[]): RenderedResource[] {
  return records.filter(isCreated);
}

/**
 * Helm's install order of kinds (helm.sh/helm/v3 pkg/releaseutil InstallOrder); other kinds (Istio
 * and cert-manager ones, Helm releases) come after these.
 */
const INSTALL_ORDER = [
  "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
  "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
  "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
  "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet",
  "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
];

function installRank(kind: string): number {
  const i = INSTALL_ORDER.indexOf(kind);
  return i < 0 ? INSTALL_ORDER.length : i;
}

/**
 * The records in an order `pulumi up` could create them in: each after everything it waits for
 * (`dependsOn`: parent, explicit dependencies, outputs its inputs use). Pulumi creates resources
 * that do not wait for each other in parallel; among those the order is Helm's by kind, then
 * namespace and name, so that it is the same on every run and two plans diff cleanly.
 */
export function applyOrder(records: readonly RenderedResource[]): RenderedResource[] {
  const byUrn = new Map<string, number[]>();
  records.forEach((r, i) => byUrn.set(r.urn, [...(byUrn.get(r.urn) ?? []), i]));
  const waiting = records.map((r) => new Set(r.dependsOn.flatMap((u) => byUrn.get(u) ?? []).filter((j) => records[j] !== r)));
  const keys = records.map((r) => planResourceOf(r));
  // Components apply nothing: taking them as soon as they are ready frees their children.
  const rank = records.map((r, i) => (isCreated(r) ? installRank(keys[i].kind) : -1));
  const before = (a: number, b: number) => rank[a] - rank[b] || compareResources(keys[a], keys[b]) || a - b;
  const out: number[] = [];
  const done = new Set<number>();
  while (done.size < records.length) {
    const ready = records.map((_, i) => i).filter((i) => !done.has(i) && [...waiting[i]].every((j) => done.has(j)));
    // A cycle cannot be registered under Pulumi; should one show up, keep registration order.
    const next = ready.length > 0 ? ready.sort(before)[0] : records.findIndex((_, i) => !done.has(i));
    done.add(next);
    out.push(next);
  }
  return out.map((i) => records[i]);
}

const PROBE_TYPE = "pulumi-nodejs:dynamic/probe:ConnectivityProbe";

/**
 * The cells the stack proves after apply: those of its connectivity probe's clients (the demo's
 * sleep workloads), as the stack's `predictedMatrix` output has them. A stack without a probe
 * shows every client workload's cells.
 */
function probedCells(prediction: Prediction, records: readonly RenderedResource[]): Prediction {
  const probe = records.find((r) => r.type === PROBE_TYPE);
  const predicted = (probe?.props as { predicted?: { from: string }[] } | undefined)?.predicted;
  if (!predicted) return prediction;
  const from = new Set(predicted.map((c) => c.from));
  return { probes: prediction.probes.filter((p) => from.has(p.from)) };
}

export async function buildPlan(input: PlanInput): Promise<Plan> {
  const project = projectName(input.projectDir);
  const { config, notices } = readConfigMap(input.projectDir, input.configFile, input.stack);
  const records = await renderStack({
    program: input.program ?? join(input.projectDir, "index.ts"),
    project,
    stack: input.stack,
    config,
  });
  const kept = created(applyOrder(records));
  const analysis = analyzeStack(kept);
  const findings: PolicyFinding[] = await runPolicies(istioMtlsPolicies({ now: input.now }), kept, input.policyConfig ?? {});
  const resources = kept.map(planResourceOf).sort(compareResources);
  const props = new Map(kept.map((r) => [resourceKey(planResourceOf(r)), JSON.stringify(r.props)]));
  return {
    stack: input.stack,
    resources,
    prediction: probedCells(analysis.prediction ?? { probes: [] }, kept),
    ...(analysis.modelError ? { modelError: analysis.modelError } : {}),
    violations: findings.map(({ policy, level, message }) => ({ policy, level, message })),
    props,
    applied: kept,
    notices,
  };
}

// ---- formatting ------------------------------------------------------------------------------

function textTable(header: string[], rows: string[][]): string {
  return alignColumns([header, header.map((h) => "-".repeat(h.length)), ...rows]).join("\n");
}

function markdownTable(header: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  return [`| ${header.map(esc).join(" | ")} |`, `|${header.map(() => " --- |").join("")}`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** The probes exactly as `istio-mtls predict --format json` prints them. */
function probesJson(prediction: Prediction): unknown[] {
  return (JSON.parse(formatJson(prediction)) as { probes: unknown[] }).probes;
}

export function planJson(plan: Plan): string {
  return JSON.stringify(
    {
      resources: plan.resources.map(({ type, kind, namespace, name }) => ({ type, kind, namespace, name })),
      probes: probesJson(plan.prediction),
      violations: plan.violations,
    },
    null,
    2,
  );
}

function findingLines(violations: readonly PlanViolation[], markdown: boolean): string[] {
  if (violations.length === 0) return ["none"];
  return violations.map((v) => (markdown ? `- **${v.level}** \`${v.policy}\`: ${v.message}` : `${v.level} ${v.policy}: ${v.message}`));
}

// ---- --format yaml ----------------------------------------------------------------------------

const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** @pulumi/kubernetes-cert-manager's component: one Helm release of Jetstack's cert-manager chart. */
const CERT_MANAGER_TYPE = "kubernetes-cert-manager:index:CertManager";
/** How Pulumi marks a secret value in resource inputs (the `4dabf18…` signature key and value). */
const SECRET_SIG = ["4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"] as const;
export const UNKNOWN_VALUE = "<unknown until apply>";
export const SECRET_VALUE = "<secret>";

interface YamlDocument {
  comments: string[];
  object: Record<string, unknown>;
}

function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? `${i ? "." : ""}${p}` : `[${JSON.stringify(p)}]`)).join("");
}

/** `props` with unknown inputs and secrets replaced by a marker, and the comments that name them. */
function marked(r: RenderedResource): { props: Record<string, unknown>; comments: string[] } {
  const props = structuredClone(r.props);
  for (const path of r.unknowns.filter((p) => p.length > 0)) {
    let at: Record<string | number, unknown> = props;
    path.slice(0, -1).forEach((k) => (at = at[k] as Record<string | number, unknown>));
    at[path[path.length - 1]] = UNKNOWN_VALUE;
  }
  const secrets: string[] = [];
  const redact = (v: unknown, path: (string | number)[]): unknown => {
    if (Array.isArray(v)) return v.map((x, i) => redact(x, [...path, i]));
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, unknown>;
    if (o[SECRET_SIG[0]] === SECRET_SIG[1]) {
      secrets.push(formatPath(path));
      return SECRET_VALUE;
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, redact(x, [...path, k])]));
  };
  const out = redact(props, []) as Record<string, unknown>;
  const comments = [
    ...(r.unknowns.length ? [`unknown under mocks, set at apply from other resources' outputs: ${r.unknowns.map(formatPath).join(", ")}`] : []),
    ...(secrets.length ? [`secret, not shown: ${secrets.join(", ")}`] : []),
  ];
  return { props: out, comments };
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
function releaseDocument(r: RenderedResource, props: Record<string, unknown>): YamlDocument {
  if (r.type === CERT_MANAGER_TYPE) {
    const { helmOptions, ...componentInputs } = props as { helmOptions?: Record<string, unknown> };
    const { name, namespace, chart, version, values, ...rest } = helmOptions ?? {};
    return {
      comments: ["Helm release made by the @pulumi/kubernetes-cert-manager component; chart and repository are its defaults unless set here"],
      object: release(name ?? r.name, namespace, { chart: chart ?? "cert-manager", version, ...rest, values: values ?? {}, ...(Object.keys(componentInputs).length ? { componentInputs } : {}) }),
    };
  }
  // `compat` is the SDK's own input, not the user's.
  const { name, namespace, chart, version, values, compat: _compat, ...rest } = props;
  return {
    comments: ["Helm release: Helm renders the chart at apply; shown are chart, version and values"],
    object: release(name ?? r.name, namespace, { chart, version, ...rest, values: values ?? {} }),
  };
}

function release(name: unknown, namespace: unknown, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "helm.sh/v3", kind: "Release", metadata: { name, ...(namespace !== undefined ? { namespace } : {}) }, spec };
}

function isKubeObject(r: RenderedResource): boolean {
  return r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE_TYPE;
}

/**
 * `--format yaml`: every object the stack applies, in apply order, as a multi-document stream
 * (like `helm template`): Kubernetes objects as their inputs, Helm releases as chart, version and
 * values. Resources that are not Kubernetes objects (the connectivity probe) are named only.
 */
export function planYaml(plan: Plan): string {
  const docs: YamlDocument[] = [];
  const notShown: string[] = [];
  for (const r of plan.applied) {
    const { props, comments } = marked(r);
    const source = `Source: ${r.type} ${r.name}`;
    if (isKubeObject(r)) {
      docs.push({ comments: [source, ...comments], object: kubeDocument(props) });
    } else if (r.type === HELM_RELEASE_TYPE || r.type === CERT_MANAGER_TYPE) {
      const d = releaseDocument(r, props);
      docs.push({ comments: [source, ...d.comments, ...comments], object: d.object });
    } else {
      notShown.push(`${r.type} ${r.name}`);
    }
  }
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
  out.push(heading("Predicted connectivity"));
  out.push(plan.modelError ? `the model cannot read this stack: ${plan.modelError}` : (md ? formatMarkdown(plan.prediction) : formatTable(plan.prediction)).trimEnd());
  out.push("");
  out.push(heading(`Policy findings (${plan.violations.length})`));
  out.push(...findingLines(plan.violations, md));
  return out.join("\n");
}

// ---- --against ------------------------------------------------------------------------------

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

// ---- the command ----------------------------------------------------------------------------

function readPolicyConfig(file: string): PolicyPackConfig {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (e) {
    throw new Error(`--policy-config ${file}: ${(e as Error).message}; allowed: a JSON file as for pulumi --policy-pack-config`);
  }
}

interface PlanCliOptions {
  stack: string;
  config?: string;
  format: PlanFormat;
  against?: string;
  baseRef?: string;
  policyConfig?: string;
  today?: string;
  failOn: "mandatory" | "advisory" | "never";
}

/** The clock for `--today YYYY-MM-DD`. */
function clockFor(today: string | undefined): (() => Date) | undefined {
  if (today === undefined) return undefined;
  const t = parseDay(today);
  if (t === undefined) throw new Error(`--today is ${JSON.stringify(today)}; allowed: a date YYYY-MM-DD`);
  return () => new Date(t);
}

/** Exit code for `--fail-on`: 1 when a finding at or above that level exists. */
export function exitCodeFor(violations: readonly PlanViolation[], failOn: PlanCliOptions["failOn"]): number {
  if (failOn === "never") return 0;
  const levels = failOn === "advisory" ? ["advisory", "mandatory", "remediate"] : ["mandatory", "remediate"];
  return violations.some((v) => levels.includes(v.level)) ? 1 : 0;
}

export async function runPlan(opts: PlanCliOptions, projectDir = PROJECT_DIR): Promise<{ output: string; exitCode: number; notices: string[] }> {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  const configFile = opts.config ? at(opts.config) : join(projectDir, `Pulumi.${opts.stack}.yaml`);
  const defaultPolicyConfig = join(projectDir, "policies", "config", `${opts.stack}.json`);
  const policyConfig = opts.policyConfig
    ? readPolicyConfig(at(opts.policyConfig))
    : existsSync(defaultPolicyConfig)
      ? readPolicyConfig(defaultPolicyConfig)
      : {};
  const now = clockFor(opts.today);
  const plan = (file: string, dir: string) => buildPlan({ stack: opts.stack, configFile: file, projectDir: dir, policyConfig, now });
  if (!opts.against && !opts.baseRef) {
    const head = await plan(configFile, projectDir);
    return { output: formatPlan(head, opts.format), exitCode: exitCodeFor(head.violations, opts.failOn), notices: head.notices };
  }
  if (opts.format === "yaml") {
    throw new Error("--format yaml prints one stack's objects and cannot show a change; allowed with --against or --base-ref: table, markdown, json");
  }
  // Two renders, two child processes: run them side by side.
  const both = (baseDir: string, baseFile: string) => Promise.all([plan(configFile, projectDir), plan(baseFile, baseDir)]);
  const [head, base] = opts.baseRef
    ? await withWorktree(projectDir, opts.baseRef, (dir) => {
        const baseFile = opts.against ? at(opts.against) : join(dir, `Pulumi.${opts.stack}.yaml`);
        if (!existsSync(baseFile)) throw new Error(`--base-ref ${opts.baseRef} has no Pulumi.${opts.stack}.yaml; allowed: --against FILE naming the base's stack file`);
        return both(dir, baseFile);
      })
    : await both(projectDir, at(opts.against!));
  const label = opts.baseRef ? (opts.against ? `${opts.against} at ${opts.baseRef}` : opts.baseRef) : opts.against!;
  return { output: formatPlanDiff(diffPlans(base, head), opts.format, label), exitCode: exitCodeFor(head.violations, opts.failOn), notices: [...head.notices, ...base.notices] };
}

// ---- --base-ref -------------------------------------------------------------------------------

function git(cwd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.error) throw new Error(`--base-ref needs git: ${r.error.message}`);
  return { ok: r.status === 0, out: (r.status === 0 ? r.stdout : r.stderr).trim() };
}

/** The nearest node_modules at or above `dir`: what the program there resolves its packages from. */
function nodeModulesFor(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) return join(d, "node_modules");
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The project as commit `ref` has it, for `use`: a detached worktree of the repository holding
 * `projectDir`, with its node_modules linked in so nothing is installed. Removed afterwards, also
 * when `use` fails.
 */
async function withWorktree<T>(projectDir: string, ref: string, use: (dir: string) => Promise<T>): Promise<T> {
  const prefix = git(projectDir, ["rev-parse", "--show-prefix"]);
  if (!prefix.ok) throw new Error(`--base-ref ${ref}: ${projectDir} is not in a git repository (${prefix.out.split("\n")[0]}); allowed: --base-ref in a git checkout of the project, or --against FILE alone`);
  // A ref starting with "-" would be read as an option.
  const commit = ref.startsWith("-") ? undefined : git(projectDir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  if (!commit?.ok) throw new Error(`--base-ref ${ref} is not a commit of the repository at ${projectDir}; allowed: a branch, tag or commit (a shallow CI checkout must fetch it first, e.g. git fetch origin main)`);
  const tmp = mkdtempSync(join(tmpdir(), "istio-mtls-base-"));
  const tree = join(tmp, "tree");
  const link = join(tree, prefix.out, "node_modules");
  try {
    const added = git(projectDir, ["worktree", "add", "--quiet", "--detach", tree, commit.out]);
    if (!added.ok) throw new Error(`--base-ref ${ref}: git worktree add failed: ${added.out}`);
    const modules = nodeModulesFor(projectDir);
    if (modules && !existsSync(link)) symlinkSync(modules, link, "dir");
    return await use(join(tree, prefix.out));
  } finally {
    // The link first, so that nothing below removes the project's own node_modules.
    if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(link);
    git(projectDir, ["worktree", "remove", "--force", tree]);
    rmSync(tmp, { recursive: true, force: true });
    git(projectDir, ["worktree", "prune"]);
  }
}

export interface PlanIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_IO: PlanIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/**
 * Registers `plan` on the `istio-mtls` program (cli/program.ts). The action is asynchronous (it
 * renders in child processes) and reports its exit code through `setExit`: 0, 1 for findings at
 * the --fail-on level, 2 when the stack cannot be planned.
 */
export function registerPlanCommand(program: Command, io: PlanIO = PROCESS_IO, setExit: (code: number) => void = (c) => (process.exitCode = c)): Command {
  return program
    .command("plan")
    .description("run the stack program under Pulumi mocks: the resources it creates, the predicted connectivity matrix and the policy findings, or (--format yaml) the objects it applies")
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read", "dev")
    .option("--config <file>", "stack config file (default: Pulumi.<stack>.yaml in the project)")
    .addOption(
      new Option("-f, --format <format>", "output format; yaml: every object to apply, in apply order, as a multi-document stream (Helm releases as chart, version and values)")
        .choices(PLAN_FORMATS)
        .default("table"),
    )
    .option("--against <file>", "another stack config file (e.g. the base branch's): print what changes")
    .option("--base-ref <ref>", "plan the base side with this git commit's code (a temporary worktree) and its Pulumi.<stack>.yaml, or --against's file: print what changes")
    .option("--policy-config <file>", "policy pack config JSON (default: policies/config/<stack>.json when present)")
    .option("--today <date>", "the date the exception policy checks expiry against (YYYY-MM-DD)")
    .addOption(new Option("--fail-on <level>", "exit 1 on findings at this level or above").choices(["mandatory", "advisory", "never"]).default("mandatory"))
    .action(async (opts: PlanCliOptions) => {
      try {
        const { output, exitCode, notices } = await runPlan(opts);
        for (const n of notices) io.stderr(`notice: ${n}\n`);
        io.stdout(`${output}\n`);
        setExit(exitCode);
      } catch (e) {
        io.stderr(`error: ${(e as Error).message}\n`);
        setExit(2);
      }
    });
}
