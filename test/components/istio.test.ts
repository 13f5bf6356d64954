import test from "ava";
import { installRecordingMocks, type Recorder } from "../helpers/mocks";
import type { IstioArgs } from "../../components/istio";

let rec: Recorder;
let Istio: typeof import("../../components/istio").Istio;
let k8s: typeof import("@pulumi/kubernetes");
test.before(async () => {
  rec = await installRecordingMocks();
  ({ Istio } = await import("../../components/istio"));
  k8s = await import("@pulumi/kubernetes");
});

const mesh = { rootNamespace: "istio-system", trustDomain: "example.org", enableAutoMtls: false };
const args = (change: Partial<IstioArgs> = {}): IstioArgs => ({
  install: true,
  version: "1.28.1",
  chartRepository: "https://istio-release.storage.googleapis.com/charts",
  namespace: "istio-system",
  mesh,
  ingressGateway: false,
  ...change,
});
const releases = (component: string) =>
  rec.ofType("kubernetes:helm.sh/v3:Release").filter((r) => r.parent.endsWith(`istio-mtls:istio:Istio::${component}`));

test.serial("base then istiod, pinned, meshConfig from the stack, istiod after the CA", async (t) => {
  const cacerts = new k8s.apiextensions.CustomResource("cacerts-a", { apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "cacerts" } });
  const istio = new Istio("a", args({ caReady: [cacerts] }));
  await rec.settle();
  const [base, istiod] = releases("a");
  const repositoryOpts = { repo: "https://istio-release.storage.googleapis.com/charts" };
  // `compat` is added by the SDK itself.
  t.deepEqual(base.inputs, { compat: "true", name: "istio-base", chart: "base", version: "1.28.1", namespace: "istio-system", repositoryOpts, values: {} });
  t.deepEqual(istiod.inputs, {
    compat: "true",
    name: "istiod",
    chart: "istiod",
    version: "1.28.1",
    namespace: "istio-system",
    repositoryOpts,
    values: {
      global: { istioNamespace: "istio-system" },
      meshConfig: { enableAutoMtls: false, rootNamespace: "istio-system", trustDomain: "example.org" },
    },
  });
  const cacertsUrn = rec.get("kubernetes:cert-manager.io/v1:Certificate", "cacerts-a").urn;
  t.deepEqual(istiod.dependencies, [base.urn, cacertsUrn].sort());
  t.deepEqual(istio.ready, [istio.istiod!]);
});

test.serial("revision and ingress gateway: revisioned istiod, gateway release after istiod", async (t) => {
  new Istio("b", args({ revision: "canary", ingressGateway: true, namespace: "istio-b" }));
  await rec.settle();
  const [base, istiod, gateway] = releases("b");
  t.deepEqual(base.inputs.values, { defaultRevision: "canary" });
  t.is(istiod.inputs.name, "istiod-canary");
  t.is(istiod.inputs.values.revision, "canary");
  t.is(gateway.inputs.name, "istio-ingressgateway");
  t.is(gateway.inputs.chart, "gateway");
  // The chart's service.type, explicit: LoadBalancer unless ingress.serviceType says otherwise.
  t.deepEqual(gateway.inputs.values, { revision: "canary", service: { type: "LoadBalancer" } });
  t.deepEqual(gateway.dependencies, [istiod.urn]);
});

test.serial("ingress.serviceType NodePort reaches the gateway chart's service.type (kind has no load balancer)", async (t) => {
  new Istio("h", args({ ingressGateway: true, namespace: "istio-h", gatewayServiceType: "NodePort" }));
  await rec.settle();
  const gateway = releases("h").find((r) => r.inputs.chart === "gateway")!;
  t.deepEqual(gateway.inputs.values, { service: { type: "NodePort" } });
});

test.serial("install false: no release, still the namespace and version for dependents", async (t) => {
  const istio = new Istio("c", args({ install: false, namespace: "istio-managed" }));
  await rec.settle();
  t.deepEqual(releases("c"), []);
  t.is(istio.namespace, "istio-managed");
  t.is(istio.version, "1.28.1");
  t.deepEqual(istio.ready, []);
  t.truthy(rec.get("istio-mtls:istio:Istio", "c"));
});

test.serial("dependsOn given to the component reaches each release", async (t) => {
  const ns = new k8s.core.v1.Namespace("ns-d", { metadata: { name: "istio-d" } });
  new Istio("d", args({ namespace: "istio-d" }), { dependsOn: [ns] });
  await rec.settle();
  for (const r of releases("d")) t.true(r.dependencies.includes(rec.get("kubernetes:core/v1:Namespace", "ns-d").urn), r.name);
});

test.serial("invalid settings throw before anything is registered", async (t) => {
  await rec.settle();
  const before = rec.registrations.length;
  t.throws(() => new Istio("e", args({ version: "latest" })), { message: /istio-mtls:istio\.version: "latest"; allowed: a pinned chart version/ });
  t.throws(() => new Istio("f", args({ revision: "Canary_1" })), { message: /istio-mtls:istio\.revision: "Canary_1"/ });
  t.throws(() => new Istio("g", args({ chartRepository: "ftp://x" })), { message: /chartRepository: "ftp:\/\/x"/ });
  t.throws(() => new Istio("i", args({ ingressGateway: true, gatewayServiceType: "ExternalName" as never })), {
    message: 'istio-mtls:ingress.serviceType: "ExternalName" is not a gateway Service type; allowed: LoadBalancer, NodePort, ClusterIP',
  });
  await rec.settle();
  t.is(rec.registrations.length, before);
});
