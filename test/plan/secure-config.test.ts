/** `plan` on a stack file holding an encrypted kubeconfig, as real stack files do: it plans, the secret stays unread. */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../cli/program";

test("a secure kubernetes:kubeconfig does not stop the plan, and its ciphertext is not printed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "plan-secure-"));
  const file = join(dir, "Pulumi.dev.yaml");
  const dev = readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");
  writeFileSync(file, dev.replace(/^config:\n/m, "config:\n  kubernetes:kubeconfig:\n    secure: v1:c2VjcmV0LWJ5dGVz\n"));
  let out = "";
  let err = "";
  const code = await runCli(["plan", "--stack", "dev", "--config", file, "--format", "json"], { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  t.is(code, 0, err);
  const plan = JSON.parse(out) as { probes: unknown[] };
  t.is(plan.probes.length, 21, "from the three sleep workloads and the four probe clients");
  t.false(out.includes("c2VjcmV0LWJ5dGVz"));
});
