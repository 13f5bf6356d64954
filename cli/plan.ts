/**
 * `istio-mtls plan`: what `pulumi up` would create for a stack, the connectivity matrix the model
 * predicts for it with reasons, and the policy pack's findings, without a cluster, the Pulumi CLI
 * or its runtime: the stack's config file goes through planStack (mesh/plan.ts), the one place
 * that decides what the stack deploys, and the pack's policies run in-process over its resources.
 * `--against FILE` plans another config (e.g. the base branch's) and prints what changes;
 * `--base-ref REF` plans that side with REF's code too, from a git worktree of it.
 * `--format yaml` prints instead every object the stack applies, in apply order, as `helm template` would.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { Command, Option } from "commander";
import { stringify } from "yaml";
import { loadStackConfig } from "../config";
import { configWithProject, readProjectConfig, stackFileGetter } from "../config/file";
import { parseDay } from "../mesh/day";
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
import { CERT_MANAGER_TYPE, planItems, planStack, resourceName, resourceType, type PlanItem } from "../mesh/plan";
import type { Prediction } from "../mesh/prediction";
import { istioMtlsPolicies } from "../policies/pack";
import { analyzeStack } from "../policies/analysis";
import { asPolicyResources, runPolicies, type PolicyFinding } from "../policies/run";
import type { StackResource } from "../policies/stack-objects";

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
  /** What the stack applies, in an order `pulumi up` applies it in (phase by phase, each item after what it waits for). */
  applied: PlanItem[];
  /** What the plan could not read (ESC environments), for stderr. */
  notices: string[];
}

export interface PlanInput {
  /** Stack name, for URNs and messages. */
  stack: string;
  /** The stack file whose `config:` the stack runs with. */
  configFile: string;
  /** The project directory: its Pulumi.yaml names the project and holds project config. */
  projectDir: string;
  /** Pack config as `pulumi preview --policy-pack-config` takes it. */
  policyConfig?: PolicyPackConfig;
  /** The clock the exception policy reads. */
  now?: () => Date;
}

/** Where `istio-mtls` lives: its Pulumi.yaml and stack files. */
export const PROJECT_DIR = resolve(__dirname, "..");

export function projectName(projectDir: string): string {
  return readProjectConfig(join(projectDir, "Pulumi.yaml")).name;
}

/** The config the stack sees: Pulumi.yaml's project config under the stack file's. */
function readConfigMap(projectDir: string, file: string, stack: string): { config: Record<string, unknown>; notices: string[] } {
  if (!existsSync(file)) throw new Error(`stack config ${file} does not exist; allowed: an existing Pulumi.<stack>.yaml (see --stack, --config)`);
  return configWithProject(join(projectDir, "Pulumi.yaml"), file, stack);
}

/** An item's inputs as its Pulumi resource gets them (components/kube-object.ts): what the pack and a diff see. */
export function propsOf(item: PlanItem): Record<string, unknown> {
  if ("object" in item) return item.object as unknown as Record<string, unknown>;
  const { name, namespace, chart, version, repository, values } = item.release;
  if (item.installer === "cert-manager") return { helmOptions: { name, namespace, version, values } };
  return { name, chart, version, namespace, ...(repository ? { repositoryOpts: { repo: repository } } : {}), values };
}

export function planResourceOf(item: PlanItem): PlanResource {
  const type = resourceType(item);
  if ("object" in item) return { type, kind: item.object.kind, namespace: item.object.metadata.namespace ?? "", name: item.object.metadata.name };
  return { type, kind: type === CERT_MANAGER_TYPE ? "CertManager" : "Release", namespace: item.release.namespace, name: resourceName(item) };
}

/** The resources as the policy pack sees them in `pulumi preview`, URNs under their phase component. */
export function stackResources(stack: string, project: string, plan: ReturnType<typeof planStack>): StackResource[] {
  return plan.phases.flatMap((phase) =>
    phase.items.map((item) => {
      const type = resourceType(item);
      const name = resourceName(item);
      return { type, name, urn: `urn:pulumi:${stack}::${project}::istio-mtls:stack:Phase$${type}::${name}`, props: propsOf(item) };
    }),
  );
}

/** The connectivity probe index.ts registers after the plan's resources (a dynamic resource, not a Kubernetes object). */
const PROBE_RESOURCE: PlanResource = { type: "pulumi-nodejs:dynamic/probe:ConnectivityProbe", kind: "ConnectivityProbe", namespace: "", name: "connectivity" };

function resourceKey(r: PlanResource): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
}

function compareResources(a: PlanResource, b: PlanResource): number {
  return a.kind.localeCompare(b.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name) || a.type.localeCompare(b.type);
}

