/**
 * The command line run in-process (runCli with captured streams), on the seed scenarios' manifests
 * and on broken inputs. Child-process runs of the real binary are in e2e.test.ts.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { runCli } from "../../cli/program";

const ROOT = join(__dirname, "..", "..");
const SCENARIOS = join(ROOT, "test", "fixtures", "scenarios");
const YAML = join(ROOT, "test", "fixtures", "yaml");
const DEMO = join(SCENARIOS, "demo.yaml");
const policies = (scenario: string) => join(SCENARIOS, scenario, "policies.yaml");
const SLEEPS = "sleep.foo,sleep.bar,sleep.legacy";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(...argv: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), stdin: () => readFileSync(DEMO, "utf8") });
  return { code, stdout, stderr };
}

/** The scenario's expected matrix as cell texts keyed "row col:8000". */
function expectedCells(scenario: string): Map<string, string> {
  const e = parse(readFileSync(join(SCENARIOS, scenario, "expected.yaml"), "utf8")) as { columns: string[]; matrix: Record<string, unknown[]> };
  const cells = new Map<string, string>();
  for (const [row, values] of Object.entries(e.matrix)) {
    values.forEach((v, i) => cells.set(`${row} ${e.columns[i]}:8000`, String(v).replace("mtls", "mTLS")));
  }
  return cells;
}

test("predict --format json: seed 001 mesh STRICT, every sleep row as the seed scenario expects", async (t) => {
  const r = await run("predict", "--format", "json", "--from", SLEEPS, DEMO, policies("001-mesh-strict"));
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, "");
  const out = JSON.parse(r.stdout) as { probes: { from: string; to: string; code: number; mtls: boolean; reason: string }[] };
  const want = expectedCells("001-mesh-strict");
  const got = new Map(out.probes.map((p) => [`${p.from} ${p.to}`, `${String(p.code).padStart(3, "0")}${p.mtls ? " mTLS" : ""}`]));
  const sorted = (m: Map<string, string>) => Object.fromEntries([...m].sort());
  t.deepEqual(sorted(got), sorted(want));
  for (const p of out.probes) t.deepEqual(Object.keys(p).slice(0, 5), ["from", "to", "code", "mtls", "reason"]);
  t.true(out.probes.every((p) => p.reason.length > 0));
});

test("predict table: the seed's matrix with sleep rows and httpbin columns, legend entries for each number", async (t) => {
  const r = await run("predict", "--from", "sleep.foo", "--from", "sleep.legacy", DEMO, policies("001-mesh-strict-dr-istio-mutual"));
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  t.deepEqual(
    lines.slice(0, 3).map((l) => l.replace(/ \[\d+\]/g, "").split(/ {2,}/)),
    [
      ["from \\ to", "httpbin.bar:8000", "httpbin.foo:8000", "httpbin.legacy:8000"],
      ["sleep.foo", "200 mTLS", "200 mTLS", "503"],
      ["sleep.legacy", "000", "000", "200"],
    ],
  );
  const numbers = new Set([...lines.slice(1, 3).join(" ").matchAll(/\[(\d+)\]/g)].map((m) => m[1]));
  for (const n of numbers) t.true(lines.some((l) => l.startsWith(`[${n}] `)), `legend entry ${n}`);
  t.regex(r.stdout, /\n6 probes: 2 × 000, 2 × 200 mTLS, 1 × 200, 1 × 503\n/);
  t.regex(r.stdout, /ISTIO_MUTUAL/);
});

test("predict markdown: a GitHub table", async (t) => {
  const r = await run("predict", "-f", "markdown", "--from", "sleep.legacy", DEMO);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.split("\n").slice(0, 3), [
    "| from \\ to | httpbin.bar:8000 | httpbin.foo:8000 | httpbin.legacy:8000 |",
    "| --- | --- | --- | --- |",
    "| sleep.legacy | 200 [1] | 200 [1] | 200 [2] |",
  ]);
});

test("predict reads a directory, and - reads standard input", async (t) => {
  const fromDir = await run("predict", "-f", "json", "--from", SLEEPS, join(YAML, "strict-dir"), "-");
  t.is(fromDir.code, 0, fromDir.stderr);
  const fromFiles = await run("predict", "-f", "json", "--from", SLEEPS, policies("001-mesh-strict"), DEMO);
  t.is(fromDir.stdout, fromFiles.stdout);
  t.true(fromDir.stdout.includes('"code": 0'));
});

