import test from "ava";
import { parse } from "yaml";
import { PHASES, planItems, planStack, resourceName, resourceType, type StackSettings } from "../../mesh/plan";
import { predict } from "../../mesh/predict";
import { stackSettings } from "../helpers/settings";

const defaults = stackSettings();
const input = stackSettings({
  istio: { ...defaults.istio, mesh: { rootNamespace: "istio-system", trustDomain: "example.org", enableAutoMtls: true } },
  namespaces: [
    { name: "foo", injection: true },
    { name: "bar", injection: true },
    { name: "legacy", injection: false },
  ],
  demo: { enabled: true },
  mtls: { mesh: { mode: "STRICT" }, namespaces: [], workloads: [] },
  destinationRules: [],
  endUserAuth: [],
  authorization: [],
});

const ids = (objs: { kind: string; metadata: { namespace?: string; name: string } }[]) =>
  objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);

test("every model-relevant object: mesh ConfigMap, namespaces, workloads, policies", (t) => {
  const objs = planStack(input).model;
  t.deepEqual(ids(objs), [
    "ConfigMap/istio-system/istio",
    "Namespace//foo",
    "Namespace//bar",
    "Namespace//legacy",
    "Namespace//istio-mtls-probe",
    ...["foo", "bar", "legacy"].flatMap((ns) => [
      `ServiceAccount/${ns}/httpbin`,
      `Service/${ns}/httpbin`,
      `Deployment/${ns}/httpbin`,
      `ServiceAccount/${ns}/sleep`,
      `Deployment/${ns}/sleep`,
    ]),
    ...["foo", "bar", "legacy", "istio-mtls-probe"].flatMap((ns) => [`ServiceAccount/${ns}/istio-mtls-probe`, `Deployment/${ns}/istio-mtls-probe`]),
    "PeerAuthentication/istio-system/default",
  ]);
  t.deepEqual(parse((objs[0].data as { mesh: string }).mesh), {
    enableAutoMtls: true,
    rootNamespace: "istio-system",
    trustDomain: "example.org",
  });
});

test("the model reads the builders' output: mesh STRICT refuses legacy → foo and shows the trust domain", (t) => {
  const { probes } = predict(planStack(input).model);
  // httpbin, sleep and the probe client in foo, bar and legacy, and the plaintext probe client: to 3 Service ports.
  t.is(probes.length, 10 * 3);
  const cell = (from: string, to: string) => probes.find((p) => p.from === from && p.to === to)!;
  t.is(cell("sleep.legacy", "httpbin.foo:8000").code, 0);
  t.is(cell("sleep.foo", "httpbin.bar:8000").code, 200);
  t.true(cell("sleep.foo", "httpbin.bar:8000").mtls);
  t.is(cell("sleep.foo", "httpbin.bar:8000").clientIdentity, "spiffe://example.org/ns/foo/sa/sleep");
  t.is(cell("sleep.legacy", "httpbin.legacy:8000").code, 200);
});

test("the model sees the probe clients like any workload: each namespace's injection, its own identity", (t) => {
  const { probes } = predict(planStack(input).model, { from: planStack(input).probeClients });
  const cell = (from: string, to: string) => probes.find((p) => p.from === from && p.to === to)!;
  t.is(cell("istio-mtls-probe.foo", "httpbin.bar:8000").code, 200);
  t.true(cell("istio-mtls-probe.foo", "httpbin.bar:8000").mtls);
  t.is(cell("istio-mtls-probe.foo", "httpbin.bar:8000").clientIdentity, "spiffe://example.org/ns/foo/sa/istio-mtls-probe");
  t.false(cell("istio-mtls-probe.legacy", "httpbin.foo:8000").client.sidecar);
  // The plaintext client: no sidecar, refused by mesh STRICT, let in by the sidecar-less httpbin.legacy.
  const plaintext = cell("istio-mtls-probe.istio-mtls-probe", "httpbin.foo:8000");
  t.false(plaintext.client.sidecar);
  t.deepEqual([plaintext.code, plaintext.failure], [0, "reset"]);
  t.is(cell("istio-mtls-probe.istio-mtls-probe", "httpbin.legacy:8000").code, 200);
  t.deepEqual(plaintext.client.labels, { app: "istio-mtls-probe" });
});

