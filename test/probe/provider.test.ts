import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_REQUEST } from "../../mesh/prediction";
import { FAKE_TRANSPORT_ENV } from "../../probe/provider";
import { demoNamespaces, demoPrediction, demoScenario, sleepId } from "./demo-matrix";
import { probeUnderMocks, type ProbeUnderMocks, type Recorder } from "../helpers/mocks";
import { runSerialized } from "../helpers/serialized-provider";

let ConnectivityProbe: ProbeUnderMocks["ConnectivityProbe"];
let registered: Recorder["registrationOf"];
let providerText: ProbeUnderMocks["providerText"];
test.before(async () => {
  const mocked = await probeUnderMocks();
  ({ ConnectivityProbe, providerText } = mocked);
  registered = mocked.recorder.registrationOf;
});

const FAKE_MODULE = resolve(__dirname, "fake-transport.cjs");
const NS = demoNamespaces(3);

const baseInputs = (extra: Record<string, unknown> = {}) => ({
  predicted: demoPrediction(NS).probes,
  tokens: [],
  revision: "rev-1",
  alwaysRun: false,
  requestTimeoutSeconds: 2,
  deadlineSeconds: 0,
  concurrency: 2,
  ...extra,
});

test.serial("registers as pulumi-nodejs:dynamic/probe:ConnectivityProbe with a serialized __provider and the predicted cells", async (t) => {
  const probe = new ConnectivityProbe("probe", {
    prediction: demoPrediction(NS),
    revision: "rev-1",
    kubeconfig: "apiVersion: v1\nkind: Config\n",
    transport: { kind: "fake", scenario: demoScenario(NS) },
  });
  const reg = await registered(probe);
  t.is(reg.type, "pulumi-nodejs:dynamic/probe:ConnectivityProbe");
  t.true(reg.custom);
  t.is(typeof reg.inputs.__provider, "string");
  t.regex(reg.inputs.__provider as string, /exports\.handler/);
  t.is(reg.inputs.revision, "rev-1");
  t.is(reg.inputs.concurrency, 4);
  t.is(reg.inputs.requestTimeoutSeconds, 5);
  t.is(reg.inputs.deadlineSeconds, 180);
  t.is(reg.inputs.alwaysRun, false);
  const predicted = reg.inputs.predicted as { from: string; to: string; request: unknown }[];
  t.deepEqual([...new Set(predicted.map((c) => c.from))], ["sleep.foo", "sleep.bar", "sleep.legacy"]);
  t.deepEqual(predicted.slice(0, 3).map((c) => c.to), ["httpbin.foo:8000", "httpbin.bar:8000", "httpbin.legacy:8000"]);
  for (const c of predicted) t.deepEqual(c.request, { path: "/headers", method: "GET", token: { kind: "none" } });
  t.deepEqual(reg.inputs.tokens, []);
  t.deepEqual(reg.inputs.exceptions, [], "none given: no Service port is under an exception");
  // The serialized provider must not carry the kubeconfig, a client object or the Pulumi SDK.
  t.notRegex(reg.inputs.__provider as string, /kind: Config|@pulumi\/pulumi/);
});

test.serial("no predicted cell (a stack without Services of its own): the probe runs, its report says 0 service ports", async (t) => {
  const probe = new ConnectivityProbe("probe-empty", { prediction: { probes: [] }, revision: "rev-1", transport: { kind: "fake", scenario: demoScenario(NS) } });
  const reg = await registered(probe);
  const [created] = await runSerialized(
    reg.inputs.__provider as string,
    [{ method: "create", args: [baseInputs({ predicted: [], exceptions: [], transport: { kind: "fake", scenario: demoScenario(NS) } })] }],
    { [FAKE_TRANSPORT_ENV]: FAKE_MODULE },
  );
  t.is(created!.error, undefined);
  const outs = (created!.ok as { outs: Record<string, unknown> }).outs;
  t.deepEqual([outs.execs, outs.posture, outs.summary], [0, [], "0 service ports: 0 refuse plaintext"]);
});

test.serial("constructor rejects bad settings and a token-carrying prediction without token bytes", (t) => {
  t.throws(() => new ConnectivityProbe("bad", { prediction: demoPrediction(NS), revision: "r", concurrency: 0 }), { message: /concurrency is 0: allowed an integer in 1\.\.100/ });
  const withToken = demoPrediction(["foo"]);
  withToken.probes[0]!.request = { ...DEFAULT_REQUEST, token: { kind: "valid", issuer: "i", subject: "s" } };
  t.throws(() => new ConnectivityProbe("tok", { prediction: withToken, revision: "r" }), { message: /carries a valid token but no token bytes/ });
});

