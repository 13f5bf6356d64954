/**
 * `istio-mtls plan --format yaml`: every object the stack applies, in apply order, as a YAML
 * stream a reviewer reads like `helm template`. The dev stack goes through the command line
 * in-process (the render itself runs in a child process), once.
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify, type Document } from "yaml";
import { runPlan } from "../../cli/commands/plan";
import type { Plan } from "../../cli/plan/build";
import { planYaml } from "../../cli/plan/format";
import type { PlanItem } from "../../mesh/plan";
import { runCli } from "../../cli/program";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, any>;
  data?: Record<string, unknown>;
}

let dev: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
const devRun = () =>
  (dev ??= (async () => {
    let stdout = "";
    let stderr = "";
    const code = await runCli(["plan", "--stack", "dev", "--format", "yaml"], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
  })());

/** The documents of a YAML stream; none for an empty one. */
function documents(text: string): Document.Parsed[] {
  const docs = parseAllDocuments(text);
  return Array.isArray(docs) ? docs : [];
}

const manifestsOf = (text: string) => documents(text).map((d) => d.toJS() as Manifest);
const devManifests = async () => manifestsOf((await devRun()).stdout);

const key = (m: Manifest) => `${m.kind} ${m.metadata.namespace ? `${m.metadata.namespace}/` : ""}${m.metadata.name}`;
const containers = (m: Manifest) => m.spec!.template.spec.containers as Record<string, any>[];

