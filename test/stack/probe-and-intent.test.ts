import test from "ava";
import { parse } from "yaml";
import { DEV_PROBE_CLIENTS, runStackProgram, type StackRun } from "../helpers/program";

let run: StackRun;
test.before(async () => {
  run = await runStackProgram("dev");
});

const PROBE = "pulumi-nodejs:dynamic/probe:ConnectivityProbe";

test("dev: the connectivity probe tests the 21 predicted cells, from the three sleep workloads and the four probe clients, each with its request", (t) => {
  const probe = run.recorder.get(PROBE, "connectivity");
  t.is(typeof probe.inputs.__provider, "string", "the provider is serialized into the inputs");
  const predicted = probe.inputs.predicted as { client: { namespace: string; name: string }; request: unknown }[];
  t.deepEqual([...new Set(predicted.map((c) => `${c.client.name}.${c.client.namespace}`))].sort(), DEV_PROBE_CLIENTS);
  t.is(predicted.length, 21);
  for (const c of predicted) t.deepEqual(c.request, { path: "/headers", method: "GET", token: { kind: "none" } });
  t.is(probe.inputs.alwaysRun, false);
  t.regex(probe.inputs.revision, /^[0-9a-f]{16,}$/);
  t.deepEqual(probe.inputs.expectedRootFromCertificate, { namespace: "istio-system", name: "cacerts" });
  // Live mode: the probe clients' cells are predicted again at probe time from a read of the
  // managed namespaces, and the exceptions (dev's PERMISSIVE on httpbin.bar) are read there.
  t.deepEqual(probe.inputs.live, {
    namespaces: ["foo", "bar", "legacy"],
    istioNamespace: "istio-system",
    clients: ["istio-mtls-probe.foo", "istio-mtls-probe.bar", "istio-mtls-probe.legacy", "istio-mtls-probe.istio-mtls-probe"],
  });
  t.deepEqual(probe.inputs.exceptions, []);
});

test("dev: the probe runs after the demo workloads, the probe clients and every policy it tests", (t) => {
  const r = run.recorder;
  const probe = r.get(PROBE, "connectivity");
  const must = [
    ...r.ofType("kubernetes:apps/v1:Deployment"),
    ...r.ofType("kubernetes:security.istio.io/v1:PeerAuthentication"),
    ...r.ofType("kubernetes:networking.istio.io/v1:DestinationRule"),
  ];
  t.true(must.length >= 8);
  for (const m of must) t.true(probe.dependencies.includes(m.urn), `probe waits for ${m.type} ${m.name}`);
});

test("dev: the declared intent is deployed as ConfigMap istio-system/istio-mtls-intent for the policy pack", (t) => {
  const cm = run.recorder.get("kubernetes:core/v1:ConfigMap", "istio-system/istio-mtls-intent");
  t.is(cm.inputs.data.production, "false");
  t.is(cm.inputs.data.revision, "default", "the revision the pack's model takes as installed");
  const intent = parse(cm.inputs.data.intent) as { from: string; to: string; expect: string }[];
  t.is(intent.length, 7);
  t.deepEqual(intent.find((i) => i.from === "sleep.legacy" && i.to === "httpbin.foo:8000"), { from: "sleep.legacy", to: "httpbin.foo:8000", expect: "refused" });
});

test("probes off: no probe resource and no probe client", async (t) => {
  const off = await runStackProgram("dev", { overrides: { "istio-mtls:probe": { enabled: false } } });
  t.is(off.recorder.ofType(PROBE).length, 0);
  t.false(off.recorder.registrations.some((r) => r.name.includes("istio-mtls-probe")));
});
