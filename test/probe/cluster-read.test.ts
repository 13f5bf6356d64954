/**
 * The live reader against a local fake API server: what it reads for a scope, each running
 * workload once, Istio CRDs absent, paging, and every error a user meets named clearly.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { predict } from "../../mesh/predict";
import type { KubeObject } from "../../mesh/types";
import { readYamlPaths } from "../../mesh/yaml";
import { isClusterReadError, readCluster, topLevelWorkloads } from "../../probe/cluster-read";
import { asLiveCluster, startFakeApiServer, type FakeApiServer } from "../helpers/fake-api-server";

const DEMO = join(__dirname, "..", "fixtures", "scenarios", "demo.yaml");
const demo = readYamlPaths([DEMO]).map((so) => so.object);

const pa = (namespace: string, name: string, mode: string): KubeObject =>
  ({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name, namespace }, spec: { mtls: { mode } } }) as KubeObject;
const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });

/** The demo plus mesh-wide STRICT in the root namespace, a policy out of scope and the mesh ConfigMap. */
const declared: KubeObject[] = [
  ...demo,
  ns("istio-system"),
  ns("other"),
  { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "trustDomain: cluster.local\n" } } as KubeObject,
  pa("istio-system", "default", "STRICT"),
  pa("foo", "httpbin-permissive", "PERMISSIVE"),
  pa("other", "default", "DISABLE"),
  {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "httpbin", namespace: "foo" },
    spec: { hosts: ["httpbin"], http: [{ route: [{ destination: { host: "httpbin" } }] }] },
  } as KubeObject,
];

let api: FakeApiServer;
let dir: string;
let kubeconfig: string;

test.before(async () => {
  api = await startFakeApiServer({ objects: asLiveCluster(declared) });
  dir = mkdtempSync(join(tmpdir(), "cluster-read-"));
  kubeconfig = join(dir, "config");
  writeFileSync(kubeconfig, api.kubeconfig());
});
test.after.always(() => api?.close());