test("without demo workloads only namespaces and policies remain; revision labels namespaces", (t) => {
  const objs = planStack({ ...input, istio: { ...input.istio, revision: "canary" }, demo: { enabled: false }, probe: { ...input.probe, enabled: false } }).model;
  t.deepEqual(ids(objs), ["ConfigMap/istio-system/istio", "Namespace//foo", "Namespace//bar", "Namespace//legacy", "PeerAuthentication/istio-system/default"]);
  t.deepEqual(objs[1].metadata.labels, { "istio.io/rev": "canary" });
});

test("without the demo, the probe clients are the workloads: one per namespace, the plaintext one in its own namespace", (t) => {
  const plan = planStack({ ...input, istio: { ...input.istio, revision: "canary" }, demo: { enabled: false } });
  t.deepEqual(ids(plan.model), [
    "ConfigMap/istio-system/istio",
    "Namespace//foo",
    "Namespace//bar",
    "Namespace//legacy",
    "Namespace//istio-mtls-probe",
    ...["foo", "bar", "legacy", "istio-mtls-probe"].flatMap((ns) => [`ServiceAccount/${ns}/istio-mtls-probe`, `Deployment/${ns}/istio-mtls-probe`]),
    "PeerAuthentication/istio-system/default",
  ]);
  // The plaintext client's namespace is disabled whatever revision injects the others.
  t.deepEqual(plan.model[4].metadata.labels, { "istio-injection": "disabled" });
  const items = new Map(planItems(plan).map((i) => [i.id, i]));
  t.is(phaseOf(plan, "Namespace istio-mtls-probe"), "namespaces");
  t.is(phaseOf(plan, "Deployment shop/istio-mtls-probe"), undefined);
  t.is(phaseOf(plan, "Deployment foo/istio-mtls-probe"), "workloads");
  // After its account, its namespace and istiod's injector; on destroy gone before them.
  t.deepEqual(items.get("Deployment istio-mtls-probe/istio-mtls-probe")!.after, [
    "ServiceAccount istio-mtls-probe/istio-mtls-probe",
    "Namespace istio-mtls-probe",
    "Release istio-system/istiod-canary",
  ]);
});

test("deterministic: two builds serialize identically", (t) => {
  t.is(JSON.stringify(planStack(input)), JSON.stringify(planStack(structuredClone(input))));
});

test("a namespace listed twice is refused", (t) => {
  // The config names the key (config/rules.ts); the plan itself never plans one object twice.
  const e = t.throws(() => planStack({ ...input, namespaces: [...input.namespaces, { name: "foo", injection: false }] }));
  t.regex(e!.message, /Namespace foo is planned twice/);
});

test("invalid policies are refused before anything is returned", (t) => {
  t.throws(() => planStack({ ...input, mtls: { namespaces: [{ namespace: "istio-system", mode: "STRICT" }], workloads: [] } }), {
    message: /mesh root namespace/,
  });
});

function phaseOf(plan: ReturnType<typeof planStack>, id: string): string | undefined {
  return plan.phases.find((p) => p.items.some((i) => i.id === id))?.name;
}

// ---- phases ------------------------------------------------------------------------------------

const dev = (overrides: Partial<StackSettings> = {}) =>
  planStack({ ...input, ingress: { ...input.ingress, enabled: true, tls: true, host: "httpbin.example.com" }, istio: { ...input.istio, ingressGateway: true }, ...overrides });

test("every phase, in order, each item waiting only for items planned before it (so phases apply in order)", (t) => {
  const plan = dev();
  t.deepEqual(plan.phases.map((p) => p.name), [...PHASES]);
  const before = new Set<string>();
  for (const item of planItems(plan)) {
    for (const id of item.after) t.true(before.has(id), `${item.id} waits for ${id}, planned later`);
    before.add(item.id);
  }
});