export async function buildPlan(input: PlanInput): Promise<Plan> {
  const { config, notices } = readConfigMap(input.projectDir, input.configFile, input.stack);
  const settings = loadStackConfig(stackFileGetter(config), Object.keys(config));
  const plan = planStack(settings);
  const items = planItems(plan);
  // The pack's analysis predicts every client workload once; the plan shows the probe's clients' cells of it.
  const resources = asPolicyResources(stackResources(input.stack, projectName(input.projectDir), plan));
  const analysis = analyzeStack(resources);
  const findings: PolicyFinding[] = await runPolicies(istioMtlsPolicies({ now: input.now }), resources, input.policyConfig ?? {});
  const probed = new Set(plan.probeClients);
  const prediction = { probes: (analysis.prediction?.probes ?? []).filter((p) => probed.has(p.from)) };
  const probe = settings.probe.enabled && prediction.probes.length > 0 ? [PROBE_RESOURCE] : [];
  return {
    stack: input.stack,
    resources: [...items.map(planResourceOf), ...probe].sort(compareResources),
    prediction,
    ...(analysis.modelError ? { modelError: analysis.modelError } : {}),
    violations: findings.map(({ policy, level, message }) => ({ policy, level, message })),
    props: new Map(items.map((i) => [resourceKey(planResourceOf(i)), JSON.stringify(propsOf(i))])),
    applied: items,
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
  const spec = { chart, version, ...(repository ? { repositoryOpts: { repo: repository } } : {}), values };
  return {
    comments: [
      item.installer === "cert-manager"
        ? "Helm release made by the @pulumi/kubernetes-cert-manager component; the chart repository is its default"
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
  // A project with code of its own (a worktree of another commit) is planned by that code, in a child process.
  const plan = (file: string, dir: string) =>
    resolve(dir) === PROJECT_DIR || !existsSync(join(dir, "cli", "plan.ts"))
      ? buildPlan({ stack: opts.stack, configFile: file, projectDir: dir, policyConfig, now })
      : buildPlanWithCodeAt(dir, { stack: opts.stack, configFile: file, projectDir: dir, policyConfig }, opts.today);
  if (!opts.against && !opts.baseRef) {
    const head = await plan(configFile, projectDir);
    return { output: formatPlan(head, opts.format), exitCode: exitCodeFor(head.violations, opts.failOn), notices: head.notices };
  }
  if (opts.format === "yaml") {
    throw new Error("--format yaml prints one stack's objects and cannot show a change; allowed with --against or --base-ref: table, markdown, json");
  }
  const [head, base] = opts.baseRef
    ? await withWorktree(projectDir, opts.baseRef, (dir) => {
        const baseFile = opts.against ? at(opts.against) : join(dir, `Pulumi.${opts.stack}.yaml`);
        if (!existsSync(baseFile)) throw new Error(`--base-ref ${opts.baseRef} has no Pulumi.${opts.stack}.yaml; allowed: --against FILE naming the base's stack file`);
        return Promise.all([plan(configFile, projectDir), plan(baseFile, dir)]);
      })
    : await Promise.all([plan(configFile, projectDir), plan(at(opts.against!), projectDir)]);
  const label = opts.baseRef ? (opts.against ? `${opts.against} at ${opts.baseRef}` : opts.baseRef) : opts.against!;
  return { output: formatPlanDiff(diffPlans(base, head), opts.format, label), exitCode: exitCodeFor(head.violations, opts.failOn), notices: [...head.notices, ...base.notices] };
}

// ---- --base-ref -------------------------------------------------------------------------------

/**
 * buildPlan as the code in `dir` (a worktree of the base ref) has it, in a child process so that
 * its modules are that commit's. The fields a diff reads travel as JSON.
 */
function buildPlanWithCodeAt(dir: string, input: Omit<PlanInput, "now">, today: string | undefined): Promise<Plan> {
  const script = `
    const { buildPlan } = require(${JSON.stringify(join(dir, "cli", "plan.ts"))});
    const input = JSON.parse(process.argv[1]);
    const today = process.argv[2];
    if (today) input.now = () => new Date(today + "T00:00:00Z");
    buildPlan(input).then(
      (p) => process.stdout.write(JSON.stringify({ ...p, props: [...p.props], applied: [] })),
      (e) => { process.stderr.write(String(e && e.message)); process.exit(2); },
    );`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script, JSON.stringify(input), today ?? ""], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) return Promise.reject(new Error(`the base side's code could not plan: ${(r.stderr || r.error?.message || "").trim()}`));
  const p = JSON.parse(r.stdout) as Omit<Plan, "props"> & { props: [string, string][] };
  return Promise.resolve({ ...p, props: new Map(p.props) });
}

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
 * Registers `plan` on the `istio-mtls` program (cli/program.ts). The action reports its exit code through `setExit`: 0, 1 for findings at
 * the --fail-on level, 2 when the stack cannot be planned.
 */
export function registerPlanCommand(program: Command, io: PlanIO = PROCESS_IO, setExit: (code: number) => void = (c) => (process.exitCode = c)): Command {
  return program
    .command("plan")
    .description("plan the stack from its config: the resources it creates, the predicted connectivity matrix and the policy findings, or (--format yaml) the objects it applies")
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