test("without --from every client workload is a row (httpbin pods are clients too)", async (t) => {
  const r = await run("predict", "-f", "json", DEMO);
  const rows = [...new Set((JSON.parse(r.stdout) as { probes: { from: string }[] }).probes.map((p) => p.from))].sort();
  t.deepEqual(rows, ["httpbin.bar", "httpbin.foo", "httpbin.legacy", "sleep.bar", "sleep.foo", "sleep.legacy"]);
});

test("--from naming no workload: exit 2 and the list of workloads", async (t) => {
  const r = await run("predict", "--from", "sleep.baz", DEMO);
  t.is(r.code, 2);
  t.is(r.stdout, "");
  t.is(r.stderr, 'error: --from "sleep.baz": no such client workload in the input (workloads: httpbin.bar, sleep.bar, httpbin.foo, sleep.foo, httpbin.legacy, sleep.legacy)\n');
});

test("diff: only the changed cells with both reasons, exit 0; --exit-code makes it 1", async (t) => {
  const args = ["diff", "--common", DEMO, "--from", SLEEPS, policies("001-mesh-strict"), policies("001-mesh-strict-dr-istio-mutual")];
  const r = await run(...args);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  t.regex(lines[0]!, /^2 of 9 cells change; \d+ unchanged cells now decided by another reason$/);
  const heads = lines.filter((l) => l.startsWith("sleep."));
  t.deepEqual(heads.map((l) => l.split(/ {2,}/)), [
    ["sleep.bar", "→ httpbin.legacy:8000", "200", "→ 503"],
    ["sleep.foo", "→ httpbin.legacy:8000", "200", "→ 503"],
  ]);
  t.is(lines.filter((l) => l.startsWith("  old: ")).length, 2);
  t.true(lines.filter((l) => l.startsWith("  new: ")).every((l) => l.includes("ISTIO_MUTUAL")));
  t.is((await run(...args, "--exit-code")).code, 1);
});

test("diff with no change says so and exits 0, also with --exit-code", async (t) => {
  const r = await run("diff", "--exit-code", "-f", "json", DEMO, DEMO);
  t.is(r.code, 0);
  t.deepEqual(JSON.parse(r.stdout).changes, []);
  t.regex((await run("diff", DEMO, DEMO)).stdout, /^no change: all 18 cells keep their outcome\n$/);
});

test("diff markdown: no policy → mesh STRICT (a directory) refuses the plaintext client", async (t) => {
  const r = await run("diff", "-f", "markdown", "--from", "sleep.legacy", "--common", DEMO, join(SCENARIOS, "001-no-policy", "policies.yaml"), join(YAML, "strict-dir"));
  t.is(r.code, 0, r.stderr);
  t.deepEqual(
    r.stdout.split("\n").filter((l) => l.startsWith("| sleep.")).map((l) => l.split(" | ").slice(0, 4)),
    [
      ["| sleep.legacy", "httpbin.bar:8000", "200", "000"],
      ["| sleep.legacy", "httpbin.foo:8000", "200", "000"],
    ],
  );
});

test("errors: unreadable file, exit 2, path and OS error on stderr", async (t) => {
  const missing = join(YAML, "missing.yaml");
  const r = await run("predict", missing);
  t.is(r.code, 2);
  t.is(r.stdout, "");
  t.is(r.stderr, `error: ${missing}: cannot read: ENOENT: no such file or directory\n`);
});

