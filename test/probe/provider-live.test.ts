/**
 * The ConnectivityProbe's live mode, run from its serialized text in a fresh node process (as the
 * engine runs it): the cluster read from the fake API server, the probes through the fake exec
 * transport. The stack's objects are those of the dev demo; an app team has applied, beside them,
 * a Service `web` in foo and a PeerAuthentication that makes it PERMISSIVE, which no plan knows.
 */
import test from "ava";
import { join, resolve } from "node:path";
import { predict } from "../../mesh/predict";
import type { Cell } from "../../mesh/prediction";
import type { KubeObject } from "../../mesh/types";
import { readYamlPaths } from "../../mesh/yaml";
import { FAKE_TRANSPORT_ENV } from "../../probe/provider";
import { asLiveCluster, startFakeApiServer, type FakeApiServer } from "../helpers/fake-api-server";
import { probeUnderMocks, type ProbeUnderMocks } from "../helpers/mocks";
import { runSerialized } from "../helpers/serialized-provider";

const FAKE_MODULE = resolve(__dirname, "fake-transport.cjs");
const SCENARIOS = join(__dirname, "..", "fixtures", "scenarios");
const PROBE = "istio-mtls-probe";
const NS = ["foo", "bar", "legacy"];
const SIDECAR = new Set(["foo", "bar"]);

const deployment = (ns: string, name: string, container: string): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: name, containers: [{ name: container, image: "curl" }] } } },
  }) as KubeObject;

/** The stack's objects: the demo, mesh-wide STRICT, the probe clients and their namespace. */
const stack: KubeObject[] = [
  ...readYamlPaths([join(SCENARIOS, "demo.yaml"), join(SCENARIOS, "001-mesh-strict", "policies.yaml")]).map((so) => so.object),
  { apiVersion: "v1", kind: "Namespace", metadata: { name: PROBE, labels: { "istio-injection": "disabled" } } },
  ...[...NS, PROBE].map((ns) => deployment(ns, PROBE, "probe")),
];

/** What an app team applied in foo: a Service and, outside the stack, a PeerAuthentication making it PERMISSIVE. */
const appTeam: KubeObject[] = [
  { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "foo" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } } as KubeObject,
  deployment("foo", "web", "web"),
  { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "web-open", namespace: "foo" }, spec: { selector: { matchLabels: { app: "web" } }, mtls: { mode: "PERMISSIVE" } } } as KubeObject,
];

const probeClients = [...NS, PROBE].map((ns) => `${PROBE}.${ns}`);
const live = { namespaces: NS, istioNamespace: "istio-system", clients: probeClients };
/** Before apply, as the stack predicts: from the stack's own objects, the demo's sleep and the probe clients. */
const planTime = predict(stack, { from: [...NS.map((ns) => `sleep.${ns}`), ...probeClients] }).probes;
/** What the running mesh does: the stack's objects and the app team's. */
const running = predict([...stack, ...appTeam]).probes;

const pod = (c: Cell) => `${c.client.name}-${c.client.namespace}`;

/** A fake cluster answering each cell as `cells` predict it, pod by pod (sleep and the probe client share a namespace). */
function world(cells: Cell[], override: Record<string, unknown[]> = {}) {
  const responses: Record<string, unknown[]> = {};
  for (const c of cells) {
    const key = `${c.client.namespace}/${pod(c)}|${c.target.service}.${c.target.namespace}:${c.target.port}${c.request.path}`;
    if (c.failure === "reset") responses[key] = [c.client.sidecar ? { code: 503, server: "envoy", body: "upstream connect error or disconnect/reset before headers. reset reason: connection termination" } : { code: 0, exit: 56 }];
    else responses[key] = [{ code: c.code, ...(c.mtls ? { uri: c.clientIdentity } : {}) }];
  }
  const pods = [...NS.map((ns) => ({ ns, name: "sleep", container: "sleep" })), ...[...NS, PROBE].map((ns) => ({ ns, name: PROBE, container: "probe" }))].map((p) => ({
    namespace: p.ns,
    name: `${p.name}-${p.ns}`,
    labels: { app: p.name },
    containers: [{ name: p.container, ready: true }, ...(SIDECAR.has(p.ns) ? [{ name: "istio-proxy", ready: true, init: true }] : [])],
  }));
  return { pods, responses: { ...responses, ...override } };
}
const rightWorld = (override: Record<string, unknown[]> = {}) => world([...planTime.filter((c) => c.from.startsWith("sleep.")), ...running.filter((c) => probeClients.includes(c.from))], override);

let ConnectivityProbe: ProbeUnderMocks["ConnectivityProbe"];
let api: FakeApiServer;
let text: string;
test.before(async () => {
  const mocked = await probeUnderMocks();
  ConnectivityProbe = mocked.ConnectivityProbe;
  api = await startFakeApiServer({ objects: asLiveCluster([...stack, ...appTeam]) });
  // The provider text as the component registers it.
  text = await mocked.providerText(new ConnectivityProbe("live", { prediction: { probes: planTime }, revision: "rev-1", live }));
});
test.after.always(() => api?.close());

const inputs = (transport: unknown, extra: Record<string, unknown> = {}) => ({
  predicted: planTime,
  tokens: [],
  revision: "rev-1",
  alwaysRun: false,
  requestTimeoutSeconds: 2,
  deadlineSeconds: 0,
  concurrency: 4,
  exceptions: [],
  live,
  kubeconfig: api.kubeconfig(),
  transport: { kind: "fake", scenario: transport },
  ...extra,
});