test("plan --stack dev --format yaml: a YAML stream, one document per object, each with apiVersion, kind and metadata", async (t) => {
  const { code, stdout, stderr } = await devRun();
  t.is(code, 0, stderr);
  const docs = documents(stdout);
  for (const d of docs) t.deepEqual([...d.errors, ...d.warnings], []);
  const manifests = await devManifests();
  t.is(manifests.length, docs.length);
  for (const m of manifests) {
    t.is(typeof m.apiVersion, "string", key(m));
    t.is(typeof m.kind, "string", key(m));
    t.is(typeof m.metadata.name, "string", key(m));
  }
  t.is(manifests.filter((m) => m.kind === "Deployment").length, 6 + 4, "the demo's six and the four probe clients");
  t.deepEqual(manifests.filter((m) => m.kind === "Release").map(key).sort(), [
    "Release cert-manager/cert-manager",
    "Release istio-system/istio-base",
    "Release istio-system/istiod",
  ]);
  // The probe is a Pulumi dynamic resource, not a Kubernetes object: named, not printed.
  t.regex(stdout, /^# Not Kubernetes objects, not shown: pulumi-nodejs:dynamic\/probe:ConnectivityProbe connectivity\.$/m);
  t.regex(stdout, /^# Source: kubernetes:apps\/v1:Deployment foo\/httpbin$/m);
});

test("httpbin as sent: go-httpbin started by its command with -port 8080, the images Istio's samples pin", async (t) => {
  const manifests = await devManifests();
  for (const ns of ["foo", "bar", "legacy"]) {
    const httpbin = manifests.find((m) => key(m) === `Deployment ${ns}/httpbin`)!;
    t.like(containers(httpbin)[0], { image: "docker.io/mccutchen/go-httpbin:v2.15.0", command: ["/bin/go-httpbin"], args: ["-port", "8080"] });
    const sleep = manifests.find((m) => key(m) === `Deployment ${ns}/sleep`)!;
    t.is(containers(sleep)[0].image, "docker.io/curlimages/curl:8.16.0");
  }
});

test("sleep as sent: read-only root and no writable volume (the probe script writes no file)", async (t) => {
  const sleep = (await devManifests()).find((m) => key(m) === "Deployment foo/sleep")!;
  const [c] = containers(sleep);
  t.true(c.securityContext.readOnlyRootFilesystem);
  t.is(c.volumeMounts, undefined);
  t.is(sleep.spec!.template.spec.volumes, undefined);
});

test("probe clients as sent: container probe, read-only root, no writable volume; the plaintext one in a namespace without injection", async (t) => {
  const manifests = await devManifests();
  for (const ns of ["foo", "bar", "legacy", "istio-mtls-probe"]) {
    const probe = manifests.find((m) => key(m) === `Deployment ${ns}/istio-mtls-probe`)!;
    const [c] = containers(probe);
    t.is(c.name, "probe");
    t.true(c.securityContext.readOnlyRootFilesystem);
    t.is(c.volumeMounts, undefined);
    t.is(probe.spec!.template.spec.volumes, undefined);
    t.is(probe.spec!.template.spec.serviceAccountName, "istio-mtls-probe");
  }
  const namespace = manifests.find((m) => key(m) === "Namespace istio-mtls-probe")!.metadata as { labels?: Record<string, string> };
  t.deepEqual(namespace.labels, { "istio-injection": "disabled" });
});

test("apply order: each namespace before what lives in it, the CA and Helm releases before the workloads and policies", async (t) => {
  const manifests = await devManifests();
  const at = (k: string) => {
    const i = manifests.findIndex((m) => key(m) === k);
    if (i < 0) throw new Error(`${k} is not in the stream`);
    return i;
  };
  t.true(at("Namespace foo") < at("Deployment foo/httpbin"));
  for (const m of manifests) {
    if (m.metadata.namespace && manifests.some((n) => key(n) === `Namespace ${m.metadata.namespace}`)) {
      t.true(at(`Namespace ${m.metadata.namespace}`) < at(key(m)), `${key(m)} after its namespace`);
    }
  }
  t.true(at("Release cert-manager/cert-manager") < at("Certificate istio-system/cacerts"));
  t.true(at("Certificate istio-system/cacerts") < at("Release istio-system/istiod"), "istiod starts with cacerts in place");
  t.true(at("Release istio-system/istio-base") < at("Release istio-system/istiod"));
  for (const m of manifests.filter((x) => ["PeerAuthentication", "DestinationRule", "Deployment"].includes(x.kind))) {
    for (const release of ["Release cert-manager/cert-manager", "Release istio-system/istio-base", "Release istio-system/istiod"]) {
      t.true(at(release) < at(key(m)), `${release} before ${key(m)}`);
    }
  }
});

test("Helm releases are documents naming chart, version and values, not the rendered chart", async (t) => {
  const manifests = await devManifests();
  t.deepEqual(manifests.find((m) => key(m) === "Release istio-system/istiod"), {
    apiVersion: "helm.sh/v3",
    kind: "Release",
    metadata: { name: "istiod", namespace: "istio-system" },
    spec: {
      chart: "istiod",
      version: "1.28.1",
      repositoryOpts: { repo: "https://istio-release.storage.googleapis.com/charts" },
      values: { global: { istioNamespace: "istio-system" }, meshConfig: { enableAutoMtls: true, rootNamespace: "istio-system", trustDomain: "cluster.local" } },
    },
  });
  t.deepEqual(manifests.find((m) => key(m) === "Release cert-manager/cert-manager"), {
    apiVersion: "helm.sh/v3",
    kind: "Release",
    metadata: { name: "cert-manager", namespace: "cert-manager" },
    spec: { chart: "cert-manager", version: "v1.19.1", values: { crds: { enabled: true } } },
  });
  t.false(manifests.some((m) => m.kind === "ValidatingWebhookConfiguration" || m.kind === "CustomResourceDefinition"), "no chart templates");
});

test("strings stay strings for YAML 1.1 readers (kubectl): an unquoted yes would be a boolean", (t) => {
  const cm: PlanItem = { id: "ConfigMap foo/flags", object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flags", namespace: "foo" }, data: { fixed: "yes" } }, after: [] };
  const plan: Plan = { stack: "dev", resources: [], probeClients: [], prediction: { probes: [] }, violations: [], props: new Map(), applied: [cm], notices: [] };
  const text = planYaml(plan);
  t.regex(text, /# Source: kubernetes:core\/v1:ConfigMap foo\/flags\n/);
  t.regex(text, /fixed: "yes"/);
});

test("--format yaml shows one stack: with --against or --base-ref it is refused, naming the formats that can", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-yaml-"));
  const against = join(dir, "Pulumi.base.yaml");
  writeFileSync(against, readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8"));
  await t.throwsAsync(runPlan({ stack: "dev", format: "yaml", failOn: "never", against }), {
    message: "--format yaml prints one stack's objects and cannot show a change; allowed with --against or --base-ref: table, markdown, json",
  });
  await t.throwsAsync(runPlan({ stack: "dev", format: "yaml", failOn: "never", baseRef: "HEAD" }), { message: /^--format yaml prints one stack's objects and cannot show a change/ });
});

test("ingress.serviceType NodePort reaches the gateway release's service.type in the plan", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-yaml-"));
  const file = join(dir, "Pulumi.dev.yaml");
  const stack = parse(readFileSync(join(__dirname, "..", "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  stack.config["istio-mtls:ingress"] = { enabled: true, serviceType: "NodePort" };
  writeFileSync(file, stringify(stack));
  const { output } = await runPlan({ stack: "dev", config: file, format: "yaml", failOn: "never" });
  const gateway = manifestsOf(output).find((m) => key(m) === "Release istio-system/istio-ingressgateway");
  t.like(gateway?.spec, { chart: "gateway", values: { service: { type: "NodePort" } } });
});
