/**
 * `istio-mtls plan`: what `pulumi preview` would create for a stack, the connectivity matrix the
 * model predicts for it with reasons, and the policy pack's findings, without a cluster or the
 * Pulumi CLI. The stack program (index.ts) runs under Pulumi's mock runtime with the stack's
 * config file; the pack's policies run in-process over the resources it registered.
 * `--against FILE` renders another config (e.g. the base branch's) and prints what changes.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { Command, Option } from "commander";
import { parse } from "yaml";
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
import { parseDay } from "../policies/mtls-exceptions";
import { runPolicies, type PolicyFinding } from "../policies/run";
import { renderStack, type RenderedResource } from "./plan-render";

export const PLAN_FORMATS = ["table", "json", "markdown"] as const;
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
  const file = join(projectDir, "Pulumi.yaml");
  if (existsSync(file)) {
    const doc = parse(readFileSync(file, "utf8")) as { name?: unknown } | null;
    if (typeof doc?.name === "string") return doc.name;
  }
  return "istio-mtls";
}

function readConfigMap(file: string): Record<string, unknown> {
  if (!existsSync(file)) throw new Error(`stack config ${file} does not exist; allowed: an existing Pulumi.<stack>.yaml (see --stack, --config)`);
  const doc = parse(readFileSync(file, "utf8"), { schema: "core" }) as { config?: unknown } | null;
  const config = doc?.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new Error(`${file}: "config:" must be a map of "<namespace>:<key>" to value`);
  }
  return config as Record<string, unknown>;
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

/** Pulumi resources that `pulumi up` would create (providers and our components left out). */
function created(records: readonly RenderedResource[]): RenderedResource[] {
  return records.filter((r) => !COMPONENT_TYPE.test(r.type) && !r.type.startsWith("pulumi:"));
}

const PROBE_TYPE = "pulumi-nodejs:dynamic/probe:ConnectivityProbe";

/**
 * The cells the stack proves after apply: those of its connectivity probe's clients (the demo's
 * sleep workloads), as the stack's `predictedMatrix` output has them. A stack without a probe
 * shows every client workload's cells.
 */
function probedCells(prediction: Prediction, records: readonly RenderedResource[]): Prediction {
  const probe = records.find((r) => r.type === PROBE_TYPE);
  const clients = (probe?.props as { clients?: { name: string; namespace: string }[] } | undefined)?.clients;
  if (!clients) return prediction;
  const from = new Set(clients.map((c) => `${c.name}.${c.namespace}`));
  return { probes: prediction.probes.filter((p) => from.has(p.from)) };
}

export async function buildPlan(input: PlanInput): Promise<Plan> {
  const project = projectName(input.projectDir);
  const records = await renderStack({
    program: input.program ?? join(input.projectDir, "index.ts"),
    project,
    stack: input.stack,
    config: readConfigMap(input.configFile),
  });
  const kept = created(records);
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

export function formatPlan(plan: Plan, format: PlanFormat): string {
  if (format === "json") return planJson(plan);
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

export function formatPlanDiff(diff: PlanDiff, format: PlanFormat, against: string): string {
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

export async function runPlan(opts: PlanCliOptions, projectDir = PROJECT_DIR): Promise<{ output: string; exitCode: number }> {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  const configFile = opts.config ? at(opts.config) : join(projectDir, `Pulumi.${opts.stack}.yaml`);
  const defaultPolicyConfig = join(projectDir, "policies", "config", `${opts.stack}.json`);
  const policyConfig = opts.policyConfig
    ? readPolicyConfig(at(opts.policyConfig))
    : existsSync(defaultPolicyConfig)
      ? readPolicyConfig(defaultPolicyConfig)
      : {};
  const now = clockFor(opts.today);
  if (!opts.against) {
    const head = await buildPlan({ stack: opts.stack, configFile, projectDir, policyConfig, now });
    return { output: formatPlan(head, opts.format), exitCode: exitCodeFor(head.violations, opts.failOn) };
  }
  // Two renders, two child processes: run them side by side.
  const [head, base] = await Promise.all([
    buildPlan({ stack: opts.stack, configFile, projectDir, policyConfig, now }),
    buildPlan({ stack: opts.stack, configFile: at(opts.against), projectDir, policyConfig, now }),
  ]);
  const diff = diffPlans(base, head);
  return { output: formatPlanDiff(diff, opts.format, opts.against), exitCode: exitCodeFor(head.violations, opts.failOn) };
}

export interface PlanIO {
  stdout(text: string): void;
  stderr(text: string): void;
}

const PROCESS_IO: PlanIO = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };

/**
 * Registers `plan` on the `istio-mtls` program (cli/program.ts). The action is asynchronous (it
 * renders in child processes) and sets process.exitCode itself: 0, 1 for findings at the
 * --fail-on level, 2 when the stack cannot be planned.
 */
export function registerPlanCommand(program: Command, io: PlanIO = PROCESS_IO): Command {
  return program
    .command("plan")
    .description("run the stack program under Pulumi mocks: the resources it creates, the predicted connectivity matrix and the policy findings")
    .option("-s, --stack <name>", "stack whose Pulumi.<name>.yaml to read", "dev")
    .option("--config <file>", "stack config file (default: Pulumi.<stack>.yaml in the project)")
    .addOption(new Option("-f, --format <format>", "output format").choices(PLAN_FORMATS).default("table"))
    .option("--against <file>", "another stack config file (e.g. the base branch's): print what changes")
    .option("--policy-config <file>", "policy pack config JSON (default: policies/config/<stack>.json when present)")
    .option("--today <date>", "the date the exception policy checks expiry against (YYYY-MM-DD)")
    .addOption(new Option("--fail-on <level>", "exit 1 on findings at this level or above").choices(["mandatory", "advisory", "never"]).default("mandatory"))
    .action(async (opts: PlanCliOptions) => {
      try {
        const { output, exitCode } = await runPlan(opts);
        io.stdout(`${output}\n`);
        process.exitCode = exitCode;
      } catch (e) {
        io.stderr(`error: ${(e as Error).message}\n`);
        process.exitCode = 2;
      }
    });
}