const inScope = (objects: KubeObject[]) => objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`).sort();

test.serial("reads the scope's objects and the root namespace's policies, each workload once, as the model's input", async (t) => {
  const r = await readCluster({ kubeconfig }, { namespaces: ["foo", "legacy"] });
  t.deepEqual(r.scope, ["foo", "legacy"]);
  t.is(r.rootNamespace, "istio-system");
  t.deepEqual(inScope(r.objects), [
    "ConfigMap istio-system/istio",
    "Deployment foo/httpbin",
    "Deployment foo/sleep",
    "Deployment legacy/httpbin",
    "Deployment legacy/sleep",
    "Namespace /foo",
    "Namespace /legacy",
    "PeerAuthentication foo/httpbin-permissive",
    "PeerAuthentication istio-system/default",
    "Service foo/httpbin",
    "Service legacy/httpbin",
    "VirtualService foo/httpbin",
  ]);
  for (const o of r.objects) {
    t.truthy(o.apiVersion, o.metadata.name);
    t.false("managedFields" in o.metadata, `${o.kind} ${o.metadata.name} keeps managedFields`);
  }
  t.like(r.objects.find((o) => o.kind === "PeerAuthentication"), { apiVersion: "security.istio.io/v1" });
  // Each running workload once: the prediction equals the declared objects' (no ReplicaSet or Pod as a second client).
  const expected = predict(declared.filter((o) => ["foo", "legacy", "istio-system"].includes(o.metadata.namespace ?? o.metadata.name) && o.kind !== "ServiceAccount"));
  t.deepEqual(predict(r.objects), expected);
  t.deepEqual([...new Set(predict(r.objects).probes.map((p) => p.from))], ["httpbin.foo", "sleep.foo", "httpbin.legacy", "sleep.legacy"]);
});

test("owner references: a controller that was read hides what it made; one that was not read hides nothing", (t) => {
  const owned = (kind: string, name: string, ownerKind: string, owner: string, extra: Record<string, unknown> = {}) =>
    ({
      apiVersion: kind === "Pod" ? "v1" : "apps/v1",
      kind,
      metadata: { name, namespace: "shop", ownerReferences: [{ kind: ownerKind, name: owner, controller: true, apiVersion: "x", uid: "u" }], ...extra },
      spec: kind === "Pod" ? { containers: [] } : { template: { spec: { containers: [] } } },
    }) as unknown as KubeObject;
  const objects = [
    // An Argo Rollout (not read) → its ReplicaSet → a Pod: the ReplicaSet stands for the workload.
    owned("ReplicaSet", "web-6b7f", "Rollout", "web"),
    owned("Pod", "web-6b7f-abcde", "ReplicaSet", "web-6b7f"),
    // A Pod of a Deployment whose ReplicaSet was not read (pod-template-hash names it).
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "shop" }, spec: { template: { spec: { containers: [] } } } } as KubeObject,
    owned("Pod", "api-7c9d-xyz", "ReplicaSet", "api-7c9d", { labels: { "pod-template-hash": "7c9d" } }),
    // A bare Pod, and one owned by a non-controller reference.
    { apiVersion: "v1", kind: "Pod", metadata: { name: "debug", namespace: "shop" }, spec: { containers: [] } } as KubeObject,
  ];
  t.deepEqual(topLevelWorkloads(objects).map((o) => `${o.kind} ${o.metadata.name}`), ["ReplicaSet web-6b7f", "Deployment api", "Pod debug"]);
});

test.serial("the default scope is the context's namespace, else default", async (t) => {
  const withNs = join(dir, "with-namespace");
  writeFileSync(withNs, api.kubeconfig({ namespace: "bar" }));
  t.deepEqual((await readCluster({ kubeconfig: withNs })).scope, ["bar"]);
  api.world.objects.push(ns("default"));
  try {
    t.deepEqual((await readCluster({ kubeconfig })).scope, ["default"]);
  } finally {
    api.world.objects.pop();
  }
});

test.serial("all namespaces: one cluster-wide list per kind, every namespace in scope", async (t) => {
  const before = api.requests.length;
  const r = await readCluster({ kubeconfig }, { allNamespaces: true });
  const lists = api.requests.slice(before).filter((q) => !/\/configmaps\/istio$/.test(q));
  t.true(lists.every((q) => !q.includes("/namespaces/")), lists.join("\n"));
  t.is(lists.length, 20, "namespaces, webhooks and 18 namespaced kinds");
  t.deepEqual(r.scope, ["bar", "foo", "istio-system", "legacy", "other"]);
  t.true(r.objects.some((o) => o.kind === "PeerAuthentication" && o.metadata.namespace === "other"));
  t.false(r.objects.some((o) => o.kind === "ReplicaSet" || o.kind === "Pod"));
});

test.serial("paged lists are read to the end", async (t) => {
  api.world.pageSize = 1;
  try {
    const r = await readCluster({ kubeconfig }, { namespaces: ["foo"] });
    t.is(r.objects.filter((o) => o.kind === "Deployment").length, 2);
    t.true(api.requests.some((q) => q.includes("continue=1")));
  } finally {
    delete api.world.pageSize;
  }
});

test.serial("Istio's CRDs absent: none of their kinds, one notice, no error", async (t) => {
  api.world.unservedGroups = ["security.istio.io", "networking.istio.io"];
  try {
    const r = await readCluster({ kubeconfig }, { namespaces: ["foo"] });
    t.false(r.objects.some((o) => o.apiVersion.includes("istio.io")));
    t.is(r.notices.length, 1);
    t.regex(r.notices[0]!, /^not served by the API server, read as none: PeerAuthentication \(security\.istio\.io\/v1\), .*EnvoyFilter \(networking\.istio\.io\/v1alpha3\).* \(are Istio's CRDs installed/);
  } finally {
    delete api.world.unservedGroups;
  }
});

test.serial("an optional namespace that does not exist is a notice; the mesh ConfigMap absent is a notice", async (t) => {
  const saved = api.world.objects;
  api.world.objects = saved.filter((o) => o.kind !== "ConfigMap");
  try {
    const r = await readCluster({ kubeconfig }, { namespaces: ["foo"], optionalNamespaces: ["istio-mtls-probe"] });
    t.deepEqual(r.namespaces, ["foo"]);
    t.true(r.notices.includes(`namespace istio-mtls-probe does not exist in context "local"; nothing read from it`), r.notices.join("\n"));
    t.true(r.notices.some((n) => n.startsWith("no ConfigMap istio-system/istio: predicting with Istio's mesh defaults")));
  } finally {
    api.world.objects = saved;
  }
});

/** The error of a read, checked to be a ClusterReadError whose message is one line of prose, no stack. */
async function readError(t: import("ava").ExecutionContext, ...args: Parameters<typeof readCluster>): Promise<string> {
  const e = await t.throwsAsync(readCluster(...args));
  t.true(isClusterReadError(e), e?.message);
  t.notRegex(e!.message, /\n\s+at /);
  return e!.message;
}

test.serial("error: a namespace that does not exist, named with the context", async (t) => {
  t.regex(await readError(t, { kubeconfig }, { namespaces: ["foo", "shop", "payments"] }), /^namespaces payments, shop not found in context "local"/);
});

test.serial("error: 403 names the verb, resource and namespace denied, and the RBAC rule needed", async (t) => {
  api.world.forbid = ["list deployments foo"];
  try {
    const m = await readError(t, { kubeconfig }, { namespaces: ["foo"] });
    t.regex(m, /^forbidden: cannot list deployments\.apps in namespace foo \(the API server says: deployments\.apps is forbidden: User "alice" cannot list/);
    t.regex(m, /needs the RBAC rule \{apiGroups: \["apps"\], resources: \["deployments"\], verbs: \["list"\]\} in a Role in namespace foo/);
  } finally {
    api.world.forbid = ["list mutatingwebhookconfigurations "];
  }
  try {
    const m = await readError(t, { kubeconfig }, { namespaces: ["foo"] });
    t.regex(m, /cannot list mutatingwebhookconfigurations\.admissionregistration\.k8s\.io \(/);
    t.regex(m, /\{apiGroups: \["admissionregistration\.k8s\.io"\], resources: \["mutatingwebhookconfigurations"\], verbs: \["list"\]\} in a ClusterRole bound by a ClusterRoleBinding/);
  } finally {
    api.world.forbid = ["get namespaces "];
  }
  try {
    // As a real API server authorizes it: GET /api/v1/namespaces/foo is a request in namespace foo.
    t.regex(await readError(t, { kubeconfig }, { namespaces: ["foo"] }), /^forbidden: cannot get namespace foo \(.*\{apiGroups: \[""\], resources: \["namespaces"\], verbs: \["get"\]\} in a Role in namespace foo \(or a ClusterRole, bound in that namespace\)$/);
  } finally {
    delete api.world.forbid;
  }
});

test.serial("error: 401 names the context and the user", async (t) => {
  const bad = join(dir, "bad-token");
  writeFileSync(bad, api.kubeconfig({ token: "expired" }));
  t.regex(await readError(t, { kubeconfig: bad }, { namespaces: ["foo"] }), /^the API server http:\/\/127\.0\.0\.1:\d+ of context "local" rejected the credentials of user "alice" \(401 Unauthorized: Unauthorized\); log in again/);
});

test.serial("error: an unreachable API server names its address and the context", async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const down = join(dir, "down");
  writeFileSync(down, api.kubeconfig({ server: `http://127.0.0.1:${port}` }));
  t.regex(await readError(t, { kubeconfig: down }), new RegExp(`^cannot reach the API server http://127\\.0\\.0\\.1:${port} of context "local" \\(ECONNREFUSED: .*\\); is the cluster running`));
});