function create(scenario: unknown, extra: Record<string, unknown> = {}) {
  return runSerialized(text, [{ method: "create", args: [inputs(scenario, extra)] }], { [FAKE_TRANSPORT_ENV]: FAKE_MODULE }).then(([r]) => r!);
}

type Outs = { cells: Cell[]; table: string; predictedBeforeApply: number; predictedLive: number; execs: number; posture: { namespace: string; service: string; mtls: string; verdict: string }[]; summary: string; notices: string[] };

test.serial("live: the probe clients' cells are predicted from the cluster (the app team's PERMISSIVE web shows as plaintext accepted without exception); the sleep cells keep their plan-time prediction", async (t) => {
  const r = await create(rightWorld());
  t.is(r.error, undefined);
  const outs = (r.ok as { outs: Outs }).outs;
  // 9 sleep cells before apply; live: 4 probe clients × 4 Service ports (httpbin in 3 namespaces, web).
  t.deepEqual([outs.predictedBeforeApply, outs.predictedLive, outs.cells.length, outs.execs], [9, 16, 25, 7]);
  t.is(outs.cells.filter((c) => c.from.startsWith(`${PROBE}.`)).length, 16, "the probe clients' plan-time cells are replaced, not probed twice");
  // In the live prediction: the plaintext client reaches web, which no plan knew.
  t.regex(outs.table, /^istio-mtls-probe\.istio-mtls-probe to web\.foo: 200 \(plaintext\)$/m);
  t.regex(outs.table, /^istio-mtls-probe\.istio-mtls-probe to httpbin\.foo: 000 \(curl exit 56\)$/m);
  t.regex(outs.table, /^sleep\.legacy to httpbin\.foo: 000 \(curl exit 56\)$/m);
  // In the posture: web accepts plaintext and no reviewed exception covers it.
  const web = outs.posture.find((p) => p.service === "web")!;
  t.deepEqual([web.namespace, web.mtls, web.verdict], ["foo", "permissive", "no-exception"]);
  t.regex(outs.summary, /accepts? it WITHOUT a reviewed exception: foo\/web:80/);
  t.true(outs.notices.some((n) => /no ConfigMap istio-system\/istio/.test(n)), outs.notices.join("\n"));
});

test.serial("live: a cell observed otherwise than the live prediction fails the run with the model's reason", async (t) => {
  const r = await create(rightWorld({ [`${PROBE}/${PROBE}-${PROBE}|httpbin.bar:8000/headers`]: [{ code: 200 }] }));
  t.regex(r.error!, /1 of 25 cells differ from the prediction/);
  t.regex(r.error!, /istio-mtls-probe\.istio-mtls-probe\s+httpbin\.bar:8000\/headers\s+000 \w+\s+200 plaintext/);
  t.regex(r.error!, /STRICT/);
});

test.serial("live: the API server refusing the read is an error naming the RBAC rule, not a pass", async (t) => {
  api.world.forbid = ["list peerauthentications foo"];
  try {
    const r = await create(rightWorld());
    t.is(r.ok, undefined);
    t.regex(r.error!, /^forbidden: cannot list peerauthentications\.security\.istio\.io in namespace foo .*needs the RBAC rule \{apiGroups: \["security\.istio\.io"\], resources: \["peerauthentications"\], verbs: \["list"\]\}/);
  } finally {
    delete api.world.forbid;
  }
});

test.serial("live: no Service port in scope is said, not failed (a production namespace before its applications); a probe client the read lacks is an error", async (t) => {
  const saved = api.world.objects;
  api.world.objects = [...saved, ...asLiveCluster([{ apiVersion: "v1", kind: "Namespace", metadata: { name: "empty", labels: { "istio-injection": "enabled" } } }, deployment("empty", PROBE, "probe")])];
  try {
    const empty = await create(rightWorld(), { live: { namespaces: ["empty"], istioNamespace: "istio-system", clients: [`${PROBE}.empty`, `${PROBE}.${PROBE}`] } });
    const outs = (empty.ok as { outs: { predictedLive: number; notices: string[] } }).outs;
    t.is(outs.predictedLive, 0);
    t.true(outs.notices.includes("no Service port to probe in empty: nothing is proven until one runs there"));
    const missing = await create(rightWorld(), { live: { ...live, clients: [...probeClients, `${PROBE}.shop`] } });
    t.regex(missing.error!, /^no such client workload in context local: istio-mtls-probe\.shop \(workloads: /);
  } finally {
    api.world.objects = saved;
  }
});

test.serial("live: check refuses a live input without namespaces or clients, and exceptions given beside it; a changed live input runs the probes again", async (t) => {
  const [check] = await runSerialized(text, [{ method: "check", args: [{}, inputs({}, { live: { namespaces: [], istioNamespace: "", clients: ["nope"] }, exceptions: [{ namespace: "foo" }] })] }]);
  t.deepEqual((check!.ok as { failures: { property: string }[] }).failures.map((f) => f.property).sort(), ["exceptions", "live.clients", "live.istioNamespace", "live.namespaces"]);
  // A changed live input is a changed probe set: the probes run again.
  const created = (await create(rightWorld())).ok as { outs: Record<string, unknown> };
  const diffs = await runSerialized(text, [
    { method: "diff", args: ["id", created.outs, inputs({})] },
    { method: "diff", args: ["id", created.outs, inputs({}, { live: { ...live, namespaces: ["foo", "bar"] } })] },
  ]);
  t.deepEqual(diffs.map((d) => (d.ok as { changes: boolean }).changes), [false, true]);
  t.throws(() => new ConnectivityProbe("bad-live", { prediction: { probes: [] }, revision: "r", live: { ...live, clients: [] } }), { message: /live\.clients is \[\]/ });
});
