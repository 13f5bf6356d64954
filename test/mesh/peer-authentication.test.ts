/** Rules §A (PeerAuthentication scope, oldest wins, UNSET, portLevelMtls) and §B (server side). */
import test from "ava";
import { predict } from "../../mesh/predict";
import type { KubeObject } from "../../mesh/types";
import { cell, demo, find, HTTPBIN, peerAuthentication as pa } from "./fixtures";

const run = (...policies: KubeObject[]) => predict([...demo(), ...policies]);
const at = (p: ReturnType<typeof run>, from: string, to: string) => cell(find(p, from, to));

test("precedence: mesh < namespace < workload < port", (t) => {
  const mesh = pa("istio-system", "default", { mtls: { mode: "STRICT" } });
  const ns = pa("foo", "default", { mtls: { mode: "PERMISSIVE" } });
  const wl = pa("foo", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" } });
  const wlPort = pa("foo", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } });
  t.is(at(run(mesh), "sleep.legacy", "httpbin.foo:8000"), "000");
  t.is(at(run(mesh, ns), "sleep.legacy", "httpbin.foo:8000"), "200");
  t.is(at(run(mesh, ns), "sleep.legacy", "httpbin.bar:8000"), "000", "namespace foo's policy does not reach bar");
  t.is(at(run(mesh, ns, wl), "sleep.legacy", "httpbin.foo:8000"), "000");
  const withPort = run(mesh, ns, wlPort);
  t.is(at(withPort, "sleep.legacy", "httpbin.foo:8000"), "200");
  t.regex(find(withPort, "sleep.legacy", "httpbin.foo:8000").reason, /PERMISSIVE at port 8080 \(portLevelMtls 8080 of PeerAuthentication foo\/httpbin\)/);
});

test("oldest wins at the namespace level; ties go to the smaller name", (t) => {
  const strictOld = pa("foo", "zz-strict", { mtls: { mode: "STRICT" } }, "2024-01-01T00:00:00Z");
  const permissiveNew = pa("foo", "aa-permissive", { mtls: { mode: "PERMISSIVE" } }, "2024-06-01T00:00:00Z");
  t.is(at(run(strictOld, permissiveNew), "sleep.legacy", "httpbin.foo:8000"), "000");
  t.is(at(run(permissiveNew, strictOld), "sleep.legacy", "httpbin.foo:8000"), "000", "input order does not matter");
  const permissiveOld = pa("foo", "aa-permissive", { mtls: { mode: "PERMISSIVE" } }, "2023-06-01T00:00:00Z");
  t.is(at(run(strictOld, permissiveOld), "sleep.legacy", "httpbin.foo:8000"), "200");
  const tieA = pa("foo", "a", { mtls: { mode: "STRICT" } }, "2024-01-01T00:00:00Z");
  const tieB = pa("foo", "b", { mtls: { mode: "PERMISSIVE" } }, "2024-01-01T00:00:00Z");
  t.is(at(run(tieB, tieA), "sleep.legacy", "httpbin.foo:8000"), "000");
});

test("without timestamps, applied in the same second: the name decides, as in Istio, not the input order; mesh level too", (t) => {
  const a = pa("istio-system", "one", { mtls: { mode: "STRICT" } });
  const b = pa("istio-system", "two", { mtls: { mode: "PERMISSIVE" } });
  t.is(at(run(a, b), "sleep.legacy", "httpbin.bar:8000"), "000");
  t.is(at(run(b, a), "sleep.legacy", "httpbin.bar:8000"), "000", "configCompareByCreationTime: one < two");
  // An object already in the cluster (with a timestamp) is older than any about to be created.
  const applied = { ...b, metadata: { ...b.metadata, creationTimestamp: "2024-01-01T00:00:00Z" } };
  t.is(at(run(a, applied), "sleep.legacy", "httpbin.bar:8000"), "200");
});

