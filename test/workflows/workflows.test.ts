/**
 * The GitHub workflows cannot run here; these tests read them as YAML and check what they call
 * against the repository: every `npm run X` is a script in package.json, every
 * `npx istio-mtls <cmd>` (with its options) is a command the CLI has, every local path exists,
 * and every action is pinned to a major version.
 */
import test from "ava";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { cliCommands, invocationProblems } from "../helpers/cli-help";

const root = join(__dirname, "..", "..");
const dir = join(root, ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  name: string;
  on: unknown;
  jobs: Record<string, { steps: Step[]; "runs-on": string; needs?: string | string[] }>;
}

const workflows = new Map(files.map((f) => [f, parse(readFileSync(join(dir, f), "utf8")) as Workflow]));
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const runs = (w: Workflow) => steps(w).flatMap((s) => (s.run ? [s.run] : []));

test("the workflows are pull-request, deploy and e2e", (t) => {
  t.deepEqual([...workflows.keys()].sort(), ["deploy.yml", "e2e.yml", "pull-request.yml"]);
  for (const [f, w] of workflows) {
    t.truthy(w.name, f);
    t.truthy(w.on, f);
    for (const [id, job] of Object.entries(w.jobs)) t.true(Array.isArray(job.steps) && job.steps.length > 0, `${f} ${id}`);
  }
});

test("every `npm run X` is a script of package.json", (t) => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts);
  let seen = 0;
  for (const [f, w] of workflows) {
    for (const run of runs(w)) {
      for (const m of run.matchAll(/\bnpm (?:run(?:-script)?) ([\w:-]+)/g)) {
        seen++;
        t.true(scripts.includes(m[1]), `${f}: npm run ${m[1]} is not in package.json scripts (${scripts.join(", ")})`);
      }
      if (/\bnpm test\b/.test(run)) t.true(scripts.includes("test"), `${f}: npm test`);
    }
  }
  t.true(seen > 0);
});

test("every `npx istio-mtls <cmd>` is a command of the CLI, with options it has", async (t) => {
  const commands = await cliCommands();
  let seen = 0;
  for (const [f, w] of workflows) {
    for (const run of runs(w)) {
      for (const line of run.split("\n")) {
        const problems = invocationProblems(commands, line);
        if (!problems) continue;
        seen++;
        t.deepEqual(problems, [], `${f}: ${line.trim()}`);
      }
    }
  }
  t.true(seen >= 4, `found ${seen} istio-mtls invocations`);
  t.true(commands.has("predict") && commands.has("diff") && commands.has("plan"), "the CLI's help lists its commands");
  t.true(commands.get("plan")!.has("--against"), "plan's own help lists its options");
});

test("actions are pinned to a major version; Pulumi runs through pulumi/actions with the policy pack", (t) => {
  for (const [f, w] of workflows) {
    for (const s of steps(w)) if (s.uses) t.regex(s.uses, /^[\w.-]+\/[\w.-]+@v\d+$/, `${f}: ${s.uses}`);
    const pulumi = steps(w).filter((s) => s.uses?.startsWith("pulumi/actions@"));
    t.true(pulumi.length > 0, `${f} uses pulumi/actions`);
    for (const s of pulumi.filter((p) => p.with?.command === "preview" || p.with?.command === "up")) {
      t.is(s.with?.policyPacks, "policies", `${f}: ${s.with?.command} runs the pack`);
      const config = String(s.with?.policyPackConfigs ?? "");
      t.regex(config, /^policies\/config\//, `${f}: pack config`);
    }
  }
});

test("local paths the workflows name exist: the pack and each stack's pack config and stack file", (t) => {
  t.true(existsSync(join(root, "policies", "PulumiPolicy.yaml")));
  const pr = workflows.get("pull-request.yml")!;
  const stacks = (Object.values(pr.jobs).flatMap((j) => ((j as { strategy?: { matrix?: { stack?: string[] } } }).strategy?.matrix?.stack ?? [])));
  t.deepEqual([...new Set(stacks)].sort(), ["dev", "prod"]);
  for (const stack of stacks) {
    t.true(existsSync(join(root, "policies", "config", `${stack}.json`)), `policies/config/${stack}.json`);
    t.true(existsSync(join(root, `Pulumi.${stack}.yaml`)), `Pulumi.${stack}.yaml`);
    JSON.parse(readFileSync(join(root, "policies", "config", `${stack}.json`), "utf8"));
  }
});

test("pull-request: tests, the plan against the base branch as a sticky comment, and preview --diff commenting on the PR", (t) => {
  const w = workflows.get("pull-request.yml")!;
  t.true(runs(w).some((r) => /npm ci\b/.test(r)));
  t.true(runs(w).some((r) => /^npm test$/m.test(r)));
  // The base side runs the base branch's code (--base-ref), fetched before the plan.
  const fetch = runs(w).findIndex((r) => /git fetch .*origin "\+refs\/heads\/\$\{BASE_REF\}:refs\/remotes\/origin\/\$\{BASE_REF\}"/.test(r));
  const plan = runs(w).findIndex((r) => /npx istio-mtls plan .*--base-ref "\$BASE_REF" --format markdown/.test(r));
  t.true(fetch >= 0 && plan > fetch, `fetch ${fetch}, plan ${plan}`);
  t.false(runs(w).some((r) => /--against/.test(r)), "the base's stack file comes with --base-ref");
  const comment = steps(w).find((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
  t.is(comment?.with?.path, "plan.md");
  const preview = steps(w).find((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "preview")!;
  t.like(preview.with, { diff: true, "comment-on-pr": true });
});

test("deploy: pulumi up per environment after the tests, one environment at a time", (t) => {
  const w = workflows.get("deploy.yml")!;
  t.deepEqual((w.on as { push: { branches: string[] } }).push.branches, ["main"]);
  const up = w.jobs.up as unknown as { needs: string; strategy: { "max-parallel": number; matrix: { stack: string[] } }; steps: Step[] };
  t.is(up.needs, "test");
  t.is(up.strategy["max-parallel"], 1);
  t.deepEqual(up.strategy.matrix.stack, ["dev", "prod"]);
  t.true(up.steps.some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up"));
});

test("e2e: kind cluster, pulumi up -s dev with the probes, destroy always", (t) => {
  const w = workflows.get("e2e.yml")!;
  const all = steps(w);
  const kind = all.findIndex((s) => s.uses?.startsWith("helm/kind-action@"));
  const up = all.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up");
  const destroy = all.findIndex((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "destroy");
  t.true(kind >= 0 && up > kind && destroy > up, `${kind} < ${up} < ${destroy}`);
  t.is(all[up].with?.["stack-name"], "dev");
  t.is((all[destroy] as Step & { if?: string }).if, "always()");
  const clusterName = all[kind].with?.cluster_name;
  t.regex(String(all[up].with?.["config-map"]), new RegExp(`kind-${clusterName}`), "the stack targets the kind cluster's context");
});