test.serial("error: no kubeconfig at all, no current context, an unknown context: named by the CLI's flags", async (t) => {
  const settings = { kubeconfig: "--kubeconfig", context: "--context" };
  const saved = { home: process.env.HOME, kubeconfig: process.env.KUBECONFIG };
  process.env.HOME = mkdtempSync(join(tmpdir(), "cluster-read-home-"));
  delete process.env.KUBECONFIG;
  try {
    t.regex(await readError(t, { settings }), /^no kubeconfig: --kubeconfig is not set, \$KUBECONFIG is not set, there is no ~\/\.kube\/config/);
  } finally {
    process.env.HOME = saved.home;
    if (saved.kubeconfig !== undefined) process.env.KUBECONFIG = saved.kubeconfig;
  }
  const noCurrent = join(dir, "no-current");
  writeFileSync(noCurrent, api.kubeconfig({ contexts: ["a", "b"], current: "" }).replace(/^current-context: .*$/m, ""));
  t.regex(await readError(t, { kubeconfig: noCurrent, settings }), /it has no current context; set --context to one of: a, b$/);
  t.regex(await readError(t, { kubeconfig, context: "prod", settings }), /^--context: "prod" is not a context of the --kubeconfig file .*; allowed: local$/);
});

test.serial("error: an API server whose certificate does not verify against the kubeconfig is named as such, not as unreachable", async (t) => {
  const { execFileSync } = require("node:child_process") as typeof import("node:child_process");
  const { createServer: createHttpsServer } = require("node:https") as typeof import("node:https");
  const { readFileSync } = require("node:fs") as typeof import("node:fs");
  const keyFile = join(dir, "tls.key");
  const certFile = join(dir, "tls.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile, "-subj", "/CN=127.0.0.1", "-days", "1"], { stdio: "ignore" });
  const tls = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (_req, res) => res.end("{}"));
  await new Promise<void>((resolve) => tls.listen(0, "127.0.0.1", resolve));
  try {
    const port = (tls.address() as { port: number }).port;
    const file = join(dir, "tls-config");
    writeFileSync(file, api.kubeconfig({ server: `https://127.0.0.1:${port}` }).replace("    insecure-skip-tls-verify: true\n", ""));
    t.regex(await readError(t, { kubeconfig: file }), new RegExp(`^the API server https://127\\.0\\.0\\.1:${port} of context "local" presented a certificate that does not verify \\([A-Z_]+: .*\\); check the cluster's certificate-authority`));
  } finally {
    tls.close();
  }
});