test("errors: YAML syntax, unknown field, bad enum, not an object are all listed with file:line:col", async (t) => {
  const files = ["bad-syntax.yaml", "not-an-object.yaml"].map((f) => join(YAML, f));
  const r = await run("predict", ...files);
  t.is(r.code, 2);
  t.deepEqual(r.stderr.split("\n"), [
    `error: ${files[0]}:10:3: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    `error: ${files[1]}:6:1: not a Kubernetes object: expected a mapping with apiVersion, kind and metadata, found a list`,
    `error: ${files[1]}:9:1: not a Kubernetes object: metadata.name must be a non-empty string, found nothing`,
    "3 errors; nothing predicted",
    "",
  ]);
  const schema = await run("predict", DEMO, join(YAML, "unknown-field.yaml"), join(YAML, "bad-enum.yaml"));
  t.is(schema.code, 2);
  t.deepEqual(schema.stderr.split("\n"), [
    `error: ${join(YAML, "unknown-field.yaml")}:8:5: PeerAuthentication foo/default: unknown field "spec.mtls.mod" (allowed in spec.mtls: mode)`,
    `error: ${join(YAML, "bad-enum.yaml")}:8:11: PeerAuthentication istio-system/default: spec.mtls.mode: "strict" is not one of UNSET, DISABLE, PERMISSIVE, STRICT`,
    "2 errors; nothing predicted",
    "",
  ]);
});

interface JsonProbe {
  from: string;
  to: string;
  code: number;
  mtls: boolean;
  reason: string;
  notModelled?: string[];
}

/** "row col" → marks, for the cells that have some. */
function marks(stdout: string): Record<string, string[]> {
  const out = JSON.parse(stdout) as { probes: JsonProbe[] };
  return Object.fromEntries(out.probes.filter((p) => p.notModelled).map((p) => [`${p.from} ${p.to}`, p.notModelled!]));
}

test("a VirtualService is predicted, not refused: the cells from sidecar clients to its host are marked, with or without --ignore-unknown-kinds", async (t) => {
  const vs = join(YAML, "virtual-service.yaml");
  const r = await run("predict", "-f", "json", DEMO, vs);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, "");
  const mark = ["not modelled: VirtualService foo/httpbin routes httpbin.foo"];
  t.deepEqual(marks(r.stdout), {
    "httpbin.bar httpbin.foo:8000": mark,
    "sleep.bar httpbin.foo:8000": mark,
    "httpbin.foo httpbin.foo:8000": mark,
    "sleep.foo httpbin.foo:8000": mark,
  });
  const plain = JSON.parse((await run("predict", "-f", "json", DEMO)).stdout) as { probes: JsonProbe[] };
  const got = JSON.parse(r.stdout) as { probes: JsonProbe[] };
  t.deepEqual(
    got.probes.map(({ notModelled: _, ...rest }) => rest),
    plain.probes,
    "the outcomes themselves are the model's",
  );
  const ignored = await run("predict", "--ignore-unknown-kinds", "-f", "json", DEMO, vs);
  t.is(ignored.code, 0);
  t.is(ignored.stderr, "");
  t.is(ignored.stdout, r.stdout);
});

const EXPORT = join(YAML, "cluster-networking.yaml");
const EXPORT_NOTICES = [
  `${EXPORT}:19:5: VirtualService foo/httpbin-ingress binds only to gateways (httpbin-gateway); the predicted mesh-internal cells do not depend on it`,
  `${EXPORT}:31:5: Gateway foo/httpbin-gateway configures only Istio gateways; the predicted mesh-internal cells do not depend on it`,
  "",
].join("\n");

test("a cluster export with a VirtualService, a Sidecar, a Gateway and an EnvoyFilter: table with ~ marks and a legend line per object", async (t) => {
  const r = await run("predict", DEMO, EXPORT);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, EXPORT_NOTICES);
  t.is(
    r.stdout,
    [
      "from \\ to       httpbin.bar:8000     httpbin.foo:8000     httpbin.legacy:8000",
      "httpbin.bar     200 mTLS [1] ~[2]    200 mTLS [1] ~[2,3]  200 [4] ~[2]",
      "sleep.bar       200 mTLS [1] ~[2]    200 mTLS [1] ~[2,3]  200 [4] ~[2]",
      "httpbin.foo     200 mTLS [1] ~[2]    200 mTLS [1] ~[3]    200 [4]",
      "sleep.foo       200 mTLS [1] ~[2,5]  200 mTLS [1] ~[3,5]  200 [4] ~[5]",
      "httpbin.legacy  200 [6] ~[2]         200 [6]              200 [7]",
      "sleep.legacy    200 [6] ~[2]         200 [6]              200 [7]",
      "",
      "18 probes: 10 × 200, 8 × 200 mTLS; 13 marked ~ (an object the model does not read could change them)",
      "",
      "[1] sidecar client, mTLS (auto mTLS) → PERMISSIVE at port 8080 (no PeerAuthentication, Istio default)",
      "[2] not modelled: Sidecar bar/default may restrict this traffic",
      "[3] not modelled: VirtualService foo/httpbin routes httpbin.foo",
      "[4] sidecar client, plaintext (auto mTLS: endpoint httpbin.legacy has no sidecar) → httpbin.legacy has no sidecar (no injection label; nothing enforced)",
      "[5] not modelled: EnvoyFilter foo/sleep-lua may patch the proxies of this traffic",
      "[6] plaintext client (no sidecar) → PERMISSIVE at port 8080 (no PeerAuthentication, Istio default)",
      "[7] plaintext client (no sidecar) → httpbin.legacy has no sidecar (no injection label; nothing enforced)",
      "",
    ].join("\n"),
  );
  const md = await run("predict", "-f", "markdown", DEMO, EXPORT);
  t.is(md.code, 0);
  t.true(md.stdout.includes("| sleep.foo | 200 mTLS [1] ~[2,5] | 200 mTLS [1] ~[3,5] | 200 [4] ~[5] |"), md.stdout);
  t.true(md.stdout.includes("\n3. not modelled: VirtualService foo/httpbin routes httpbin.foo\n"), md.stdout);
});

test("a cluster export with a VirtualService, a Sidecar, a Gateway and an EnvoyFilter: json notModelled on exactly the cells they could change", async (t) => {
  const r = await run("predict", "-f", "json", DEMO, EXPORT);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, EXPORT_NOTICES);
  const vs = "not modelled: VirtualService foo/httpbin routes httpbin.foo";
  const sc = "not modelled: Sidecar bar/default may restrict this traffic";
  const ef = "not modelled: EnvoyFilter foo/sleep-lua may patch the proxies of this traffic";
  t.deepEqual(marks(r.stdout), {
    "httpbin.bar httpbin.bar:8000": [sc],
    "httpbin.bar httpbin.foo:8000": [vs, sc],
    "httpbin.bar httpbin.legacy:8000": [sc],
    "sleep.bar httpbin.bar:8000": [sc],
    "sleep.bar httpbin.foo:8000": [vs, sc],
    "sleep.bar httpbin.legacy:8000": [sc],
    "httpbin.foo httpbin.bar:8000": [sc],
    "httpbin.foo httpbin.foo:8000": [vs],
    "sleep.foo httpbin.bar:8000": [sc, ef],
    "sleep.foo httpbin.foo:8000": [vs, ef],
    "sleep.foo httpbin.legacy:8000": [ef],
    "httpbin.legacy httpbin.bar:8000": [sc],
    "sleep.legacy httpbin.bar:8000": [sc],
  });
  for (const p of (JSON.parse(r.stdout) as { probes: JsonProbe[] }).probes) {
    t.deepEqual(Object.keys(p).slice(0, 5), ["from", "to", "code", "mtls", "reason"]);
    if (p.notModelled) t.is(Object.keys(p)[5], "notModelled");
  }
});

test("diff: a cell whose not-modelled marks change is a change, even with the same outcome", async (t) => {
  const vs = join(YAML, "virtual-service.yaml");
  const r = await run("diff", "--exit-code", "--from", "sleep.foo", "--common", DEMO, join(YAML, "cluster-extras.yaml"), vs);
  t.is(r.code, 1, r.stderr + r.stdout);
  t.is(
    r.stdout,
    [
      "1 of 3 cells changes",
      "",
      "sleep.foo  → httpbin.foo:8000  200 mTLS  → 200 mTLS ~",
      "  old: sidecar client, mTLS (auto mTLS) → PERMISSIVE at port 8080 (no PeerAuthentication, Istio default)",
      "  new: sidecar client, mTLS (auto mTLS) → PERMISSIVE at port 8080 (no PeerAuthentication, Istio default); not modelled: VirtualService foo/httpbin routes httpbin.foo",
      "",
    ].join("\n"),
  );
  const json = JSON.parse((await run("diff", "-f", "json", "--from", "sleep.foo", "--common", DEMO, join(YAML, "cluster-extras.yaml"), vs)).stdout) as {
    changes: { from: string; to: string; old: { notModelled?: string[] }; new: { notModelled?: string[] } }[];
  };
  const c = json.changes.find((x) => x.to === "httpbin.foo:8000");
  t.truthy(c);
  t.is(c!.old.notModelled, undefined);
  t.deepEqual(c!.new.notModelled, ["not modelled: VirtualService foo/httpbin routes httpbin.foo"]);
});

test("--ignore-unknown-kinds still skips what the model cannot read (an old API version), with a notice", async (t) => {
  const old = join(YAML, "old-api.yaml");
  const r = await run("predict", "--ignore-unknown-kinds", "-f", "json", DEMO, old);
  t.is(r.code, 0, r.stderr);
  t.is(r.stderr, `${old}:1:1: skipped PeerAuthentication foo/default (security.istio.io/v1alpha1): the prediction ignores it\n`);
  t.is(r.stdout, (await run("predict", "-f", "json", DEMO)).stdout);
});

test("an Istio kind in an apiVersion the model does not read is refused with the versions it reads", async (t) => {
  const r = await run("predict", "-", join(YAML, "old-api.yaml"));
  t.is(r.code, 2);
  t.is(
    r.stderr,
    `error: ${join(YAML, "old-api.yaml")}:1:1: PeerAuthentication foo/default: the model reads PeerAuthentication as security.istio.io/v1 or security.istio.io/v1beta1, not security.istio.io/v1alpha1; remove it or pass --ignore-unknown-kinds to predict without it\n`,
  );
});

test("other kinds of a cluster export: one notice line, the prediction unchanged", async (t) => {
  const r = await run("predict", "-f", "json", DEMO, join(YAML, "cluster-extras.yaml"));
  t.is(r.code, 0);
  t.is(r.stderr, "skipped 3 objects of kinds the model does not read: 2 Secret (v1), 1 Telemetry (telemetry.istio.io/v1)\n");
  t.is(r.stdout, (await run("predict", "-f", "json", DEMO)).stdout);
});

test("the same object twice: the last one wins, as with kubectl apply, with a notice naming both places", async (t) => {
  const dup = join(YAML, "sleep-foo-again.yaml");
  const r = await run("predict", "-f", "json", "--from", "sleep.foo", DEMO, dup);
  t.is(r.code, 0);
  t.is(r.stderr, `${dup}:2:1: Deployment foo/sleep replaces the one at ${DEMO}:58:1 (the last one wins, as with kubectl apply)\n`);
  const probes = (JSON.parse(r.stdout) as { probes: { to: string; mtls: boolean }[] }).probes;
  t.deepEqual(probes.map((p) => `${p.to} ${p.mtls}`), ["httpbin.bar:8000 false", "httpbin.foo:8000 false", "httpbin.legacy:8000 false"], "the later copy has no sidecar");
});

test("workloads of every kind: a StatefulSet's pod is the Service's endpoint, its Pod counted once", async (t) => {
  const r = await run("predict", "-f", "json", DEMO, join(YAML, "statefulset.yaml"));
  t.is(r.code, 0, r.stderr);
  const probes = (JSON.parse(r.stdout) as { probes: { from: string; to: string; code: number; mtls: boolean }[] }).probes;
  const cell = probes.find((p) => p.from === "sleep.foo" && p.to === "db.shop:5432");
  t.like(cell, { code: 200, mtls: true });
  t.deepEqual(probes.filter((p) => p.from.endsWith(".shop")).map((p) => p.from)[0], "db.shop");
  t.false(probes.some((p) => p.from === "db-0.shop"));
});

test("every bad Service is an error at its file:line, all listed", async (t) => {
  const bad = join(YAML, "bad-services.yaml");
  t.deepEqual(await run("predict", DEMO, bad), {
    code: 2,
    stdout: "",
    stderr:
      `error: ${bad}:2:1: Service foo/a: spec.ports[0].port must be 1..65535, found 0\n` +
      `error: ${bad}:2:1: Service foo/a: spec.ports[1].targetPort must be a number or a port name, found true\n` +
      `error: ${bad}:15:1: Service bar/b: spec.ports must list at least one port\n` +
      "3 errors; nothing predicted\n",
  });
});

test("objects the model refuses are named with the file:line they came from", async (t) => {
  const mesh = join(YAML, "mesh-config-bad.yaml");
  t.deepEqual(await run("predict", DEMO, mesh), {
    code: 2,
    stdout: "",
    stderr: `error: ${mesh}:1:1: ConfigMap istio-system/istio: mesh.enableAutoMtls must be true or false, found "sometimes"\n`,
  });
});

test("usage errors exit 2: unknown format, unknown option, missing arguments, both sides on stdin", async (t) => {
  const format = await run("predict", "-f", "xml", DEMO);
  t.is(format.code, 2);
  t.regex(format.stderr, /argument 'xml' is invalid\. Allowed choices are table, markdown, json\./);
  t.is((await run("predict", "--bogus", DEMO)).code, 2);
  t.is((await run("predict")).code, 2);
  t.is((await run("diff", DEMO)).code, 2);
  t.is((await run()).code, 2);
  const stdin = await run("diff", "-", "-");
  t.deepEqual(stdin, { code: 2, stdout: "", stderr: "error: diff: OLD and NEW cannot both be - (standard input)\n" });
});

test("--help exits 0 and documents the commands", async (t) => {
  const r = await run("predict", "--help");
  t.is(r.code, 0);
  for (const opt of ["--format", "--from", "--ignore-unknown-kinds", "[file-or-dir...]", "--kube", "--all-namespaces"]) t.true(r.stdout.includes(opt), opt);
  t.true((await run("diff", "--help")).stdout.includes("--exit-code"));
});

test("end-user tokens: none → 403, invalid → 401, valid with the right audience → 200, wrong audience → 403", async (t) => {
  const jwt = join(YAML, "jwt.yaml");
  const foo = async (...opts: string[]): Promise<string> => {
    const r = await run("predict", "-f", "json", "--from", "sleep.foo", DEMO, jwt, ...opts);
    t.is(r.code, 0, r.stderr);
    const cell = (JSON.parse(r.stdout) as { probes: { to: string; code: number; mtls: boolean }[] }).probes.find((p) => p.to === "httpbin.foo:8000")!;
    return `${cell.code}${cell.mtls ? " mTLS" : ""}`;
  };
  const valid = ["--jwt-issuer", "testing@secure.istio.io", "--jwt-subject", "testing@secure.istio.io"];
  t.is(await foo(), "403 mTLS");
  t.is(await foo("--invalid-jwt"), "401 mTLS");
  t.is(await foo(...valid, "--jwt-audience", "httpbin"), "200 mTLS");
  t.is(await foo(...valid, "--jwt-audience", "other,more"), "403 mTLS");
  t.is(await foo("--jwt-issuer", "someone@else", "--jwt-subject", "x", "--jwt-audience", "httpbin"), "401 mTLS");
});

test("token options that do not make a token are usage errors", async (t) => {
  t.deepEqual(await run("predict", "--jwt-issuer", "x", DEMO), {
    code: 2,
    stdout: "",
    stderr: "error: --jwt-issuer and --jwt-subject go together; found only --jwt-issuer\n",
  });
  t.is((await run("predict", "--jwt-audience", "a", DEMO)).stderr, "error: --jwt-audience needs --jwt-issuer and --jwt-subject\n");
  const both = await run("predict", "--invalid-jwt", "--jwt-issuer", "x", DEMO);
  t.is(both.code, 2);
  t.regex(both.stderr, /option '--invalid-jwt' cannot be used with option '--jwt-issuer <issuer>'/);
});

test("--path and --method reach the model's authorization rules", async (t) => {
  const deny = join(YAML, "deny-post.yaml");
  const cell = async (...opts: string[]): Promise<number> => {
    const r = await run("predict", "-f", "json", "--from", "sleep.foo", DEMO, deny, ...opts);
    t.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { probes: { to: string; code: number }[] }).probes.find((p) => p.to === "httpbin.foo:8000")!.code;
  };
  t.is(await cell(), 200);
  t.is(await cell("--method", "POST", "--path", "/post"), 403);
  t.is(await cell("--method", "POST", "--path", "/anything"), 200);
});

test("diff labels each side's notices OLD or NEW", async (t) => {
  const r = await run("diff", "--common", DEMO, policies("001-no-policy"), join(YAML, "cluster-extras.yaml"));
  t.is(r.code, 0);
  t.is(r.stderr, "NEW: skipped 3 objects of kinds the model does not read: 2 Secret (v1), 1 Telemetry (telemetry.istio.io/v1)\n");
  t.is(r.stdout, "no change: all 18 cells keep their outcome\n");
});

test("plan: listed in the help, loaded when run, its exit code and messages come through runCli", async (t) => {
  const help = await run("--help");
  t.is(help.code, 0);
  t.regex(help.stdout, /\n {2}plan\b.*without a\s+cluster or the Pulumi runtime/);
  const before = process.exitCode;
  const missing = await run("plan", "--stack", "missing");
  t.is(missing.code, 2);
  t.regex(missing.stderr, /^error: stack config .*Pulumi\.missing\.yaml does not exist/);
  t.is(missing.stdout, "");
  t.is(process.exitCode, before);
  const planHelp = await run("plan", "--help");
  t.is(planHelp.code, 0);
  t.true(planHelp.stdout.includes("--fail-on"));
  // Commander wraps help to the terminal width.
  t.regex(planHelp.stdout.replace(/\s+/g, " "), /--format <format> output format; yaml: every object to apply, in apply order.*choices: "table", "json", "markdown", "yaml"/);
  const unknownFormat = await run("plan", "--format", "yml");
  t.is(unknownFormat.code, 2);
  t.regex(unknownFormat.stderr, /Allowed choices are table, json, markdown, yaml/);
});
