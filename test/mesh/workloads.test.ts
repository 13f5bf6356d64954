/** Workloads, sidecar injection, Service endpoints, mesh config and input validation. */
import test from "ava";
import { MODEL_KINDS, ModelInputError, predict } from "../../mesh/predict";
import { ModelInputErrors } from "../../mesh/model/errors";
import { buildModel } from "../../mesh/model/index";
import type { KubeObject } from "../../mesh/types";
import { installedRevisions } from "../../mesh/model/injection-webhooks";
import { sidecarInjected } from "../../mesh/model/workloads";
import { cell, demo, find, peerAuthentication as pa } from "./fixtures";

const at = (p: ReturnType<typeof predict>, from: string, to: string) => cell(find(p, from, to));

function deployment(namespace: string, name: string, template: { labels?: Record<string, string>; annotations?: Record<string, string>; ports?: { name: string; containerPort: number }[]; serviceAccountName?: string }, replicas = 1): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: template.labels ?? {} },
      template: {
        metadata: { labels: template.labels ?? {}, annotations: template.annotations },
        spec: { serviceAccountName: template.serviceAccountName, containers: [{ name, image: "x", ports: template.ports }] },
      },
    },
  };
}

function service(namespace: string, name: string, selector: Record<string, string>, ports: Record<string, unknown>[]): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec: { selector, ports } };
}

test("injection follows the webhook's label selectors", (t) => {
  const defaultOnly = installedRevisions([]);
  const inj = (ns: Record<string, string>, pod: Record<string, string>, ann: Record<string, string> = {}) => sidecarInjected(defaultOnly, "app", ns, pod, ann, false).sidecar;
  t.true(inj({ "istio-injection": "enabled" }, {}));
  t.false(inj({ "istio-injection": "enabled" }, { "sidecar.istio.io/inject": "false" }));
  t.false(inj({ "istio-injection": "enabled" }, {}, { "sidecar.istio.io/inject": "false" }), "the annotation still opts out");
  // injectRequired: the label beats the annotation, and only "true"/"false" decide.
  t.true(inj({ "istio-injection": "enabled" }, { "sidecar.istio.io/inject": "true" }, { "sidecar.istio.io/inject": "false" }), "the label wins");
  for (const v of ["no", "off", "n", "False"]) t.true(inj({ "istio-injection": "enabled" }, {}, { "sidecar.istio.io/inject": v }), `annotation ${v} is no opt-out`);
  t.true(inj({ "istio.io/rev": "default" }, {}));
  t.true(inj({}, { "sidecar.istio.io/inject": "true" }));
  t.false(inj({}, {}, { "sidecar.istio.io/inject": "true" }), "an annotation alone never reaches the webhook");
  t.false(inj({ "istio-injection": "disabled" }, { "sidecar.istio.io/inject": "true" }));
  t.false(inj({}, {}));
  t.false(sidecarInjected(defaultOnly, "app", { "istio-injection": "enabled" }, {}, {}, true).sidecar, "hostNetwork");
  t.false(sidecarInjected(defaultOnly, "kube-system", { "istio-injection": "enabled" }, {}, {}, false).sidecar, "IgnoredNamespaces");
});

test("a pod label opts a legacy workload into the mesh; its identity uses its service account", (t) => {
  const objects = [
    ...demo(),
    deployment("legacy", "meshed", { labels: { app: "meshed", "sidecar.istio.io/inject": "true" } }),
    pa("istio-system", "default", { mtls: { mode: "STRICT" } }),
  ];
  const p = predict(objects);
  t.is(at(p, "meshed.legacy", "httpbin.foo:8000"), "200 mtls");
  t.is(find(p, "meshed.legacy", "httpbin.foo:8000").clientIdentity, "spiffe://cluster.local/ns/legacy/sa/default", "no serviceAccountName → default");
});

test("a named targetPort resolves through the container ports; PeerAuthentication reads the resolved port", (t) => {
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "app", labels: { "istio-injection": "enabled" } } } as KubeObject,
    deployment("app", "web", { labels: { app: "web" }, ports: [{ name: "http-web", containerPort: 9090 }] }),
    service("app", "web", { app: "web" }, [{ name: "http", port: 80, targetPort: "http-web" }]),
    deployment("legacy", "client", { labels: { app: "client" } }),
    pa("app", "web", { selector: { matchLabels: { app: "web" } }, portLevelMtls: { "9090": { mode: "STRICT" } } }),
  ];
  const p = predict(objects);
  const probe = find(p, "client.legacy", "web.app:80");
  t.is(probe.code, 0);
  t.is(probe.target.targetPort, 9090);
  t.regex(probe.reason, /STRICT at port 9090/);
});

test("a Service with no matching workload: 503 from a sidecar, 000 from a plain client", (t) => {
  const objects = [...demo(), service("foo", "ghost", { app: "ghost" }, [{ port: 80 }])];
  const p = predict(objects);
  t.is(at(p, "sleep.foo", "ghost.foo:80"), "503");
  t.is(at(p, "sleep.legacy", "ghost.foo:80"), "000");
  t.regex(find(p, "sleep.foo", "ghost.foo:80").reason, /selects no running workload/);
});

