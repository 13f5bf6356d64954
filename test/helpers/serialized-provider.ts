/**
 * Runs the ConnectivityProbe's serialized provider text in a fresh Node process, loaded the way
 * the engine's dynamic-provider host loads it (require-from-string, cwd = the project, plain node
 * without tsx), and calls its methods in order: each step's result or error message.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { FAKE_TRANSPORT_ENV } from "../../probe/provider";

const ROOT = resolve(__dirname, "../..");

export function runSerialized(
  providerText: string,
  steps: { method: string; args: unknown[] }[],
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<{ ok?: unknown; error?: string }[]> {
  const dir = mkdtempSync(join(tmpdir(), "probe-provider-"));
  writeFileSync(join(dir, "provider.js"), providerText);
  writeFileSync(join(dir, "steps.json"), JSON.stringify(steps));
  writeFileSync(
    join(dir, "driver.cjs"),
    `const fs = require("fs");
const requireFromString = require(${JSON.stringify(join(ROOT, "node_modules/require-from-string"))});
const provider = requireFromString(fs.readFileSync(${JSON.stringify(join(dir, "provider.js"))}, "utf8")).handler();
(async () => {
  const out = [];
  for (const s of JSON.parse(fs.readFileSync(${JSON.stringify(join(dir, "steps.json"))}, "utf8"))) {
    try { out.push({ ok: await provider[s.method](...s.args) }); } catch (e) { out.push({ error: e.message }); }
  }
  process.stdout.write(JSON.stringify(out));
})();
`,
  );
  const childEnv = { ...process.env, ...env };
  if (!(FAKE_TRANSPORT_ENV in env)) delete childEnv[FAKE_TRANSPORT_ENV];
  // Plain node, no tsx: the serialized text must be self-contained JavaScript.
  delete childEnv.NODE_OPTIONS;
  return new Promise((res, rej) =>
    execFile(process.execPath, [...nodeArgs, join(dir, "driver.cjs")], { cwd: ROOT, env: childEnv, timeout: 60000 }, (err, stdout, stderr) =>
      err ? rej(new Error(`${err.message}\n${stderr}`)) : res(JSON.parse(stdout)),
    ),
  );
}
