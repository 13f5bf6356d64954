/** Rules §C: what a sidecar client sends (DestinationRule lookup, port-level settings, auto mTLS). */
import test from "ava";
import { predict } from "../../mesh/predict";
import type { KubeObject } from "../../mesh/types";
import { cell, demo, destinationRule as dr, find, HTTPBIN, peerAuthentication as pa } from "./fixtures";

const run = (...policies: KubeObject[]) => predict([...demo(), ...policies]);
const at = (p: ReturnType<typeof run>, from: string, to: string) => cell(find(p, from, to));
const tls = (mode: string) => ({ tls: { mode } });
const LEGACY = "httpbin.legacy.svc.cluster.local";

test("DestinationRule lookup: client namespace, then service namespace, then root namespace", (t) => {
  // httpbin.legacy has no sidecar: ISTIO_MUTUAL → 503, DISABLE → 200, so the cell shows which rule won.
  const root = dr("istio-system", "mesh", { host: "*.local", trafficPolicy: tls("ISTIO_MUTUAL") });
  const svcNs = dr("legacy", "httpbin", { host: "httpbin", trafficPolicy: tls("DISABLE") });
  const clientNs = dr("foo", "legacy", { host: LEGACY, trafficPolicy: tls("ISTIO_MUTUAL") });
  t.is(at(run(root), "sleep.bar", "httpbin.legacy:8000"), "503");
  const p = run(root, svcNs, clientNs);
  t.is(at(p, "sleep.foo", "httpbin.legacy:8000"), "503", "the client's namespace comes first");
  t.regex(find(p, "sleep.foo", "httpbin.legacy:8000").reason, /DestinationRule foo\/legacy ISTIO_MUTUAL/);
  t.is(at(p, "sleep.bar", "httpbin.legacy:8000"), "200", "then the service's namespace, before the root");
  t.regex(find(p, "sleep.bar", "httpbin.legacy:8000").reason, /DestinationRule legacy\/httpbin DISABLE/);
  t.is(at(p, "sleep.legacy", "httpbin.legacy:8000"), "200", "DestinationRules do not apply to a client without sidecar");
});

test("exportTo: '.', '*', and namespace names", (t) => {
  const root = dr("istio-system", "mesh", { host: "*.local", trafficPolicy: tls("ISTIO_MUTUAL") });
  const withExport = (exportTo: string[]) => dr("legacy", "httpbin", { host: "httpbin", exportTo, trafficPolicy: tls("DISABLE") });
  const dot = run(root, withExport(["."]));
  t.is(at(dot, "sleep.foo", "httpbin.legacy:8000"), "503", "'.' hides it from foo: the root rule applies");
  const bar = run(root, withExport(["bar"]));
  t.is(at(bar, "sleep.foo", "httpbin.legacy:8000"), "503");
  t.is(at(bar, "sleep.bar", "httpbin.legacy:8000"), "200");
  const star = run(root, withExport(["*"]));
  t.is(at(star, "sleep.foo", "httpbin.legacy:8000"), "200");
  t.is(at(star, "sleep.bar", "httpbin.legacy:8000"), "200");
  const rootDot = run(dr("istio-system", "mesh", { host: "*.local", exportTo: ["."], trafficPolicy: tls("ISTIO_MUTUAL") }));
  t.is(at(rootDot, "sleep.foo", "httpbin.legacy:8000"), "200", "a root rule exported to '.' is not for other namespaces");
});

test("the exact host beats a wildcard, and a longer wildcard beats a shorter one", (t) => {
  const star = dr("istio-system", "a", { host: "*.local", trafficPolicy: tls("DISABLE") });
  const exact = dr("istio-system", "b", { host: LEGACY, trafficPolicy: tls("ISTIO_MUTUAL") });
  t.is(at(run(star, exact), "sleep.foo", "httpbin.legacy:8000"), "503");
  const nsWildcard = dr("istio-system", "c", { host: "*.legacy.svc.cluster.local", trafficPolicy: tls("ISTIO_MUTUAL") });
  t.is(at(run(star, nsWildcard), "sleep.foo", "httpbin.legacy:8000"), "503");
  const anything = dr("istio-system", "d", { host: "*", trafficPolicy: tls("ISTIO_MUTUAL") });
  t.is(at(run(anything, star), "sleep.foo", "httpbin.legacy:8000"), "200");
});

