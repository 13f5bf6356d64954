import test from "ava";
import { DEV_PROBE_CLIENTS, runStackProgram, type StackRun } from "../helpers/program";

let run: StackRun;
test.before(async () => {
  run = await runStackProgram("dev");
});

const CR = (apiVersion: string, kind: string) => `kubernetes:${apiVersion}:${kind}`;

test("dev: cert-manager installed through the chart with CRDs, pinned", (t) => {
  const cm = run.recorder.get("kubernetes-cert-manager:index:CertManager", "cert-manager");
  t.false(cm.custom);
  t.deepEqual(cm.inputs.helmOptions.values, { crds: { enabled: true } });
  t.regex(cm.inputs.helmOptions.version, /^v\d+\.\d+\.\d+$/);
});

test("dev: the CA chain ends in cacerts in istio-system", (t) => {
  const r = run.recorder;
  t.truthy(r.get(CR("cert-manager.io/v1", "ClusterIssuer"), "istio-mtls-selfsigned"));
  t.truthy(r.get(CR("cert-manager.io/v1", "Certificate"), "cert-manager/istio-mtls-root-ca"));
  t.truthy(r.get(CR("cert-manager.io/v1", "ClusterIssuer"), "istio-mtls-root-ca"));
  const cacerts = r.get(CR("cert-manager.io/v1", "Certificate"), "istio-system/cacerts");
  t.is(cacerts.inputs.spec.secretName, "cacerts");
  t.is(cacerts.inputs.spec.privateKey.size, 256);
  t.is(cacerts.inputs.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
});

test("dev: Istio base and istiod releases, istiod after cacerts", (t) => {
  const r = run.recorder;
  const base = r.get("kubernetes:helm.sh/v3:Release", "istio-base");
  const istiod = r.get("kubernetes:helm.sh/v3:Release", "istiod");
  t.is(base.inputs.chart, "base");
  t.is(istiod.inputs.version, "1.28.1");
  t.deepEqual(istiod.inputs.values.meshConfig, { enableAutoMtls: true, rootNamespace: "istio-system", trustDomain: "cluster.local" });
  const cacerts = r.get(CR("cert-manager.io/v1", "Certificate"), "istio-system/cacerts");
  t.true(istiod.dependencies.includes(cacerts.urn));
  t.true(istiod.dependencies.includes(base.urn));
  t.is(r.ofType("kubernetes:helm.sh/v3:Release").length, 2, "no gateway: ingress is off in dev");
});

test("dev: istio-system, three demo namespaces with their injection labels, and the plaintext probe client's", (t) => {
  const ns = Object.fromEntries(run.recorder.ofType("kubernetes:core/v1:Namespace").map((n) => [n.name, n.inputs.metadata.labels ?? {}]));
  t.deepEqual(ns, {
    "cert-manager": {},
    "istio-system": {},
    foo: { "istio-injection": "enabled" },
    bar: { "istio-injection": "enabled" },
    legacy: { "istio-injection": "disabled" },
    "istio-mtls-probe": { "istio-injection": "disabled" },
  });
});

test("dev: six demo workloads and four probe clients with their Services and ServiceAccounts, after istiod", (t) => {
  const r = run.recorder;
  const deployments = r.ofType("kubernetes:apps/v1:Deployment");
  t.deepEqual(deployments.map((d) => d.name).sort(), [
    "bar/httpbin",
    "bar/istio-mtls-probe",
    "bar/sleep",
    "foo/httpbin",
    "foo/istio-mtls-probe",
    "foo/sleep",
    "istio-mtls-probe/istio-mtls-probe",
    "legacy/httpbin",
    "legacy/istio-mtls-probe",
    "legacy/sleep",
  ]);
  t.deepEqual(r.ofType("kubernetes:core/v1:Service").map((s) => s.name).sort(), ["bar/httpbin", "foo/httpbin", "legacy/httpbin"]);
  t.is(r.ofType("kubernetes:core/v1:ServiceAccount").length, 10);
  const istiod = r.get("kubernetes:helm.sh/v3:Release", "istiod");
  for (const d of deployments) t.true(d.dependencies.includes(istiod.urn), `${d.name} waits for istiod's injector`);
});

test("dev: its policies, each after istiod", (t) => {
  const r = run.recorder;
  const pas = r.ofType(CR("security.istio.io/v1", "PeerAuthentication"));
  t.deepEqual(pas.map((p) => p.name).sort(), ["bar/httpbin", "foo/default"]);
  t.deepEqual(r.get(CR("security.istio.io/v1", "PeerAuthentication"), "bar/httpbin").inputs.spec, {
    selector: { matchLabels: { app: "httpbin" } },
    mtls: { mode: "STRICT" },
    portLevelMtls: { "8080": { mode: "PERMISSIVE" } },
  });
  const dr = r.get(CR("networking.istio.io/v1", "DestinationRule"), "legacy/httpbin-legacy");
  t.deepEqual(dr.inputs.spec, { host: "httpbin.legacy.svc.cluster.local", trafficPolicy: { tls: { mode: "DISABLE" } } });
  const istiod = r.get("kubernetes:helm.sh/v3:Release", "istiod");
  for (const p of [...pas, dr]) t.true(p.dependencies.includes(istiod.urn), `${p.name} after istiod`);
  t.is(r.ofType(CR("security.istio.io/v1", "AuthorizationPolicy")).length, 0);
});

test("dev: outputs: predicted matrix, namespaces, root secret, Istio version", (t) => {
  const o = run.outputs as Record<string, any>;
  t.deepEqual(o.namespaces, ["foo", "bar", "legacy"]);
  t.is(o.caRootSecretName, "istio-mtls-root-ca");
  t.is(o.istioVersion, "1.28.1");
  // sleep.X and istio-mtls-probe.X (the plaintext one too) → httpbin.Y.
  t.is(o.predictedMatrix.length, 7 * 3, "the probe's clients: the demo's sleep workloads and the probe clients");
  t.deepEqual([...new Set<string>(o.predictedMatrix.map((c: any) => c.from))].sort(), DEV_PROBE_CLIENTS);
  const cell = (from: string, to: string) => o.predictedMatrix.find((c: any) => c.from === from && c.to === to);
  t.is(cell("sleep.legacy", "httpbin.foo:8000").code, 0);
  t.is(cell("sleep.legacy", "httpbin.bar:8000").code, 200);
  t.true(cell("sleep.bar", "httpbin.foo:8000").mtls);
  t.is(cell("istio-mtls-probe.istio-mtls-probe", "httpbin.foo:8000").code, 0);
  t.is(cell("istio-mtls-probe.istio-mtls-probe", "httpbin.bar:8000").code, 200);
  t.true(cell("istio-mtls-probe.bar", "httpbin.foo:8000").mtls);
});

test("dev: no resource is registered twice and none is auto-named", (t) => {
  const keys = run.recorder.registrations.map((r) => `${r.type}::${r.name}`);
  t.is(new Set(keys).size, keys.length);
  for (const r of run.recorder.registrations.filter((x) => x.type.startsWith("kubernetes:") && x.custom)) {
    const name = r.inputs.metadata?.name ?? r.inputs.name;
    t.truthy(name, `${r.type} ${r.name} has an explicit name`);
  }
});
