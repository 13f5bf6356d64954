import test from "ava";
import { loadStackConfig, type StackConfig } from "../../config";
import { DEMO_NAMESPACES, load } from "./load";

/** ingress.serviceType defaults to the gateway chart's own LoadBalancer. */
const INGRESS_DEFAULTS = { enabled: false, tls: false, host: "*", serviceType: "LoadBalancer" as const };
const DEFAULTS: StackConfig = {
  production: false,
  istio: {
    install: true,
    version: "1.28.1",
    chartRepository: "https://istio-release.storage.googleapis.com/charts",
    namespace: "istio-system",
    mesh: { rootNamespace: "istio-system", trustDomain: "cluster.local", enableAutoMtls: true },
    ingressGateway: false,
  },
  certManager: { install: true, version: "v1.19.1", namespace: "cert-manager" },
  ca: {
    type: "cert-manager",
    keyAlgorithm: "ECDSA",
    keySize: 256,
    rootDuration: "87600h",
    intermediateDuration: "8760h",
    intermediateRenewBefore: "720h",
  },
  namespaces: [],
  demo: { enabled: false },
  mtls: { namespaces: [], workloads: [] },
  destinationRules: [],
  endUserAuth: [],
  authorization: [],
  ingress: INGRESS_DEFAULTS,
  probe: { enabled: true, alwaysRun: false, requestTimeoutSeconds: 5, deadlineSeconds: 180, concurrency: 4 },
  intent: [],
};

test("an empty config yields the secure defaults", (t) => {
  t.deepEqual(loadStackConfig(() => undefined), DEFAULTS);
  t.deepEqual(load({}), DEFAULTS);
});

test("empty objects for each key fill in the same defaults", (t) => {
  const c = load({ istio: {}, certManager: {}, ca: {}, demo: {}, mtls: {}, ingress: {}, probe: {}, namespaces: [], intent: [] });
  t.deepEqual(c, DEFAULTS);
});

test("a partial object keeps the defaults of the fields it leaves out", (t) => {
  const c = load({ istio: { mesh: { trustDomain: "example.org" } }, probe: { concurrency: 2 } });
  t.deepEqual(c.istio.mesh, { rootNamespace: "istio-system", trustDomain: "example.org", enableAutoMtls: true });
  t.is(c.istio.version, "1.28.1");
  t.deepEqual(c.probe, { ...DEFAULTS.probe, concurrency: 2 });
});

test("the mesh root namespace defaults to istio.namespace", (t) => {
  t.is(load({ istio: { namespace: "istio-control" } }).istio.mesh.rootNamespace, "istio-control");
  t.is(load({ istio: { namespace: "istio-control", mesh: { rootNamespace: "mesh-root" } } }).istio.mesh.rootNamespace, "mesh-root");
});

test("keySize defaults by algorithm: ECDSA 256, RSA 2048", (t) => {
  t.is(load({ ca: { keyAlgorithm: "RSA" } }).ca.keySize, 2048);
  t.is(load({ ca: { keyAlgorithm: "ECDSA" } }).ca.keySize, 256);
  t.is(load({ ca: { keyAlgorithm: "RSA", keySize: 4096 } }).ca.keySize, 4096);
});

/** An ingress exposes the demo's httpbin in a namespace with sidecars. */
const DEMO = { namespaces: [{ name: "foo" }], demo: { enabled: true } };

test("istio.ingressGateway follows ingress.enabled unless set", (t) => {
  t.true(load({ ...DEMO, ingress: { enabled: true } }).istio.ingressGateway);
  t.false(load({ ingress: { enabled: false } }).istio.ingressGateway);
  t.true(load({ istio: { ingressGateway: true } }).istio.ingressGateway);
  // With an Istio installed elsewhere, the gateway is theirs: an explicit false is fine.
  t.false(load({ ...DEMO, istio: { install: false, ingressGateway: false }, ingress: { enabled: true } }).istio.ingressGateway);
});

test("ingress.serviceType: LoadBalancer unless set; NodePort and ClusterIP for clusters without load balancers (kind)", (t) => {
  t.like(load({ ...DEMO, ingress: { enabled: true } }).ingress, { serviceType: "LoadBalancer" });
  t.like(load({ ...DEMO, ingress: { enabled: true, serviceType: "NodePort" } }).ingress, { serviceType: "NodePort" });
  t.like(load({ ...DEMO, ingress: { enabled: true, serviceType: "ClusterIP" } }).ingress, { serviceType: "ClusterIP" });
  // A gateway installed without the demo ingress (istio.ingressGateway: true) takes it too.
  t.like(load({ istio: { ingressGateway: true }, ingress: { serviceType: "NodePort" } }).ingress, { serviceType: "NodePort" });
});

test("namespace injection defaults to true; end-user auth requires a token by default", (t) => {
  const c = load({
    namespaces: [{ name: "foo" }],
    endUserAuth: [{ namespace: "foo", name: "jwt", selector: { app: "httpbin" }, issuer: "me", jwksUri: "https://idp.example.com/jwks.json" }],
  });
  t.deepEqual(c.namespaces, [{ name: "foo", injection: true }]);
  t.true(c.endUserAuth[0].requireToken);
});

test("user-facing mtls shapes become PeerAuthenticationSettings: mesh object, namespaces sorted, ports numeric", (t) => {
  const c = load({
    namespaces: DEMO_NAMESPACES,
    mtls: {
      mesh: "PERMISSIVE",
      namespaces: { legacy: "DISABLE", foo: "STRICT" },
      workloads: [{ namespace: "bar", name: "httpbin", selector: { app: "httpbin" }, portLevelMtls: { "9090": "DISABLE", "8080": "STRICT" } }],
    },
  });
  t.deepEqual(c.mtls, {
    mesh: { mode: "PERMISSIVE" },
    namespaces: [
      { namespace: "foo", mode: "STRICT" },
      { namespace: "legacy", mode: "DISABLE" },
    ],
    workloads: [{ namespace: "bar", name: "httpbin", selector: { app: "httpbin" }, portLevelMtls: { 8080: "STRICT", 9090: "DISABLE" } }],
  });
  t.deepEqual(Object.keys(c.mtls.workloads[0].portLevelMtls!), ["8080", "9090"]);
  t.false("mode" in c.mtls.workloads[0], "an omitted workload mode stays absent (UNSET)");
});

test("optional fields left out stay absent, so inputs built from them carry no undefined", (t) => {
  const c = load({
    namespaces: DEMO_NAMESPACES,
    destinationRules: [{ namespace: "legacy", name: "httpbin", host: "httpbin.legacy.svc.cluster.local", mode: "DISABLE" }],
    authorization: [{ namespace: "foo", name: "allow-bar", selector: { app: "httpbin" }, namespaces: ["bar"] }],
  });
  t.deepEqual(c.destinationRules, [{ namespace: "legacy", name: "httpbin", host: "httpbin.legacy.svc.cluster.local", mode: "DISABLE" }]);
  t.deepEqual(Object.keys(c.authorization[0]).sort(), ["name", "namespace", "namespaces", "selector"]);
  t.false("revision" in c.istio);
});

test("loading is deterministic: the same input gives the same JSON twice", (t) => {
  const input = { namespaces: DEMO_NAMESPACES, mtls: { namespaces: { foo: "STRICT", bar: "PERMISSIVE" } } };
  t.is(JSON.stringify(load(input)), JSON.stringify(load(structuredClone(input))));
});

test("other providers' keys (kubernetes:context) are not reported as unknown", (t) => {
  t.notThrows(() => loadStackConfig(() => undefined, ["kubernetes:context", "istio-mtls:production", "aws:region"]));
});
