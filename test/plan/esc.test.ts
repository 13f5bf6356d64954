/**
 * A stack file importing ESC environments: plan reads their values through `pulumi config` where
 * the CLI works, and says why in a notice where not. `pulumi` here is a fake on PATH, a shell
 * script printing fixed output, never a real backend. PATH is swapped only around synchronous
 * calls (configWithProject, buildPlan's config read), so tests in this file cannot see each other's.
 */
import test from "ava";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlan, type Plan } from "../../cli/plan/build";
import { configWithProject } from "../../config/file";

const root = join(__dirname, "..", "..");

/** A directory holding only a `pulumi` script: it records its directory and arguments, then does `body`. */
function fakePulumi(body: string): { bin: string; calls: string } {
  const bin = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
  const calls = join(bin, "calls");
  writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "$PWD $*" >> '${calls}'\n${body}\n`);
  chmodSync(join(bin, "pulumi"), 0o755);
  return { bin, calls };
}

/** `f` with `dir` first on PATH, or (alone) as all of it. */
function withPath<T>(dir: string, f: () => T, alone = false): T {
  const saved = process.env.PATH;
  process.env.PATH = alone ? dir : `${dir}:/usr/bin:/bin`;
  try {
    return f();
  } finally {
    process.env.PATH = saved;
  }
}

function project(stackYaml: string): { dir: string; projectFile: string; stackFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "plan-esc-"));
  writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(root, "Pulumi.yaml"), "utf8"));
  writeFileSync(join(dir, "Pulumi.dev.yaml"), stackYaml);
  return { dir, projectFile: join(dir, "Pulumi.yaml"), stackFile: join(dir, "Pulumi.dev.yaml") };
}

/** `pulumi config --json` as Pulumi 3.274 prints it: scalars as strings, objects also as objectValue, secrets without a value. */
const RESOLVED = JSON.stringify({
  "istio-mtls:production": { value: "true", secret: false },
  "istio-mtls:probe": { value: '{"enabled":false}', objectValue: { enabled: false }, secret: false },
  "kubernetes:kubeconfig": { secret: true },
});

test("with an environment, the config is pulumi's resolved one, asked for in the project dir; its secrets stay unread", (t) => {
  const { dir, projectFile, stackFile } = project("environment:\n  - shared/dev\nconfig:\n  istio-mtls:production: false\n  istio-mtls:demo: {enabled: true}\n");
  const fake = fakePulumi(`cat <<'EOF'\n${RESOLVED}\nEOF`);
  const { config, notices } = withPath(fake.bin, () => configWithProject(projectFile, stackFile, "dev"));
  t.deepEqual(notices, []);
  t.like(config, { "istio-mtls:production": "true", "istio-mtls:probe": { enabled: false }, "istio-mtls:demo": { enabled: true } });
  t.is(readFileSync(fake.calls, "utf8").trim(), `${dir} config --json --open --stack dev --config-file ${stackFile} --non-interactive`);
  // The blinded secret stays an unread `{secure}` value: the plan reads only istio-mtls: keys.
  t.like(config["kubernetes:kubeconfig"] as object, { secure: "<blinded by pulumi config>" });
});

test("pulumi failing, printing no JSON or missing: the notice says why and the stack file alone is used", (t) => {
  const { projectFile, stackFile } = project("environment:\n  - shared/dev\nconfig:\n  istio-mtls:production: false\n");
  const failing = fakePulumi("echo \"error: no stack named 'dev' found\" >&2\nexit 1");
  const failed = withPath(failing.bin, () => configWithProject(projectFile, stackFile, "dev"));
  t.like(failed.config, { "istio-mtls:production": false });
  t.is(failed.notices.length, 1);
  t.regex(failed.notices[0]!, /imports ESC environment\(s\) \["shared\/dev"\]: their values were not read \(`pulumi config --json --open --stack dev` exited 1: error: no stack named 'dev' found\); the plan uses the stack file and Pulumi.yaml alone/);
  const garbled = withPath(fakePulumi("echo 'not json'").bin, () => configWithProject(projectFile, stackFile, "dev"));
  t.regex(garbled.notices[0]!, /\(`pulumi config --json` printed no JSON map: not json\)/);
  const missing = withPath(mkdtempSync(join(tmpdir(), "no-pulumi-")), () => configWithProject(projectFile, stackFile, "dev"), true);
  t.regex(missing.notices[0]!, /their values were not read \(the Pulumi CLI is not on PATH\)/);
});

test("without an environment pulumi is not asked", (t) => {
  const { projectFile, stackFile } = project("config:\n  istio-mtls:production: false\n");
  const fake = fakePulumi("exit 1");
  const { notices } = withPath(fake.bin, () => configWithProject(projectFile, stackFile, "dev"));
  t.deepEqual(notices, []);
  t.false(existsSync(fake.calls));
});

test("plan uses the environment's values: production: true from ESC brings the pack's mesh STRICT finding", async (t) => {
  const dev = readFileSync(join(root, "Pulumi.dev.yaml"), "utf8").replace(/^ {2}istio-mtls:production: false\n/m, "");
  const { dir, stackFile } = project(`environment:\n  - shared/prod\n${dev}`);
  const resolved = JSON.stringify({ "istio-mtls:production": { value: "true", secret: false }, "kubernetes:kubeconfig": { secret: true } });
  const fake = fakePulumi(`cat <<'EOF'\n${resolved}\nEOF`);
  const plan: Plan = await withPath(fake.bin, () => buildPlan({ stack: "dev", configFile: stackFile, projectDir: dir, policyConfig: {} }));
  t.deepEqual(plan.notices, []);
  t.true(plan.violations.some((v) => v.policy === "production-mesh-strict" && v.level === "mandatory"), JSON.stringify(plan.violations));
});