test.serial("the serialized provider runs in a fresh node process: check, create, diff, update", async (t) => {
  const probe = new ConnectivityProbe("probe2", { prediction: demoPrediction(NS), revision: "rev-1", transport: { kind: "fake", scenario: demoScenario(NS) } });
  const text = await providerText(probe);
  const exceptions = [{ namespace: "bar", service: "httpbin", port: 8000, object: "PeerAuthentication bar/httpbin", reason: "reviewed", expires: "2999-01-01" }];
  const inputs = { ...baseInputs({ transport: { kind: "fake", scenario: demoScenario(NS) } }), exceptions };
  const [check, created, badCheck] = await runSerialized(
    text,
    [
      { method: "check", args: [{}, inputs] },
      { method: "create", args: [inputs] },
      { method: "check", args: [{}, { ...inputs, revision: "", concurrency: 0, exceptions: "none", transport: { kind: "real" } }] },
    ],
    { [FAKE_TRANSPORT_ENV]: FAKE_MODULE },
  );
  t.deepEqual((check!.ok as { failures: unknown[] }).failures, []);
  t.is(created!.error, undefined);
  const outs = (created!.ok as { id: string; outs: Record<string, unknown> }).outs;
  t.regex((created!.ok as { id: string }).id, /^connectivity-probe-[0-9a-f]{12}$/);
  t.is(outs.attempts, 1);
  t.is(outs.execs, 3);
  t.is(outs.revision, "rev-1");
  t.is((outs.cells as unknown[]).length, 9);
  t.is(
    outs.table,
    [
      `sleep.foo to httpbin.foo: 200 (mTLS ${sleepId("foo")})`,
      `sleep.foo to httpbin.bar: 200 (mTLS ${sleepId("foo")})`,
      "sleep.foo to httpbin.legacy: 200 (plaintext)",
      `sleep.bar to httpbin.foo: 200 (mTLS ${sleepId("bar")})`,
      `sleep.bar to httpbin.bar: 200 (mTLS ${sleepId("bar")})`,
      "sleep.bar to httpbin.legacy: 200 (plaintext)",
      "sleep.legacy to httpbin.foo: 000 (curl exit 56)",
      "sleep.legacy to httpbin.bar: 200 (plaintext)",
      "sleep.legacy to httpbin.legacy: 200 (plaintext)",
    ].join("\n"),
  );
  // The posture of each Service port the cells reached, from the serialized provider's own run.
  t.deepEqual(
    (outs.posture as { namespace: string; mtls: string; verdict: string }[]).map((p) => [p.namespace, p.mtls, p.verdict]),
    [
      ["bar", "permissive", "under-exception"],
      ["foo", "strict", "refuses-plaintext"],
      ["legacy", "plaintext-accepted", "no-exception"],
    ],
  );
  t.is(
    outs.summary,
    "3 service ports: 1 refuse plaintext; 1 accepts it under exceptions bar/httpbin:8000 (PeerAuthentication bar/httpbin, expires 2999-01-01); 1 accepts it WITHOUT a reviewed exception: legacy/httpbin:8000",
  );
  const failures = (badCheck!.ok as { failures: { property: string }[] }).failures.map((f) => f.property).sort();
  t.deepEqual(failures, ["concurrency", "exceptions", "revision", "transport"]);

  // Diff against the stored outputs: nothing changed → no run; revision, probe set, alwaysRun, unknowns → run.
  const changedProbes = baseInputs();
  changedProbes.predicted[0] = { ...changedProbes.predicted[0]!, code: 503 };
  const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
  const diffs = await runSerialized(text, [
    { method: "diff", args: ["id", outs, inputs] },
    { method: "diff", args: ["id", outs, { ...inputs, revision: "rev-2" }] },
    { method: "diff", args: ["id", outs, changedProbes] },
    { method: "diff", args: ["id", outs, { ...inputs, alwaysRun: true }] },
    { method: "diff", args: ["id", outs, { ...inputs, revision: unknown }] },
    { method: "diff", args: ["id", outs, { ...inputs, concurrency: 8, deadlineSeconds: 300 }] },
  ]);
  t.deepEqual(
    diffs.map((d) => (d.ok as { changes: boolean }).changes),
    [false, true, true, true, true, false],
  );

  // update re-runs the probes; a cluster that disagrees fails it with the table.
  const disagreeing = { ...inputs, revision: "rev-2", transport: { kind: "fake", scenario: demoScenario(NS, { "legacy|httpbin.foo:8000/headers": [{ code: 200 }] }) } };
  const [updated, failed] = await runSerialized(
    text,
    [
      { method: "update", args: ["id", outs, { ...inputs, revision: "rev-2" }] },
      { method: "update", args: ["id", outs, disagreeing] },
    ],
    { [FAKE_TRANSPORT_ENV]: FAKE_MODULE },
  );
  t.is(updated!.error, undefined);
  t.is((updated!.ok as { outs: { revision: string } }).outs.revision, "rev-2");
  t.regex(failed!.error!, /1 of 9 cells differ from the prediction/);
  // The expected cell's wording ("refused", "reset") belongs to the runner; the row is the point.
  t.regex(failed!.error!, /sleep\.legacy\s+httpbin\.foo:8000\/headers\s+000 \w+\s+200 plaintext/);
});

