/**
 * `istio-mtls plan --base-ref REF`: the base side planned with REF's code too, from a temporary git
 * worktree of REF, by that code's own buildPlan in a child process.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Plan, PlanInput } from "./build";

/**
 * The module that exports buildPlan in the project at `dir`: cli/plan/build.ts, or cli/plan.ts in
 * a commit from before the plan's jobs were split (a base ref may be one); none in a directory that
 * holds only a stack's files.
 */
export function planCodeIn(dir: string): string | undefined {
  return [join(dir, "cli", "plan", "build.ts"), join(dir, "cli", "plan.ts")].find((f) => existsSync(f));
}

/**
 * buildPlan as the module `code` of another checkout (planCodeIn, e.g. a worktree of the base ref)
 * has it, in a child process so that its modules are that checkout's. The fields a diff reads
 * travel as JSON.
 */
export function buildPlanWithCodeAt(code: string, input: Omit<PlanInput, "now">, today: string | undefined): Promise<Plan> {
  const script = `
    const { buildPlan } = require(${JSON.stringify(code)});
    const input = JSON.parse(process.argv[1]);
    const today = process.argv[2];
    if (today) input.now = () => new Date(today + "T00:00:00Z");
    buildPlan(input).then(
      (p) => process.stdout.write(JSON.stringify({ ...p, props: [...p.props], applied: [] })),
      (e) => { process.stderr.write(String(e && e.message)); process.exit(2); },
    );`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script, JSON.stringify(input), today ?? ""], { cwd: input.projectDir, encoding: "utf8", maxBuffer: 1 << 30 });
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
export async function withWorktree<T>(projectDir: string, ref: string, use: (dir: string) => Promise<T>): Promise<T> {
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
