/**
 * `plan --base-ref`: the base side is planned from that commit's code, not only its stack file.
 * Each test plans a throwaway git repository holding a copy of this project (its tracked files,
 * node_modules linked), so that a code change can be made there without touching this checkout.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runPlan } from "../../cli/commands/plan";
import { runCli } from "../../cli/program";

const root = join(__dirname, "..", "..");
const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, encoding: "utf8" });

/** A git repository with this project's files (as `git ls-files` lists them) committed, node_modules linked and ignored. */
function projectRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-base-ref-"));
  // Untracked files too: others' new modules the tracked ones may already import.
  for (const f of git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0").filter(Boolean)) {
    if (!existsSync(join(root, f))) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    copyFileSync(join(root, f), join(dir, f));
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  git(dir, "init", "--quiet");
  writeFileSync(join(dir, ".git", "info", "exclude"), "node_modules\n");
  git(dir, "add", "-A");
  git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "base");
  return dir;
}

/** The repository's worktrees: after a plan, only the main one. */
function worktreesOf(dir: string): string[] {
  return git(dir, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree "));
}

interface DiffJson {
  changes: { from: string; to: string; old: { code: number }; new: { code: number } }[];
  unchanged: number;
  resources: { added: unknown[]; removed: unknown[]; changed: { kind: string; namespace: string; name: string }[] };
}

test("a code change (httpbin's container port) shows as changed cells and resources against --base-ref HEAD", async (t) => {
  const dir = projectRepo();
  const httpbin = join(dir, "mesh", "builders", "httpbin.ts");
  writeFileSync(httpbin, readFileSync(httpbin, "utf8").replace("export const HTTPBIN_CONTAINER_PORT = 8080;", "export const HTTPBIN_CONTAINER_PORT = 9090;"));
  t.true(readFileSync(httpbin, "utf8").includes("= 9090;"));
  const { output } = await runPlan({ stack: "dev", format: "json", failOn: "never", baseRef: "HEAD" }, dir);
  const diff = JSON.parse(output) as DiffJson;
  // httpbin.bar's port-level PERMISSIVE names 8080: on 9090 the plaintext sleep.legacy is refused.
  t.true(diff.changes.some((c) => c.from === "sleep.legacy" && c.to === "httpbin.bar:8000" && c.old.code === 200 && c.new.code !== 200), output);
  t.true(diff.resources.changed.some((r) => r.kind === "Deployment" && r.namespace === "bar" && r.name === "httpbin"), output);
  t.is(worktreesOf(dir).length, 1);
});

test("a base ref from before cli/plan/ (its buildPlan in cli/plan.ts) is planned with its own code", async (t) => {
  const dir = projectRepo();
  const httpbin = join(dir, "mesh", "builders", "httpbin.ts");
  // The base commit: buildPlan where older commits export it, and a port change that tells its plan from the head's.
  renameSync(join(dir, "cli", "plan", "build.ts"), join(dir, "cli", "plan", "old-build.ts"));
  writeFileSync(join(dir, "cli", "plan.ts"), 'export { buildPlan } from "./plan/old-build";\n');
  writeFileSync(httpbin, readFileSync(httpbin, "utf8").replace("export const HTTPBIN_CONTAINER_PORT = 8080;", "export const HTTPBIN_CONTAINER_PORT = 9090;"));
  git(dir, "add", "-A");
  git(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "old layout");
  // The head: this layout and code again.
  git(dir, "checkout", "HEAD~1", "--", ".");
  rmSync(join(dir, "cli", "plan.ts"));
  rmSync(join(dir, "cli", "plan", "old-build.ts"));
  const { output } = await runPlan({ stack: "dev", format: "json", failOn: "never", baseRef: "HEAD" }, dir);
  const diff = JSON.parse(output) as DiffJson;
  t.true(diff.changes.some((c) => c.from === "sleep.legacy" && c.to === "httpbin.bar:8000" && c.old.code !== 200 && c.new.code === 200), output);
  t.true(diff.resources.changed.some((r) => r.kind === "Deployment" && r.namespace === "bar" && r.name === "httpbin"), output);
  t.is(worktreesOf(dir).length, 1);
});

test("without a code change --base-ref HEAD shows no change, as markdown naming the ref", async (t) => {
  const dir = projectRepo();
  const { output } = await runPlan({ stack: "dev", format: "markdown", failOn: "never", baseRef: "HEAD" }, dir);
  t.regex(output, /### istio-mtls plan: stack `dev` against `HEAD`/);
  t.regex(output, /no change: all 21 cells keep their outcome/);
  t.regex(output, /Resources: 0 to create, 0 to delete, 0 to update\./);
  t.deepEqual(worktreesOf(dir), [`worktree ${dir}`]);
});

test("a ref that is not a commit and a directory outside git are exit-2 errors; the worktree goes also when planning fails", async (t) => {
  let err = "";
  const code = await runCli(["plan", "--base-ref", "no-such-ref-here"], { stdout: () => {}, stderr: (s) => (err += s) });
  t.is(code, 2);
  t.regex(err, /error: --base-ref no-such-ref-here is not a commit of the repository at /);
  const outside = mkdtempSync(join(tmpdir(), "plan-no-git-"));
  writeFileSync(join(outside, "Pulumi.dev.yaml"), "config: {}\n");
  await t.throwsAsync(runPlan({ stack: "dev", format: "json", failOn: "never", baseRef: "HEAD" }, outside), { message: /--base-ref HEAD: .* is not in a git repository/ });
  // A stack the base commit does not have: the error comes from inside the worktree.
  const dir = projectRepo();
  copyFileSync(join(dir, "Pulumi.dev.yaml"), join(dir, "Pulumi.new.yaml"));
  await t.throwsAsync(runPlan({ stack: "new", format: "json", failOn: "never", baseRef: "HEAD" }, dir), { message: /--base-ref HEAD has no Pulumi\.new\.yaml/ });
  t.deepEqual(worktreesOf(dir), [`worktree ${dir}`]);
  t.true(existsSync(join(root, "node_modules", "@pulumi", "pulumi")), "the linked node_modules is left alone");
});