test.serial("the serialized provider probes each cell with the cell's own request", async (t) => {
  // sleep.foo → httpbin.bar is predicted 403 for /ip; its /headers would answer 200 over mTLS.
  const prediction = demoPrediction(NS);
  const cell = prediction.probes[1]!;
  Object.assign(cell, { request: { ...DEFAULT_REQUEST, path: "/ip" }, code: 403, mtls: true });
  const scenario = demoScenario(NS, { "foo|httpbin.bar:8000/ip": [{ code: 403, server: "envoy", body: "RBAC: access denied" }] });
  const probe = new ConnectivityProbe("probe-request", { prediction, revision: "rev-1", transport: { kind: "fake", scenario } });
  const reg = await registered(probe);
  t.like((reg.inputs.predicted as { request: unknown }[])[1], { request: { path: "/ip", method: "GET" } });
  const [created] = await runSerialized(
    reg.inputs.__provider as string,
    [{ method: "create", args: [{ ...baseInputs({ transport: { kind: "fake", scenario } }), predicted: prediction.probes }] }],
    { [FAKE_TRANSPORT_ENV]: FAKE_MODULE },
  );
  t.is(created!.error, undefined);
  t.regex((created!.ok as { outs: { table: string } }).outs.table, /^sleep\.foo to httpbin\.bar \/ip: 403$/m);
});

test.serial("the fake transport is refused unless the environment names its module", async (t) => {
  const probe = new ConnectivityProbe("probe3", { prediction: demoPrediction(NS), revision: "rev-1" });
  const text = await providerText(probe);
  const [res] = await runSerialized(text, [{ method: "create", args: [baseInputs({ transport: { kind: "fake", scenario: demoScenario(NS) } })] }]);
  t.regex(res!.error!, new RegExp(`is for tests only and needs ${FAKE_TRANSPORT_ENV} set`));
});

test.serial("the serialized provider reads kubernetes:kubeconfig as a path, as the Kubernetes provider does", async (t) => {
  // A local "API server" with no sleep pods: reaching it (not "No active cluster!") is the point.
  const server = createServer((req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(req.url?.includes("/pods") ? { kind: "PodList", apiVersion: "v1", metadata: {}, items: [] } : {}));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const dir = mkdtempSync(join(tmpdir(), "probe-kubeconfig-"));
    const file = join(dir, "config");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "${url}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\n`,
    );
    const probe = new ConnectivityProbe("probe-path", { prediction: demoPrediction(NS), revision: "rev-1" });
    const text = await providerText(probe);
    const [byPath, missing, badContext] = await runSerialized(text, [
      { method: "create", args: [baseInputs({ kubeconfig: file })] },
      { method: "create", args: [baseInputs({ kubeconfig: join(dir, "nope") })] },
      { method: "create", args: [baseInputs({ kubeconfig: file, context: "kind-other" })] },
    ]);
    t.regex(byPath!.error!, /no ready pod for client sleep\.foo/);
    t.regex(missing!.error!, /^kubernetes:kubeconfig: ".*nope" is neither an existing file/);
    t.regex(badContext!.error!, /^kubernetes:context: "kind-other" is not a context of the kubernetes:kubeconfig file .*; allowed: ctx$/);
  } finally {
    server.close();
  }
});

test.serial("the serialized provider refuses a Node.js older than the minimum before loading client-node", async (t) => {
  const probe = new ConnectivityProbe("probe-node", { prediction: demoPrediction(NS), revision: "rev-1" });
  const text = await providerText(probe);
  const dir = mkdtempSync(join(tmpdir(), "probe-node-"));
  const preload = join(dir, "old-node.cjs");
  writeFileSync(preload, `Object.defineProperty(process, "version", { value: "v22.18.0" });\n`);
  const [res] = await runSerialized(text, [{ method: "create", args: [baseInputs({ kubeconfig: "apiVersion: v1\nkind: Config\n" })] }], {}, ["--require", preload]);
  t.regex(res!.error!, /^Node\.js "v22\.18\.0" is too old for this project; allowed: Node\.js >= 22\.19\.0/);
  t.notRegex(res!.error!, /reading 'bind'/);
});