test("several rules for one host in a namespace: the oldest trafficPolicy wins", (t) => {
  const older = dr("legacy", "old", { host: "httpbin", trafficPolicy: tls("ISTIO_MUTUAL") }, "2024-01-01T00:00:00Z");
  const newer = dr("legacy", "new", { host: "httpbin", trafficPolicy: tls("DISABLE") }, "2024-03-01T00:00:00Z");
  t.is(at(run(newer, older), "sleep.foo", "httpbin.legacy:8000"), "503");
  const noPolicyOldest = dr("legacy", "none", { host: "httpbin" }, "2023-01-01T00:00:00Z");
  t.is(at(run(noPolicyOldest, newer), "sleep.foo", "httpbin.legacy:8000"), "200", "a rule without trafficPolicy does not block a newer one");
});

test("portLevelSettings use the Service port and replace the top-level tls", (t) => {
  const strictFoo = pa("foo", "default", { mtls: { mode: "STRICT" } });
  const portMutual = dr("foo", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode: "DISABLE" }, portLevelSettings: [{ port: { number: 8000 }, tls: { mode: "ISTIO_MUTUAL" } }] } });
  t.is(at(run(strictFoo, portMutual), "sleep.bar", "httpbin.foo:8000"), "200 mtls");
  const containerPort = dr("foo", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode: "DISABLE" }, portLevelSettings: [{ port: { number: 8080 }, tls: { mode: "ISTIO_MUTUAL" } }] } });
  t.is(at(run(strictFoo, containerPort), "sleep.bar", "httpbin.foo:8000"), "503", "8080 is not a Service port: the top-level DISABLE applies");
  // An entry without tls: the cluster falls back to auto mTLS, which sends plaintext to a sidecar-less endpoint.
  const legacyEntry = dr("legacy", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" }, portLevelSettings: [{ port: { number: 8000 }, loadBalancer: { simple: "ROUND_ROBIN" } }] } });
  t.is(at(run(legacyEntry), "sleep.foo", "httpbin.legacy:8000"), "200");
  const legacyTop = dr("legacy", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } });
  t.is(at(run(legacyTop), "sleep.foo", "httpbin.legacy:8000"), "503");
});

test("a port entry without tls: the endpoint check still reads the top-level mode (mtls_checker.go)", (t) => {
  const strictFoo = pa("foo", "default", { mtls: { mode: "STRICT" } });
  const entry = dr("foo", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode: "DISABLE" }, portLevelSettings: [{ port: { number: 8000 }, loadBalancer: { simple: "ROUND_ROBIN" } }] } });
  const p = run(strictFoo, entry);
  t.is(at(p, "sleep.bar", "httpbin.foo:8000"), "503");
  t.regex(find(p, "sleep.bar", "httpbin.foo:8000").reason, /top-level DISABLE read by the endpoint check/);
});

test("a tls block without a mode is DISABLE", (t) => {
  const strictBar = pa("bar", "default", { mtls: { mode: "STRICT" } });
  t.is(at(run(strictBar, dr("bar", "httpbin", { host: "httpbin", trafficPolicy: { tls: { sni: "x" } } })), "sleep.foo", "httpbin.bar:8000"), "503");
});

test("enableAutoMtls false: sidecars send plaintext, 503 at STRICT", (t) => {
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "enableAutoMtls: false\n" } };
  const p = run(cm, pa("foo", "default", { mtls: { mode: "STRICT" } }));
  t.is(at(p, "sleep.bar", "httpbin.foo:8000"), "503");
  t.is(at(p, "sleep.bar", "httpbin.bar:8000"), "200");
  t.regex(find(p, "sleep.bar", "httpbin.foo:8000").reason, /enableAutoMtls false/);
  t.is(at(run(cm, pa("foo", "default", { mtls: { mode: "STRICT" } }), dr("foo", "httpbin", { host: "httpbin", trafficPolicy: tls("ISTIO_MUTUAL") })), "sleep.bar", "httpbin.foo:8000"), "200 mtls");
});

