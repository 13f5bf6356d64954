/**
 * plan reads config as Pulumi does: Pulumi.yaml's project-level `config:` under the stack file's
 * values, and says so when a stack imports ESC environments it cannot resolve.
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configWithProject, readProjectConfig } from "../../config/file";
import { buildPlan } from "../../cli/plan/build";

const root = join(__dirname, "..", "..");

function project(pulumiYaml: string, stackYaml: string): { dir: string; stackFile: string } {
  const dir = mkdtempSync(join(tmpdir(), "plan-project-"));
  writeFileSync(join(dir, "Pulumi.yaml"), pulumiYaml);
  writeFileSync(join(dir, "Pulumi.dev.yaml"), stackYaml);
  return { dir, stackFile: join(dir, "Pulumi.dev.yaml") };
}

test("project config: plain, {value} and {default} forms; keys without a namespace are the project's; type-only declarations give none", (t) => {
  const { dir } = project(
    "name: istio-mtls\nruntime: nodejs\nconfig:\n  production: true\n  istio-mtls:demo:\n    value: {enabled: false}\n  probe:\n    type: object\n    default: {enabled: false}\n  kubernetes:context: kind-x\n  declared:\n    type: string\n",
    "config: {}\n",
  );
  t.deepEqual(readProjectConfig(join(dir, "Pulumi.yaml")), {
    name: "istio-mtls",
    config: { "istio-mtls:production": true, "istio-mtls:demo": { enabled: false }, "istio-mtls:probe": { enabled: false }, "kubernetes:context": "kind-x" },
  });
});

test("stack values override project values; an ESC environment is a notice, not silence", (t) => {
  const { dir, stackFile } = project("name: istio-mtls\nruntime: nodejs\nconfig:\n  production: true\n  istio-mtls:demo: {enabled: false}\n", "environment:\n  - shared/prod\nconfig:\n  istio-mtls:production: false\n");
  const { config, notices } = configWithProject(join(dir, "Pulumi.yaml"), stackFile);
  t.deepEqual(config, { "istio-mtls:production": false, "istio-mtls:demo": { enabled: false } });
  t.is(notices.length, 1);
  t.regex(notices[0]!, /imports ESC environment\(s\) \["shared\/prod"\]: their values were not read/);
});

test("production: true set in Pulumi.yaml alone reaches the plan: the policy pack finds the missing mesh STRICT", async (t) => {
  const pulumiYaml = readFileSync(join(root, "Pulumi.yaml"), "utf8");
  const dev = readFileSync(join(root, "Pulumi.dev.yaml"), "utf8").replace(/^ {2}istio-mtls:production: false\n/m, "");
  const { dir, stackFile } = project(`${pulumiYaml}config:\n  istio-mtls:production: true\n`, dev);
  const plan = await buildPlan({ stack: "dev", configFile: stackFile, projectDir: dir, policyConfig: {} });
  t.true(plan.violations.some((v) => v.policy === "production-mesh-strict" && v.level === "mandatory"), JSON.stringify(plan.violations));
});
