/** Intent about the plaintext probe client: the pack checks it against the predicted cell, as any client's. */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runPlan } from "../../cli/commands/plan";

const ROOT = resolve(__dirname, "../..");

async function planWithIntent(expect: string) {
  const dir = mkdtempSync(join(tmpdir(), "probe-intent-"));
  const file = join(dir, "Pulumi.dev.yaml");
  const dev = readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8");
  writeFileSync(file, `${dev}    - from: istio-mtls-probe.istio-mtls-probe\n      to: httpbin.foo:8000\n      expect: ${expect}\n`);
  const { output } = await runPlan({ stack: "dev", config: file, format: "json", failOn: "never" }, ROOT);
  return (JSON.parse(output) as { violations: { policy: string; message: string }[] }).violations.filter((v) => v.policy === "connectivity-intent");
}

test("the plaintext probe client refused by STRICT foo: the intent holds; expecting it allowed is a finding", async (t) => {
  t.deepEqual(await planWithIntent("refused"), []);
  const [finding] = await planWithIntent("allowed");
  t.regex(finding!.message, /istio-mtls-probe\.istio-mtls-probe → httpbin\.foo:8000: expected to succeed, predicted to fail/);
});
