/** The real binary (bin/istio-mtls.js) in a child process: streams, exit codes, stdin. */
import test from "ava";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "bin", "istio-mtls.js");
const DEMO = join(ROOT, "test", "fixtures", "scenarios", "demo.yaml");
const STRICT = join(ROOT, "test", "fixtures", "scenarios", "001-mesh-strict", "policies.yaml");
const NO_POLICY = join(ROOT, "test", "fixtures", "scenarios", "001-no-policy", "policies.yaml");
const YAML = join(ROOT, "test", "fixtures", "yaml");

function istioMtls(args: string[], stdin = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test("predict: exit 0, the matrix on stdout, nothing on stderr", async (t) => {
  const r = await istioMtls(["predict", "--from", "sleep.foo,sleep.legacy", DEMO, STRICT]);
  t.is(r.stderr, "");
  t.is(r.code, 0);
  t.deepEqual(
    r.stdout.split("\n").slice(0, 3).map((l) => l.replace(/ \[\d+\]/g, "").split(/ {2,}/)),
    [
      ["from \\ to", "httpbin.bar:8000", "httpbin.foo:8000", "httpbin.legacy:8000"],
      ["sleep.foo", "200 mTLS", "200 mTLS", "200"],
      ["sleep.legacy", "000", "000", "200"],
    ],
  );
});

test("predict - reads manifests from stdin (kubectl get -o yaml | istio-mtls predict -)", async (t) => {
  const r = await istioMtls(["predict", "-f", "json", "--from", "sleep.legacy", "-", STRICT], readFileSync(DEMO, "utf8"));
  t.is(r.code, 0, r.stderr);
  const probes = (JSON.parse(r.stdout) as { probes: { to: string; code: number }[] }).probes;
  t.deepEqual(probes.map((p) => `${p.to} ${p.code}`), ["httpbin.bar:8000 0", "httpbin.foo:8000 0", "httpbin.legacy:8000 200"]);
});

test("invalid input: exit 2, file:line:col and the field on stderr, nothing on stdout", async (t) => {
  const r = await istioMtls(["predict", DEMO, join(YAML, "unknown-field.yaml")]);
  t.is(r.code, 2);
  t.is(r.stdout, "");
  t.is(r.stderr, `error: ${join(YAML, "unknown-field.yaml")}:8:5: PeerAuthentication foo/default: unknown field "spec.mtls.mod" (allowed in spec.mtls: mode)\n`);
});

test("diff --exit-code: 1 when cells change, 0 when none do", async (t) => {
  const changed = await istioMtls(["diff", "--exit-code", "--from", "sleep.legacy", "--common", DEMO, NO_POLICY, join(YAML, "strict-dir")]);
  t.is(changed.code, 1, changed.stderr);
  t.regex(changed.stdout, /^2 of 3 cells change\n/);
  const same = await istioMtls(["diff", "--exit-code", DEMO, DEMO]);
  t.is(same.code, 0);
  t.is(same.stdout, "no change: all 18 cells keep their outcome\n");
});

test("hostile input: an alias bomb and a 1 MB binary file exit 2 with one short line each, no stack trace", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-e2e-"));
  try {
    const bomb = join(dir, "bomb.yaml");
    const levels = "abcdefghi".split("");
    writeFileSync(
      bomb,
      ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol}", "data:", '  a: &a ["x","x","x","x","x","x","x","x","x","x"]']
        .concat(levels.slice(1).map((c, i) => `  ${c}: &${c} [${Array(10).fill(`*${levels[i]}`).join(",")}]`))
        .join("\n"),
    );
    const binary = join(dir, "blob.yaml");
    writeFileSync(binary, Buffer.alloc(1 << 20, 0));
    const r = await istioMtls(["predict", DEMO, bomb, binary]);
    t.is(r.code, 2);
    t.is(r.stdout, "");
    t.is(
      r.stderr,
      `error: ${bomb}:1:1: cannot expand the YAML aliases: Excessive alias count indicates a resource exhaustion attack\n` +
        `error: ${binary}: binary file (NUL byte at offset 0), not YAML text\n` +
        "2 errors; nothing predicted\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