test("workload-level policies are never merged: the oldest is taken whole", (t) => {
  const older = pa("foo", "strict", { selector: HTTPBIN, mtls: { mode: "STRICT" } }, "2024-01-01T00:00:00Z");
  const newer = pa("foo", "port", { selector: { matchLabels: { app: "httpbin", "security.istio.io/tlsMode": "istio" } }, portLevelMtls: { "8080": { mode: "PERMISSIVE" } } }, "2024-02-01T00:00:00Z");
  t.is(at(run(older, newer), "sleep.legacy", "httpbin.foo:8000"), "000");
  const newerAsOldest = { ...newer, metadata: { ...newer.metadata, creationTimestamp: "2023-01-01T00:00:00Z" } };
  t.is(at(run(older, newerAsOldest), "sleep.legacy", "httpbin.foo:8000"), "200", "the port policy alone leaves 8080 PERMISSIVE");
});

test("UNSET inherits: a namespace policy without mtls, a workload port entry with UNSET", (t) => {
  const mesh = pa("istio-system", "default", { mtls: { mode: "STRICT" } });
  t.is(at(run(mesh, pa("foo", "default", {})), "sleep.legacy", "httpbin.foo:8000"), "000");
  t.is(at(run(mesh, pa("foo", "default", { mtls: { mode: "UNSET" } })), "sleep.legacy", "httpbin.foo:8000"), "000");
  const nsPermissive = pa("foo", "default", { mtls: { mode: "PERMISSIVE" } });
  const wl = pa("foo", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "UNSET" } } });
  t.is(at(run(nsPermissive, wl), "sleep.legacy", "httpbin.foo:8000"), "000", "UNSET port → workload STRICT");
  const wlUnset = pa("foo", "httpbin", { selector: HTTPBIN, portLevelMtls: { "9999": { mode: "STRICT" } } });
  t.is(at(run(mesh, wlUnset), "sleep.legacy", "httpbin.foo:8000"), "000", "workload UNSET → mesh STRICT");
});

test("a root-namespace PeerAuthentication with a selector is ignored", (t) => {
  const p = run(pa("istio-system", "httpbin", { selector: HTTPBIN, mtls: { mode: "STRICT" } }));
  for (const to of ["httpbin.foo:8000", "httpbin.bar:8000"]) t.is(at(p, "sleep.legacy", to), "200");
});

test("portLevelMtls is keyed by the container port, never the Service port", (t) => {
  const byServicePort = pa("bar", "httpbin", { selector: HTTPBIN, portLevelMtls: { "8000": { mode: "STRICT" } } });
  t.is(at(run(byServicePort), "sleep.legacy", "httpbin.bar:8000"), "200");
  const byContainerPort = pa("bar", "httpbin", { selector: HTTPBIN, portLevelMtls: { "8080": { mode: "STRICT" } } });
  t.is(at(run(byContainerPort), "sleep.legacy", "httpbin.bar:8000"), "000");
});

test("mode meanings: STRICT refuses plaintext, DISABLE refuses mTLS, PERMISSIVE takes both", (t) => {
  // DISABLE at the server with a DestinationRule forcing mTLS: the client sidecar gets 503.
  const disable = pa("bar", "httpbin", { selector: HTTPBIN, mtls: { mode: "DISABLE" } });
  const forced = {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "httpbin", namespace: "bar" },
    spec: { host: "httpbin", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } },
  };
  const p = run(disable, forced);
  t.is(at(p, "sleep.foo", "httpbin.bar:8000"), "503");
  t.is(at(p, "sleep.legacy", "httpbin.bar:8000"), "200");
  const permissive = run(pa("bar", "default", { mtls: { mode: "PERMISSIVE" } }));
  t.is(at(permissive, "sleep.foo", "httpbin.bar:8000"), "200 mtls");
  t.is(at(permissive, "sleep.legacy", "httpbin.bar:8000"), "200");
});

test("a workload without a sidecar enforces nothing", (t) => {
  const p = run(
    pa("legacy", "default", { mtls: { mode: "STRICT" } }),
    pa("istio-system", "default", { mtls: { mode: "STRICT" } }),
    { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "deny-all", namespace: "legacy" }, spec: {} },
    { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace: "legacy" }, spec: { jwtRules: [{ issuer: "x" }] } },
  );
  for (const from of ["sleep.foo", "sleep.bar", "sleep.legacy"]) t.is(at(p, from, "httpbin.legacy:8000"), "200");
  const invalid = predict([...demo(), { apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: "jwt", namespace: "legacy" }, spec: { jwtRules: [{ issuer: "x" }] } }], { request: { token: { kind: "invalid" } } });
  t.is(at(invalid, "sleep.legacy", "httpbin.legacy:8000"), "200");
});
