/**
 * `istio-mtls plan`: what `pulumi up` would create for a stack, the connectivity matrix the model
 * predicts for it with reasons, and the policy pack's findings (cli/plan/build.ts), printed as
 * cli/plan/format.ts has it. `--against FILE` plans another config (e.g. the base branch's) and
 * prints what changes (cli/plan/diff.ts); `--base-ref REF` plans that side with REF's code too,
 * from a git worktree of it (cli/plan/base-ref.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PolicyPackConfig } from "@pulumi/policy";
import { Command, Option } from "commander";
import { parseDay } from "../../mesh/day";
import { EXIT_INVALID, PLAN_SUMMARY, type CliIO } from "../command";
import { buildPlanWithCodeAt, planCodeIn, withWorktree } from "../plan/base-ref";
import { buildPlan, type PlanViolation } from "../plan/build";
import { diffPlans, formatPlanDiff } from "../plan/diff";
import { formatPlan, PLAN_FORMATS, type PlanFormat } from "../plan/format";

/** Where `istio-mtls` lives: its Pulumi.yaml and stack files. */
export const PROJECT_DIR = resolve(__dirname, "..", "..");

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
  const plan = (file: string, dir: string) => {
    const code = resolve(dir) === PROJECT_DIR ? undefined : planCodeIn(dir);
    const input = { stack: opts.stack, configFile: file, projectDir: dir, policyConfig };
    return code ? buildPlanWithCodeAt(code, input, opts.today) : buildPlan({ ...input, now });
  };
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

/**
 * Registers `plan` on the `istio-mtls` program (cli/program.ts). The action reports its exit code
 * through `setExit`: 0, 1 for findings at the --fail-on level, 2 when the stack cannot be planned.
 */
export function registerPlanCommand(program: Command, io: CliIO, setExit: (code: number) => void): Command {
  return program
    .command("plan")
    .description(PLAN_SUMMARY)
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
        setExit(EXIT_INVALID);
      }
    });
}
