/** A stack file that is not valid YAML: plan names the file, line and column, also with --against (two files). */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/program";

const dir = mkdtempSync(join(tmpdir(), "plan-yaml-"));
const good = join(dir, "Pulumi.good.yaml");
const bad = join(dir, "Pulumi.bad.yaml");
writeFileSync(good, readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8"));
writeFileSync(bad, "config:\n  istio-mtls:production: false\n  istio-mtls:mtls: {mesh: STRICT\n");

async function plan(args: string[]): Promise<{ code: number; err: string }> {
  let err = "";
  const code = await runCli(["plan", ...args], { stdout: () => undefined, stderr: (s) => (err += s) });
  return { code, err };
}

test("a stack file with a YAML error: the file, line and column, exit 2", async (t) => {
  const { code, err } = await plan(["--config", bad]);
  t.is(code, 2);
  t.regex(err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: not valid YAML: `));
});

test("with --against, the broken file is the one named", async (t) => {
  const { code, err } = await plan(["--config", good, "--against", bad]);
  t.is(code, 2);
  t.true(err.includes(`${bad}:`), err);
  t.false(err.includes(good), err);
});
