/**
 * `verify --kube`: the cluster read from a local fake API server, the probes through the fake
 * exec transport (test/probe/fake-transport.cjs). A world that agrees with the model exits 0; a
 * world where one cell is wrong exits 1 and names it; a world that cannot be probed exits 2.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { registerVerifyCommand } from "../../../cli/commands/verify";
import { UsageError } from "../../../cli/command";
import { predict } from "../../../mesh/predict";
import type { Cell } from "../../../mesh/prediction";
import type { KubeObject } from "../../../mesh/types";
import { readYamlPaths } from "../../../mesh/yaml";
import type { ExecTransport } from "../../../probe/transport";
import { asLiveCluster, startFakeApiServer, type FakeApiServer } from "../../helpers/fake-api-server";
import { runCommand } from "../../helpers/command";
import { selfSignedRoot } from "../../probe/false-pass-certs";

const { fakeTransport } = require("../../probe/fake-transport.cjs") as { fakeTransport: (scenario: unknown) => ExecTransport & { stats: { execs: number; commands: { container: string }[] } } };

const SCENARIOS = join(__dirname, "..", "..", "fixtures", "scenarios");
const PROBE = "istio-mtls-probe";

const probeClient = (ns: string): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: PROBE, namespace: ns },
    spec: { replicas: 1, selector: { matchLabels: { app: PROBE } }, template: { metadata: { labels: { app: PROBE } }, spec: { serviceAccountName: PROBE, containers: [{ name: "probe", image: "curl" }] } } },
  }) as KubeObject;

/** A TCP database in foo (port name tcp-postgres) with a UDP port beside it. */
const db: KubeObject[] = [
  { apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "foo" }, spec: { selector: { app: "db" }, ports: [{ name: "tcp-postgres", port: 5432 }, { name: "udp-stats", port: 8125, protocol: "UDP" }] } } as KubeObject,
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "db", namespace: "foo" },
    spec: { selector: { matchLabels: { app: "db" } }, template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "postgres", image: "postgres" }] } } },
  } as KubeObject,
];

const declared: KubeObject[] = [
  ...readYamlPaths([join(SCENARIOS, "demo.yaml"), join(SCENARIOS, "001-mesh-strict", "policies.yaml")]).map((so) => so.object),
  { apiVersion: "v1", kind: "Namespace", metadata: { name: PROBE, labels: { "istio-injection": "disabled" } } },
  ...["foo", "bar", "legacy", PROBE].map(probeClient),
  ...db,
];

/** The pods of the probe clients, as the fake exec transport lists them (the sidecar a native one). */
function pods(without: string[] = []) {
  return ["foo", "bar", "legacy", PROBE]
    .filter((ns) => !without.includes(ns))
    .map((ns) => ({
      namespace: ns,
      name: `${PROBE}-7d9f-${ns}`,
      labels: { app: PROBE },
      containers: [{ name: "probe", ready: true }, ...(ns === "foo" || ns === "bar" ? [{ name: "istio-proxy", ready: true, init: true }] : [])],
    }));
}