const owner = (kind: string, name: string) => [{ apiVersion: "apps/v1", kind, name, controller: true }];

test("bare Pods are workloads; Pods owned by a controller in the input and Deployments scaled to 0 are not clients", (t) => {
  const bare: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "probe", namespace: "foo", labels: { run: "probe" } }, spec: { containers: [{ name: "c", image: "x" }] } };
  const rs: KubeObject = { ...deployment("foo", "sleep-x", { labels: { app: "sleep" } }), kind: "ReplicaSet", metadata: { name: "sleep-x", namespace: "foo", ownerReferences: owner("Deployment", "sleep") } as KubeObject["metadata"] };
  const owned: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "sleep-abc", namespace: "foo", labels: { app: "sleep" }, ownerReferences: [{ kind: "ReplicaSet", name: "sleep-x" }] } as KubeObject["metadata"], spec: { containers: [] } };
  const scaled = deployment("bar", "idle", { labels: { app: "idle" } }, 0);
  const p = predict([...demo(), bare, rs, owned, scaled]);
  const froms = new Set(p.probes.map((x) => x.from));
  t.true(froms.has("probe.foo"));
  t.false(froms.has("sleep-abc.foo"));
  t.false(froms.has("sleep-x.foo"));
  t.false(froms.has("idle.bar"));
  t.is(at(p, "probe.foo", "httpbin.bar:8000"), "200 mtls");
});

/** A workload of `kind` whose pod template has label app=<name>, in namespace "shop". */
function workloadOf(kind: string, name: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: "x" }] } };
  const apiVersion = kind === "Job" || kind === "CronJob" ? "batch/v1" : kind === "ReplicationController" || kind === "Pod" ? "v1" : "apps/v1";
  const spec = kind === "Pod" ? template.spec : kind === "CronJob" ? { schedule: "* * * * *", jobTemplate: { spec: { template } }, ...extra } : { template, ...extra };
  const metadata = kind === "Pod" ? { ...template.metadata, name, namespace: "shop", ...meta } : { name, namespace: "shop", ...meta };
  return { apiVersion, kind, metadata, spec, ...(kind === "Pod" ? extra : {}) } as KubeObject;
}

const SHOP: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop", labels: { "istio-injection": "enabled" } } };

test("every workload kind's pod template is read: StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Pod", (t) => {
  const kinds = ["StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "Pod"];
  const objects = [...demo(), SHOP, ...kinds.map((k) => workloadOf(k, k.toLowerCase())), service("shop", "db", { app: "statefulset" }, [{ port: 5432 }])];
  const p = predict(objects);
  const froms = new Set(p.probes.map((x) => x.from));
  for (const k of kinds) t.true(froms.has(`${k.toLowerCase()}.shop`), k);
  t.is(at(p, "sleep.foo", "db.shop:5432"), "200 mtls", "the StatefulSet's pod is the Service's endpoint, with a sidecar");
  t.is(at(p, "cronjob.shop", "httpbin.foo:8000"), "200 mtls", "the CronJob's jobTemplate.spec.template is read");
});

test("workload kinds with no running pod are not clients: replicas 0, suspended Job or CronJob, finished Pod", (t) => {
  const objects = [
    ...demo(),
    SHOP,
    workloadOf("StatefulSet", "db", { replicas: 0 }),
    workloadOf("Job", "job", { suspend: true }),
    workloadOf("CronJob", "cron", { suspend: true }),
    workloadOf("Pod", "done", { status: { phase: "Succeeded" } }),
    workloadOf("DaemonSet", "agent"),
  ];
  const froms = new Set(predict(objects).probes.map((x) => x.from));
  t.deepEqual(["db", "job", "cron", "done", "agent"].filter((n) => froms.has(`${n}.shop`)), ["agent"]);
});

test("objects made by a controller in the input count once (kubectl get -A -o yaml exports them all)", (t) => {
  const objects = [
    ...demo(),
    SHOP,
    workloadOf("Deployment", "web"),
    workloadOf("ReplicaSet", "web-5d4f8", {}, { ownerReferences: owner("Deployment", "web") }),
    workloadOf("Pod", "web-5d4f8-abcde", {}, { ownerReferences: owner("ReplicaSet", "web-5d4f8") }),
    // Exported without its ReplicaSet: the pod-template-hash names the Deployment.
    workloadOf("Pod", "web-77aa1-fghij", {}, { labels: { app: "web", "pod-template-hash": "77aa1" }, ownerReferences: owner("ReplicaSet", "web-77aa1") }),
    workloadOf("CronJob", "backup"),
    workloadOf("Job", "backup-2890", {}, { ownerReferences: owner("CronJob", "backup") }),
    workloadOf("Pod", "backup-2890-xyz", {}, { ownerReferences: owner("Job", "backup-2890") }),
    workloadOf("StatefulSet", "db"),
    workloadOf("Pod", "db-0", {}, { ownerReferences: owner("StatefulSet", "db") }),
    // Its controller is not in the input: the Pod is all there is of the workload.
    workloadOf("Pod", "orphan-0", {}, { ownerReferences: owner("StatefulSet", "orphan") }),
    service("shop", "web", { app: "web" }, [{ port: 80 }]),
  ];
  const p = predict(objects);
  t.deepEqual([...new Set(p.probes.map((x) => x.from))].filter((f) => f.endsWith(".shop")).sort(), ["backup.shop", "db.shop", "orphan-0.shop", "web.shop"]);
  const web = buildModel(objects).servicePorts.find((sp) => sp.id === "web.shop:80");
  t.deepEqual(web?.endpoints.map((e) => e.workload.id), ["web.shop"]);
});

test("every bad Service is reported, one error per problem", (t) => {
  const e = t.throws(() =>
    predict([
      ...demo(),
      service("foo", "a", { app: "sleep" }, [{ port: 0 }, { port: 80, targetPort: true }]),
      service("bar", "b", { app: "sleep" }, []),
    ]),
  );
  t.true(e instanceof ModelInputErrors && e instanceof ModelInputError, "still a ModelInputError for callers catching one");
  t.deepEqual((e as ModelInputErrors).errors.map((x) => x.message), [
    "Service foo/a: spec.ports[0].port must be 1..65535, found 0",
    "Service foo/a: spec.ports[1].targetPort must be a number or a port name, found true",
    "Service bar/b: spec.ports must list at least one port",
  ]);
});

test("two endpoints with different outcomes: the failing one is reported and the reason says so", (t) => {
  const objects = [
    ...demo(),
    deployment("foo", "httpbin-v2", { labels: { app: "httpbin", version: "v2" } }),
    pa("foo", "v2", { selector: { matchLabels: { version: "v2" } }, mtls: { mode: "STRICT" } }),
  ];
  const probe = find(predict(objects), "sleep.legacy", "httpbin.foo:8000");
  t.is(probe.code, 0);
  t.regex(probe.reason, /^endpoints differ, httpbin-v2\.foo: /);
});

test("mesh config: a custom rootNamespace moves mesh-level policy", (t) => {
  const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "rootNamespace: istio-config\n" } };
  t.is(at(predict([...demo(), cm, pa("istio-system", "default", { mtls: { mode: "STRICT" } })]), "sleep.legacy", "httpbin.foo:8000"), "200");
  t.is(at(predict([...demo(), cm, pa("istio-config", "default", { mtls: { mode: "STRICT" } })]), "sleep.legacy", "httpbin.foo:8000"), "000");
});

