/**
 * The READMEs as a newcomer uses them: every link stays inside the repository and exists, every
 * `npm run X` is a script, every `npx istio-mtls` invocation is a command with options it has,
 * every stack file named exists, and the production example fails the way the README shows.
 * (test/engine/run.sh checks the README's `pulumi` commands against the real CLI's help.)
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { runCli } from "../../cli/program";
import { cliCommands, invocationProblems } from "../helpers/cli-help";

const root = join(__dirname, "..", "..");
const docs = ["README.md", "tools/README.md", "policies/README.md"];
const text = (f: string) => readFileSync(join(root, f), "utf8");
/** Lines inside ``` fences. */
const codeLines = (md: string) => md.split(/^```.*$/m).filter((_, i) => i % 2 === 1).flatMap((b) => b.split("\n"));

test("links point at files inside the repository", (t) => {
  let seen = 0;
  for (const doc of docs) {
    for (const m of text(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1].split("#")[0];
      if (/^[a-z]+:/.test(target) || target === "") continue;
      seen++;
      const abs = resolve(root, dirname(doc), target);
      t.false(relative(root, abs).startsWith(".."), `${doc}: ${m[1]} leaves the repository`);
      t.true(existsSync(abs), `${doc}: ${m[1]} does not exist`);
    }
  }
  t.true(seen > 0);
});

test("every `npm run X` in the README is a script of package.json", (t) => {
  const scripts = Object.keys((JSON.parse(text("package.json")) as { scripts: Record<string, string> }).scripts);
  const used = [...text("README.md").matchAll(/\bnpm run ([\w:-]+)/g)].map((m) => m[1]);
  t.true(used.length > 0);
  for (const s of used) t.true(scripts.includes(s), `npm run ${s} is not in package.json (${scripts.join(", ")})`);
});

test("every `npx istio-mtls` in the README is a command with options it has", async (t) => {
  const commands = await cliCommands();
  let seen = 0;
  for (const line of codeLines(text("README.md"))) {
    const problems = invocationProblems(commands, line);
    if (!problems) continue;
    seen++;
    t.deepEqual(problems, [], line.trim());
  }
  t.true(seen >= 4, `found ${seen} istio-mtls invocations`);
});

test("every stack file the README names exists", (t) => {
  const named = new Set([...text("README.md").matchAll(/\bPulumi\.([\w-]+)\.yaml\b/g)].map((m) => m[0]));
  t.true(named.has("Pulumi.dev.yaml") && named.has("Pulumi.prod.yaml"));
  for (const f of named) t.true(existsSync(join(root, f)), `${f} is named in the README but does not exist`);
});

test("the README's production example fails with production-mesh-strict, as shown", async (t) => {
  const block = codeLines(text("README.md"));
  const sed = block.find((l) => l.startsWith("$ sed ") && l.includes("dev-as-prod.yaml"));
  const plan = block.find((l) => l.startsWith("$ npx istio-mtls plan") && l.includes("dev-as-prod.yaml"));
  t.truthy(sed && plan, "the example's two commands");
  const dir = mkdtempSync(join(tmpdir(), "readme-"));
  copyFileSync(join(root, "Pulumi.dev.yaml"), join(dir, "Pulumi.dev.yaml"));
  execFileSync("sh", ["-c", sed!.slice(2)], { cwd: dir });
  t.regex(readFileSync(join(dir, "dev-as-prod.yaml"), "utf8"), /^ {2}istio-mtls:production: true$/m, "the sed line turns production on");
  const args = plan!.slice("$ npx istio-mtls ".length).split(/\s+/).map((a) => (a === "dev-as-prod.yaml" ? join(dir, a) : a));
  let out = "";
  const code = await runCli(args, { stdout: (s) => (out += s), stderr: (s) => (out += s) });
  t.is(code, 1, out);
  t.regex(out, /^mandatory production-mesh-strict: /m);
});
