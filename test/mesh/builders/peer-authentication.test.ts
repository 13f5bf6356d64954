import test from "ava";
import {
  buildMeshPeerAuthentication,
  buildNamespacePeerAuthentication,
  buildPeerAuthentications,
  buildWorkloadPeerAuthentication,
  validateMtlsPolicies,
} from "../../../mesh/builders";
import type { PeerAuthenticationSettings } from "../../../mesh/settings";

test("mesh level: `default` in the root namespace, no selector", (t) => {
  t.deepEqual(buildMeshPeerAuthentication({ mode: "STRICT" }, "istio-config"), {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: "istio-config" },
    spec: { mtls: { mode: "STRICT" } },
  });
});

test("namespace level: `default` in the namespace", (t) => {
  t.deepEqual(buildNamespacePeerAuthentication({ namespace: "foo", mode: "PERMISSIVE" }), {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "default", namespace: "foo" },
    spec: { mtls: { mode: "PERMISSIVE" } },
  });
});

test("workload level: sorted selector, port keys as strings in numeric order, mode omitted when unset", (t) => {
  const pa = buildWorkloadPeerAuthentication({
    namespace: "bar",
    name: "httpbin",
    selector: { version: "v1", app: "httpbin" },
    portLevelMtls: { 9000: "STRICT", 8080: "DISABLE" },
  });
  t.deepEqual(pa, {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "httpbin", namespace: "bar" },
    spec: {
      selector: { matchLabels: { app: "httpbin", version: "v1" } },
      portLevelMtls: { "8080": { mode: "DISABLE" }, "9000": { mode: "STRICT" } },
    },
  });
  t.deepEqual(Object.keys(pa.spec.selector!.matchLabels!), ["app", "version"]);
  t.deepEqual(Object.keys(pa.spec.portLevelMtls!), ["8080", "9000"]);
  t.deepEqual(
    buildWorkloadPeerAuthentication({ namespace: "bar", name: "w", selector: { app: "x" }, mode: "STRICT" }).spec,
    { selector: { matchLabels: { app: "x" } }, mtls: { mode: "STRICT" } },
  );
});

test("all levels together: mesh, then namespaces, then workloads", (t) => {
  const policies: PeerAuthenticationSettings = {
    mesh: { mode: "STRICT" },
    namespaces: [{ namespace: "legacy", mode: "PERMISSIVE" }],
    workloads: [{ namespace: "foo", name: "httpbin-8080", selector: { app: "httpbin" }, portLevelMtls: { 8080: "PERMISSIVE" } }],
  };
  t.deepEqual(
    buildPeerAuthentications(policies, "istio-system").map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    ["istio-system/default", "legacy/default", "foo/httpbin-8080"],
  );
});

const base: PeerAuthenticationSettings = { namespaces: [], workloads: [] };
const rejected: [string, PeerAuthenticationSettings, RegExp][] = [
  ["unknown mesh mode", { ...base, mesh: { mode: "MUTUAL" as never } }, /^PeerAuthentication istio-system\/default: spec\.mtls\.mode: unknown mode "MUTUAL"; allowed: UNSET, DISABLE, PERMISSIVE, STRICT/],
  [
    "second namespace-level policy",
    { ...base, namespaces: [{ namespace: "foo", mode: "STRICT" }, { namespace: "foo", mode: "DISABLE" }] },
    /^PeerAuthentication foo\/default: a second namespace-level policy for "foo"/,
  ],
  [
    "namespace policy in the root namespace (a second mesh-level policy)",
    { ...base, mesh: { mode: "STRICT" }, namespaces: [{ namespace: "istio-system", mode: "DISABLE" }] },
    /^PeerAuthentication istio-system\/default: metadata\.namespace: "istio-system" is the mesh root namespace, where a policy without selector is the mesh-wide policy/,
  ],
  [
    "portLevelMtls without selector",
    { ...base, workloads: [{ namespace: "foo", name: "p", selector: {}, portLevelMtls: { 8080: "DISABLE" } }] },
    /^PeerAuthentication foo\/p: spec\.portLevelMtls requires a non-empty spec\.selector/,
  ],
  ["empty selector", { ...base, workloads: [{ namespace: "foo", name: "p", selector: {}, mode: "STRICT" }] }, /^PeerAuthentication foo\/p: spec\.selector: empty/],
  [
    "selector policy in the root namespace",
    { ...base, workloads: [{ namespace: "istio-system", name: "p", selector: { app: "a" }, mode: "STRICT" }] },
    /^PeerAuthentication istio-system\/p: metadata\.namespace: "istio-system" is the mesh root namespace, where Istio ignores policies with a selector/,
  ],
  [
    "port 0",
    { ...base, workloads: [{ namespace: "foo", name: "p", selector: { app: "a" }, portLevelMtls: { 0: "STRICT" } }] },
    /^PeerAuthentication foo\/p: spec\.portLevelMtls\.0 is not a port; allowed: 1\.\.65535/,
  ],
  [
    "port 70000",
    { ...base, workloads: [{ namespace: "foo", name: "p", selector: { app: "a" }, portLevelMtls: { 70000: "STRICT" } }] },
    /spec\.portLevelMtls\.70000 is not a port/,
  ],
  [
    "empty portLevelMtls",
    { ...base, workloads: [{ namespace: "foo", name: "p", selector: { app: "a" }, portLevelMtls: {} }] },
    /spec\.portLevelMtls is empty/,
  ],
  [
    "unknown port mode",
    { ...base, workloads: [{ namespace: "foo", name: "p", selector: { app: "a" }, portLevelMtls: { 80: "ON" as never } }] },
    /^PeerAuthentication foo\/p: spec\.portLevelMtls\.80\.mode: unknown mode "ON"/,
  ],
  [
    "workload policy named default next to the namespace policy",
    { ...base, namespaces: [{ namespace: "foo", mode: "STRICT" }], workloads: [{ namespace: "foo", name: "default", selector: { app: "a" } }] },
    /^PeerAuthentication foo\/default: defined twice/,
  ],
];

for (const [title, policies, message] of rejected) {
  test(`refused: ${title}`, (t) => {
    const e = t.throws(() => validateMtlsPolicies(policies, "istio-system"));
    t.regex(e!.message, message);
    t.throws(() => buildPeerAuthentications(policies, "istio-system"));
  });
}