test("namespace DISABLE + workload STRICT: auto mTLS sends plaintext, 503", (t) => {
  const p = run(pa("foo", "default", { mtls: { mode: "DISABLE" } }), pa("foo", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" } }));
  t.is(at(p, "sleep.bar", "httpbin.foo:8000"), "503");
  t.is(at(p, "sleep.legacy", "httpbin.foo:8000"), "000");
  t.regex(find(p, "sleep.bar", "httpbin.foo:8000").reason, /namespace foo is DISABLE \(PeerAuthentication foo\/default\)/);
  const mesh = run(pa("istio-system", "default", { mtls: { mode: "DISABLE" } }), pa("foo", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" } }));
  t.is(at(mesh, "sleep.bar", "httpbin.foo:8000"), "503", "mesh DISABLE is inherited by the namespace");
});

test("workload DISABLE under auto mTLS: plaintext to that endpoint, no failure", (t) => {
  const p = run(pa("bar", "httpbin", { selector: HTTPBIN, mtls: { mode: "DISABLE" } }));
  t.is(at(p, "sleep.foo", "httpbin.bar:8000"), "200");
  t.is(at(p, "sleep.foo", "httpbin.foo:8000"), "200 mtls");
});

test("ISTIO_MUTUAL to a workload without sidecar: 503", (t) => {
  const p = run(dr("legacy", "httpbin", { host: LEGACY, trafficPolicy: tls("ISTIO_MUTUAL") }));
  t.is(at(p, "sleep.foo", "httpbin.legacy:8000"), "503");
  t.regex(find(p, "sleep.foo", "httpbin.legacy:8000").reason, /mTLS reaches a plaintext app/);
});

test("SIMPLE and MUTUAL client TLS are not modelled and count as failures", (t) => {
  for (const mode of ["SIMPLE", "MUTUAL"]) {
    // MUTUAL without a client certificate and key is refused by Istio's validation.
    const certs = mode === "MUTUAL" ? { clientCertificate: "/etc/certs/cert.pem", privateKey: "/etc/certs/key.pem" } : {};
    const p = run(dr("bar", "httpbin", { host: "httpbin", trafficPolicy: { tls: { mode, ...certs } } }));
    t.is(at(p, "sleep.foo", "httpbin.bar:8000"), "503");
    t.regex(find(p, "sleep.foo", "httpbin.bar:8000").reason, new RegExp(mode));
  }
});

test("headless Service with an endpoint without sidecar: auto mTLS sends plaintext to every endpoint", (t) => {
  const plain: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "plain", namespace: "foo" },
    spec: { template: { metadata: { labels: { tier: "mixed", "sidecar.istio.io/inject": "false" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
  };
  const meshed: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "meshed", namespace: "foo" },
    spec: { template: { metadata: { labels: { tier: "mixed" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
  };
  const svc = (clusterIP?: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "mixed", namespace: "foo" },
    spec: { ...(clusterIP ? { clusterIP } : {}), selector: { tier: "mixed" }, ports: [{ port: 80, targetPort: 8080 }] },
  });
  const strict = pa("foo", "default", { mtls: { mode: "STRICT" } });
  const headless = run(plain, meshed, svc("None"), strict);
  t.is(at(headless, "sleep.bar", "mixed.foo:80"), "503");
  t.regex(find(headless, "sleep.bar", "mixed.foo:80").reason, /^endpoints differ, meshed\.foo: .*headless Service/);
  t.is(at(run(plain, meshed, svc(), strict), "sleep.bar", "mixed.foo:80"), "200", "a ClusterIP Service decides per endpoint");
});
