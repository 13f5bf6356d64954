/**
 * `predict --kube` against a local fake API server holding the demo as a live cluster holds it
 * (Deployments with their ReplicaSets and Pods): the same output as `predict` on the same objects
 * as files, in every format; the usage rules of --kube; cluster errors as exit 2 without a stack.
 */
import test from "ava";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli } from "../../../cli/program";
import type { KubeObject } from "../../../mesh/types";
import { readYamlPaths } from "../../../mesh/yaml";
import { readCluster } from "../../../probe/cluster-read";
import { asLiveCluster, startFakeApiServer, type FakeApiServer } from "../../helpers/fake-api-server";

const SCENARIOS = join(__dirname, "..", "..", "fixtures", "scenarios");
const FILES = [join(SCENARIOS, "demo.yaml"), join(SCENARIOS, "001-mesh-strict-dr-istio-mutual", "policies.yaml")];
const declared = readYamlPaths(FILES).map((so) => so.object);

let api: FakeApiServer;
let dir: string;
let kubeconfig: string;

test.before(async () => {
  const extra: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "istio-system" } },
    { apiVersion: "networking.istio.io/v1", kind: "Gateway", metadata: { name: "public", namespace: "foo" }, spec: { selector: { istio: "ingressgateway" } } } as KubeObject,
  ];
  api = await startFakeApiServer({ objects: asLiveCluster([...declared, ...extra]) });
  dir = mkdtempSync(join(tmpdir(), "predict-kube-"));
  kubeconfig = join(dir, "config");
  writeFileSync(kubeconfig, api.kubeconfig());
});
test.after.always(() => api?.close());

async function cli(args: string[]) {
  const r = { stdout: "", stderr: "", code: -1 };
  r.code = await runCli(args, { stdout: (s) => (r.stdout += s), stderr: (s) => (r.stderr += s) });
  return r;
}

const SCOPE = ["-n", "foo,bar", "--namespace", "legacy"];

test.serial("predict --kube prints what predict prints for the same objects as files, in every format", async (t) => {
  const read = await readCluster({ kubeconfig }, { namespaces: ["foo", "bar", "legacy"] });
  const file = join(dir, "cluster.yaml");
  writeFileSync(file, read.objects.map((o) => stringify(o)).join("---\n"));
  for (const format of ["table", "markdown", "json"]) {
    const live = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, ...SCOPE, "-f", format]);
    t.is(live.code, 0, live.stderr);
    const files = await cli(["predict", "-f", format, file]);
    t.is(files.code, 0, files.stderr);
    t.is(live.stdout, files.stdout, format);
    // And what the declared manifests predict: the ReplicaSets and Pods count once, as their Deployment.
    t.is(live.stdout, (await cli(["predict", "-f", format, ...FILES])).stdout, format);
  }
  const table = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, ...SCOPE, "--from", "sleep.legacy"]);
  t.regex(table.stdout, /^sleep\.legacy +000 \[1\] +000 \[1\] +200 \[2\]$/m);
  t.regex(table.stderr, /Gateway foo\/public configures only Istio gateways/);
});

test.serial("predict --kube in a namespace without policies predicts from the root namespace's", async (t) => {
  const r = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, "-n", "foo", "-f", "json"]);
  t.is(r.code, 0, r.stderr);
  const probes = (JSON.parse(r.stdout) as { probes: { from: string; to: string; reason: string }[] }).probes;
  t.deepEqual(probes.map((p) => `${p.from} → ${p.to}`), ["httpbin.foo → httpbin.foo:8000", "sleep.foo → httpbin.foo:8000"]);
  // PeerAuthentication and DestinationRule istio-system/default are the root namespace's, read although not in scope.
  for (const p of probes) t.is(p.reason, "sidecar client, mTLS (DestinationRule istio-system/default ISTIO_MUTUAL) → STRICT at port 8080 (PeerAuthentication istio-system/default)");
});

test("usage: --kube with file arguments, neither, kube flags without --kube, -A with -n: exit 2", async (t) => {
  const cases: [string[], RegExp][] = [
    [["predict", "--kube", FILES[0]!], /--kube reads the objects from the cluster; it does not combine with file arguments/],
    [["predict"], /predict needs FILE_OR_DIR arguments, or --kube/],
    [["predict", "-n", "foo", FILES[0]!], /--namespace goes with --kube/],
    [["predict", "--kube", "-A", "-n", "foo"], /option '-A, --all-namespaces' cannot be used with option '-n, --namespace/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(args);
    t.is(r.code, 2, args.join(" "));
    t.regex(r.stderr, re);
  }
});

test.serial("cluster errors are exit 2 with the message alone: a missing namespace, an unknown --context, 403", async (t) => {
  const missing = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, "-n", "shop"]);
  t.is(missing.code, 2);
  t.is(missing.stderr, `error: namespace shop not found in context "local" (check the name, or list them: kubectl get namespaces --context local)\n`);
  const context = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, "--context", "prod"]);
  t.is(context.code, 2);
  t.regex(context.stderr, /^error: --context: "prod" is not a context of the --kubeconfig file .*; allowed: local\n$/);
  api.world.forbid = ["list services bar"];
  try {
    const denied = await cli(["predict", "--kube", "--kubeconfig", kubeconfig, ...SCOPE]);
    t.is(denied.code, 2);
    t.regex(denied.stderr, /^error: forbidden: cannot list services in namespace bar .*\{apiGroups: \[""\], resources: \["services"\], verbs: \["list"\]\}/);
    t.is(denied.stdout, "");
  } finally {
    delete api.world.forbid;
  }
});