test("MODEL_KINDS lists what the model reads; other kinds are ignored", (t) => {
  for (const k of ["PeerAuthentication", "DestinationRule", "RequestAuthentication", "AuthorizationPolicy", "Service", "Deployment", "Pod", "Namespace", "ConfigMap"]) {
    t.true((MODEL_KINDS as readonly string[]).includes(k), k);
  }
  const other: KubeObject = { apiVersion: "networking.istio.io/v1", kind: "VirtualService", metadata: { name: "x", namespace: "foo" }, spec: { nonsense: true } };
  t.is(predict([...demo(), other]).probes.length, 18);
});

test("malformed known objects throw ModelInputError naming the object, the value and what is allowed", (t) => {
  const bad = (o: KubeObject) => t.throws(() => predict([...demo(), o]), { instanceOf: ModelInputError });
  let e = bad(pa("foo", "default", { mtls: { mode: "STRICTER" } }));
  t.is(e?.message, 'PeerAuthentication foo/default: spec.mtls.mode is "STRICTER"; allowed: UNSET, DISABLE, PERMISSIVE, STRICT');
  e = bad(pa("foo", "ports", { portLevelMtls: { "8080": { mode: "STRICT" } } }));
  t.regex(e!.message, /^PeerAuthentication foo\/ports: spec\.portLevelMtls requires a non-empty spec\.selector/);
  e = bad(pa("foo", "ports", { selector: { matchLabels: { app: "x" } }, portLevelMtls: { "0": { mode: "STRICT" } } }));
  t.regex(e!.message, /allowed: 1\.\.65535/);
  e = bad(pa("foo", "ports", { selector: { matchLabels: { app: "x" } }, portLevelMtls: {} }));
  t.regex(e!.message, /at least one port/);
  e = bad({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "d", namespace: "foo" }, spec: { host: "x", trafficPolicy: { tls: { mode: "ON" } } } });
  t.regex(e!.message, /^DestinationRule foo\/d: spec\.trafficPolicy\.tls\.mode is "ON"; allowed: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL/);
  e = bad({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "a", namespace: "foo" }, spec: { action: "PERMIT" } });
  t.regex(e!.message, /^AuthorizationPolicy foo\/a: spec\.action is "PERMIT"; allowed: ALLOW, DENY, AUDIT, CUSTOM/);
  e = bad({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "enableAutoMtls: maybe" } });
  t.regex(e!.message, /^ConfigMap istio-system\/istio: mesh\.enableAutoMtls must be true or false, found "maybe"/);
  e = bad({ apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "foo" }, spec: { selector: { a: "b" }, ports: [{ port: 70000 }] } });
  t.regex(e!.message, /^Service foo\/s: spec\.ports\[0\]\.port must be 1\.\.65535, found 70000/);
});