/** What a mesh that behaves as predicted answers each cell; the TCP port answers in its own protocol (curl exit 1). */
function responsesFor(cells: Cell[]) {
  const out: Record<string, unknown[]> = {};
  for (const c of cells) {
    const key = `${c.client.namespace}|${c.target.service}.${c.target.namespace}:${c.target.port}${c.request.path}`;
    const tcp = c.target.service === "db";
    if (c.failure === "reset") out[key] = [c.client.sidecar ? { code: 503, server: "envoy", body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination" } : { code: 0, exit: 56 }];
    else if (tcp) out[key] = [{ code: 0, exit: 1 }];
    else out[key] = [{ code: c.code, ...(c.mtls ? { uri: c.clientIdentity } : {}) }];
  }
  return out;
}

const predicted = predict(declared).probes.filter((c) => c.from.startsWith(`${PROBE}.`));
const rightWorld = () => ({ pods: pods(), responses: responsesFor(predicted) });

let api: FakeApiServer;
let kubeconfig: string;

test.before(async () => {
  api = await startFakeApiServer({ objects: asLiveCluster(declared) });
  const dir = mkdtempSync(join(tmpdir(), "verify-kube-"));
  kubeconfig = join(dir, "config");
  writeFileSync(kubeconfig, api.kubeconfig());
});
test.after.always(() => api?.close());


function verify(world: unknown, args: string[]) {
  const fake = fakeTransport(world);
  const run = runCommand((p, io, set) => registerVerifyCommand(p, io, set, { transport: () => fake }), ["verify", "--kube", "--kubeconfig", kubeconfig, "-n", "foo,bar,legacy", "--deadline", "0", ...args]);
  return run.then((r) => ({ ...r, fake }));
}

test.serial("the world agrees: exit 0, one exec per probe client in its `probe` container, every Service port in scope", async (t) => {
  const r = await verify(rightWorld(), []);
  t.is(r.code, 0, r.stderr);
  t.is(r.fake.stats.execs, 4);
  t.deepEqual([...new Set(r.fake.stats.commands.map((c) => c.container))], ["probe"]);
  // The plaintext client proves STRICT: refused at httpbin.foo, by evidence.
  t.regex(r.stdout, /^istio-mtls-probe\.istio-mtls-probe +httpbin\.foo:8000\/headers +http +000 reset +000 \(curl exit 56: connection reset\) +ok$/m);
  t.regex(r.stdout, /^istio-mtls-probe\.foo +httpbin\.bar:8000\/headers +http +application answers \(mTLS\) +200 mTLS spiffe:\/\/cluster\.local\/ns\/foo\/sa\/istio-mtls-probe +ok$/m);
  // The TCP port: the connection-level outcome only, and said so.
  t.regex(r.stdout, /^istio-mtls-probe\.foo +db\.foo:5432\/headers +connection +accepted +000 \(curl exit 1: the reply is not HTTP\) +ok$/m);
  t.regex(r.stdout, /^istio-mtls-probe\.legacy +db\.foo:5432\/headers +connection +refused\/reset +000 \(curl exit 56: connection reset\) +ok$/m);
  t.regex(r.stdout, /^16 cells from 4 clients \(context local, 4 execs, attempt 1, [\d.]+ s\): 16 match, 0 differ; 4 checked at the connection level only/m);
  t.regex(r.stderr, /not probed \(UDP or SCTP; the probe sends HTTP over TCP\): db\.foo:8125/);
  t.false(r.stdout.includes("8125"));
});

test.serial("the world is wrong (a STRICT port takes plaintext): exit 1, the cell named with the model's reason, in every format", async (t) => {
  const world = rightWorld();
  world.responses[`${PROBE}|httpbin.foo:8000/headers`] = [{ code: 200 }];
  const table = await verify(world, []);
  t.is(table.code, 1, table.stderr);
  t.regex(table.stdout, /^istio-mtls-probe\.istio-mtls-probe +httpbin\.foo:8000\/headers +http +000 reset +200 plaintext +DIFFERS$/m);
  t.regex(table.stdout, /15 match, 1 differ/);
  t.regex(table.stdout, /^ {2}istio-mtls-probe\.istio-mtls-probe to httpbin\.foo:8000\/headers: status 200, expected 000; the model's reason: plaintext client \(no sidecar\) → STRICT at port 8080 \(PeerAuthentication istio-system\/default\)$/m);
  const json = await verify(world, ["-f", "json"]);
  t.is(json.code, 1);
  const doc = JSON.parse(json.stdout) as { cells: { from: string; to: string; match: boolean; check: string; problem?: string }[]; summary: { differ: number } };
  t.is(doc.summary.differ, 1);
  t.deepEqual(doc.cells.filter((c) => !c.match).map((c) => [c.from, c.to, c.check, c.problem]), [[`${PROBE}.${PROBE}`, "httpbin.foo:8000", "http", "status 200, expected 000"]]);
  const md = await verify(world, ["-f", "markdown"]);
  t.is(md.code, 1);
  t.regex(md.stdout, /^\| `istio-mtls-probe\.istio-mtls-probe` \| `httpbin\.foo:8000\/headers` \| http \| 000 reset \| 200 plaintext \| DIFFERS \|$/m);
});

test.serial("the world is wrong at the connection level (the TCP port refuses a client the model lets in): exit 1", async (t) => {
  const world = rightWorld();
  world.responses["foo|db.foo:5432/headers"] = [{ code: 503, server: "envoy", body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination" }];
  const r = await verify(world, []);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stdout, /istio-mtls-probe\.foo to db\.foo:5432\/headers: 503 .*expected the connection accepted \(connection-level check: the port does not speak HTTP\)/);
});

test.serial("a world that cannot be probed exits 2: a probe client without a pod, a failed trust check, an unreadable cluster", async (t) => {
  const noPod = await verify({ ...rightWorld(), pods: pods(["bar"]) }, []);
  t.is(noPod.code, 2);
  t.regex(noPod.stderr, /^error: connectivity probe failed after 1 attempt\(s\).*no ready pod for client istio-mtls-probe\.bar \(labels \{"app":"istio-mtls-probe"\}\): no pods$/m);
  t.is(noPod.stdout, "");

  const root = selfSignedRoot("stack root");
  const other = selfSignedRoot("another root");
  const dir = mkdtempSync(join(tmpdir(), "verify-root-"));
  writeFileSync(join(dir, "root.pem"), root);
  const configMaps = (pem: string) => Object.fromEntries(["foo", "bar", "legacy", PROBE].map((ns) => [`${ns}/istio-ca-root-cert`, { "root-cert.pem": pem }]));
  const trusted = await verify({ ...rightWorld(), configMaps: configMaps(root) }, ["--expected-root", join(dir, "root.pem")]);
  t.is(trusted.code, 0, trusted.stderr);
  const untrusted = await verify({ ...rightWorld(), configMaps: configMaps(other) }, ["--expected-root", join(dir, "root.pem")]);
  t.is(untrusted.code, 2);
  t.regex(untrusted.stderr, /trust check: bar\/istio-ca-root-cert root-cert\.pem is not the stack's CA root/);
  const noRequests = await verify(rightWorld(), ["--root-from-certificate", "istio-system/cacerts"]);
  t.is(noRequests.code, 2);
  t.regex(noRequests.stderr, /^error: trust check: no CertificateRequest of Certificate istio-system\/cacerts/m);

  api.world.forbid = ["list pods legacy"];
  try {
    const denied = await verify(rightWorld(), []);
    t.is(denied.code, 2);
    t.regex(denied.stderr, /^error: forbidden: cannot list pods in namespace legacy .*verbs: \["list"\]/m);
  } finally {
    delete api.world.forbid;
  }
});

test.serial("clients: the probe clients by default (notices for namespaces without one), --from names others", async (t) => {
  const saved = api.world.objects;
  api.world.objects = saved.filter((o) => !(o.metadata.namespace === "legacy" && o.metadata.name.startsWith(PROBE)));
  try {
    const r = await verify({ ...rightWorld(), pods: pods(["legacy"]) }, ["-f", "json"]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /no running probe client \(Deployment istio-mtls-probe\) in namespace legacy: no request is sent from it/);
    t.deepEqual((JSON.parse(r.stdout) as { clients: string[] }).clients, [`${PROBE}.bar`, `${PROBE}.foo`, `${PROBE}.${PROBE}`]);
  } finally {
    api.world.objects = saved;
  }
  const world = { pods: [{ namespace: "legacy", name: "sleep-1", labels: { app: "sleep" }, containers: [{ name: "sleep", ready: true }] }], responses: responsesFor(predict(declared).probes.filter((c) => c.from === "sleep.legacy")) };
  const from = await verify(world, ["--from", "sleep.legacy", "-f", "json"]);
  t.is(from.code, 0, from.stderr);
  t.deepEqual((JSON.parse(from.stdout) as { clients: string[] }).clients, ["sleep.legacy"]);
  t.deepEqual(from.fake.stats.commands.map((c) => c.container), ["sleep"]);
});

test("usage: verify needs --kube; numbers and the certificate are checked", async (t) => {
  const run = (args: string[]) => runCommand((p, io, set) => registerVerifyCommand(p, io, set, { transport: () => fakeTransport({}) }), ["verify", ...args]);
  await t.throwsAsync(run([]), { instanceOf: UsageError, message: /verify probes a live cluster: pass --kube/ });
  await t.throwsAsync(run(["--kube", "--root-from-certificate", "cacerts"]), { instanceOf: UsageError, message: /allowed: <namespace>\/<name>/ });
  await t.throwsAsync(run(["--kube", "--concurrency", "0"]), { message: /allowed: a whole number 1\.\.100/ });
});
