import test from "ava";
import { installRecordingMocks, type Recorder } from "../helpers/mocks";

let rec: Recorder;
let MeshNamespace: typeof import("../../components/namespace").MeshNamespace;
let DemoWorkloads: typeof import("../../components/demo-workloads").DemoWorkloads;
let HttpbinIngress: typeof import("../../components/ingress").HttpbinIngress;
test.before(async () => {
  rec = await installRecordingMocks();
  ({ MeshNamespace } = await import("../../components/namespace"));
  ({ DemoWorkloads } = await import("../../components/demo-workloads"));
  ({ HttpbinIngress } = await import("../../components/ingress"));
});

test.serial("MeshNamespace: a typed Namespace with the injection label", async (t) => {
  const ns = new MeshNamespace("foo", { name: "foo", injection: true });
  new MeshNamespace("canary", { name: "canary", injection: true, revision: "1-28" });
  await rec.settle();
  t.is(ns.namespaceName, "foo");
  t.deepEqual(rec.get("kubernetes:core/v1:Namespace", "foo").inputs, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "foo", labels: { "istio-injection": "enabled" } },
  });
  t.deepEqual(rec.get("kubernetes:core/v1:Namespace", "canary").inputs.metadata.labels, { "istio.io/rev": "1-28" });
  t.regex(rec.get("kubernetes:core/v1:Namespace", "foo").parent, /istio-mtls:namespace:MeshNamespace::foo$/);
});

test.serial("MeshNamespace: an exception becomes the annotations the policy pack checks in production", async (t) => {
  new MeshNamespace("legacy-approved", { name: "legacy-approved", injection: false, exception: { reason: "legacy clients", expires: "2027-02-15" } });
  await rec.settle();
  t.deepEqual(rec.get("kubernetes:core/v1:Namespace", "legacy-approved").inputs.metadata, {
    name: "legacy-approved",
    labels: { "istio-injection": "disabled" },
    annotations: { "istio-mtls.dev/exception-expires": "2027-02-15", "istio-mtls.dev/exception-reason": "legacy clients" },
  });
});

test.serial("DemoWorkloads: typed ServiceAccounts, Service and Deployments, each after the namespace", async (t) => {
  const ns = new MeshNamespace("bar", { name: "bar", injection: true });
  new DemoWorkloads("demo-bar", { namespace: "bar" }, { dependsOn: [ns] });
  await rec.settle();
  const kids = rec.registrations.filter((r) => r.parent.endsWith("istio-mtls:demo:DemoWorkloads::demo-bar"));
  // Registration order is asynchronous; the set is what matters.
  t.deepEqual(kids.map((k) => `${k.type}::${k.name}`).sort(), [
    "kubernetes:apps/v1:Deployment::bar/httpbin",
    "kubernetes:apps/v1:Deployment::bar/sleep",
    "kubernetes:core/v1:Service::bar/httpbin",
    "kubernetes:core/v1:ServiceAccount::bar/httpbin",
    "kubernetes:core/v1:ServiceAccount::bar/sleep",
  ]);
  // dependsOn a component expands to its children: the Namespace itself.
  const nsUrn = rec.get("kubernetes:core/v1:Namespace", "bar").urn;
  for (const k of kids) t.deepEqual(k.dependencies, [nsUrn]);
  t.is(rec.get("kubernetes:core/v1:Service", "bar/httpbin").inputs.spec.ports[0].targetPort, 8080);
  // What reaches the cluster: httpbin's program named (its image has only a CMD).
  t.deepEqual(rec.get("kubernetes:apps/v1:Deployment", "bar/httpbin").inputs.spec.template.spec.containers[0].command, ["/bin/go-httpbin"]);
});

test.serial("invalid namespace names throw before anything is registered", async (t) => {
  await rec.settle();
  const before = rec.registrations.length;
  t.throws(() => new MeshNamespace("Bad", { name: "Bad" }), { message: /namespace name: "Bad" is not a valid name/ });
  t.throws(() => new DemoWorkloads("demo-bad", { namespace: "a_b" }), { message: /"a_b" is not a valid name/ });
  await rec.settle();
  t.is(rec.registrations.length, before);
});

test.serial("HttpbinIngress with TLS: Certificate first (waits Ready), then Gateway, then VirtualService", async (t) => {
  const ing = new HttpbinIngress("ingress", { namespace: "foo", gatewayNamespace: "istio-system", host: "httpbin.example.com", tls: true });
  await rec.settle();
  const kids = rec.registrations.filter((r) => r.parent.endsWith("istio-mtls:ingress:HttpbinIngress::ingress"));
  t.deepEqual(kids.map((k) => `${k.type}::${k.name}`), [
    "kubernetes:cert-manager.io/v1:Certificate::istio-system/httpbin-ingress",
    "kubernetes:networking.istio.io/v1:Gateway::foo/httpbin-gateway",
    "kubernetes:networking.istio.io/v1:VirtualService::foo/httpbin",
  ]);
  t.deepEqual(kids[0].inputs.metadata.annotations, { "pulumi.com/waitFor": "condition=Ready" });
  t.deepEqual(kids[1].dependencies, [kids[0].urn]);
  t.deepEqual(kids[2].dependencies, [kids[1].urn]);
  t.is(ing.host, "httpbin.example.com");
  t.throws(() => new HttpbinIngress("ingress-bad", { namespace: "foo", gatewayNamespace: "istio-system", host: "*", tls: true }), {
    message: /istio-mtls:ingress\.host: "\*" with tls: true/,
  });
});