test("each object waits for its namespace and for the webhook that admits it; istiod for cacerts", (t) => {
  const items = new Map(planItems(dev()).map((i) => [i.id, i.after]));
  t.deepEqual(items.get("Release istio-system/istiod"), ["Release istio-system/istio-base", "Certificate istio-system/cacerts", "Namespace istio-system"]);
  t.deepEqual(items.get("Deployment foo/sleep"), ["ServiceAccount foo/sleep", "Namespace foo", "Release istio-system/istiod"]);
  t.deepEqual(items.get("PeerAuthentication istio-system/default"), ["Namespace istio-system", "Release istio-system/istiod"]);
  t.deepEqual(items.get("ClusterIssuer istio-mtls-selfsigned"), ["Release cert-manager/cert-manager"]);
  t.deepEqual(items.get("Certificate istio-system/httpbin-ingress"), ["ClusterIssuer istio-mtls-root-ca", "Namespace istio-system", "Release cert-manager/cert-manager"]);
  t.deepEqual(items.get("Gateway foo/httpbin-gateway"), [
    "Release istio-system/istio-ingressgateway",
    "Certificate istio-system/httpbin-ingress",
    "Deployment foo/httpbin",
    "Namespace foo",
    "Release istio-system/istiod",
  ]);
  // A Namespace waits for nothing: without it nothing else in it can be created.
  t.deepEqual(items.get("Namespace foo"), []);
});

test("with Istio and cert-manager installed elsewhere, nothing waits for them and nothing of theirs is planned", (t) => {
  const plan = planStack({ ...input, istio: { ...input.istio, install: false }, certManager: { ...input.certManager, install: false } });
  const items = planItems(plan);
  t.false(items.some((i) => "release" in i));
  t.false(items.some((i) => i.after.some((id) => id.startsWith("Release "))));
  t.deepEqual(plan.phases.find((p) => p.name === "istio")!.items, []);
  t.deepEqual(plan.intermediateCertificate, { namespace: "istio-system", name: "cacerts" });
});

test("the istiod CA plans no chain, no root to expect and no wait for cacerts", (t) => {
  const plan = planStack({ ...input, ca: { ...input.ca, type: "istiod" } });
  t.is(plan.intermediateCertificate, undefined);
  t.is(plan.rootSecretName, undefined);
  t.false(planItems(plan).some((i) => "object" in i && i.object.apiVersion.startsWith("cert-manager.io/")));
});

test("Pulumi types and names: core kinds under core/v1, Istio kinds as custom resources, releases by name", (t) => {
  const byId = new Map(planItems(dev()).map((i) => [i.id, `${resourceType(i)} ${resourceName(i)}`]));
  t.is(byId.get("Namespace foo"), "kubernetes:core/v1:Namespace foo");
  t.is(byId.get("Deployment foo/sleep"), "kubernetes:apps/v1:Deployment foo/sleep");
  t.is(byId.get("PeerAuthentication istio-system/default"), "kubernetes:security.istio.io/v1:PeerAuthentication istio-system/default");
  t.is(byId.get("Release istio-system/istiod"), "kubernetes:helm.sh/v3:Release istiod");
  t.is(byId.get("Release cert-manager/cert-manager"), "kubernetes-cert-manager:index:CertManager cert-manager");
});

test("the probe's clients: the demo's sleep workloads, then the probe clients, the plaintext one last; none with the probe off", (t) => {
  const probeClients = ["istio-mtls-probe.foo", "istio-mtls-probe.bar", "istio-mtls-probe.legacy", "istio-mtls-probe.istio-mtls-probe"];
  t.deepEqual(planStack(input).probeClients, ["sleep.foo", "sleep.bar", "sleep.legacy", ...probeClients]);
  t.deepEqual(planStack({ ...input, demo: { enabled: false } }).probeClients, probeClients);
  const off = planStack({ ...input, demo: { enabled: false }, probe: { ...input.probe, enabled: false } });
  t.deepEqual(off.probeClients, []);
  t.false(planItems(off).some((i) => i.id.includes("istio-mtls-probe")));
});
