/**
 * `istio-mtls plan` over the project's own stack files: what it lists and predicts agrees with
 * the stack config through planStack.
 */
import test from "ava";
import { join } from "node:path";
import { loadStackConfigFile } from "../../config";
import { PROJECT_DIR, runPlan } from "../../cli/commands/plan";
import { planStack } from "../../mesh/plan";
import { predict } from "../../mesh/predict";

interface PlanJson {
  resources: { type: string; kind: string; namespace: string; name: string }[];
  probes: { from: string; to: string; code: number; mtls: boolean }[];
  violations: { policy: string; level: string; message: string }[];
}
/** One render per stack, through the command's own entry (default policy config included). */
const plans = new Map<string, Promise<{ json: PlanJson; exitCode: number }>>();
const planOf = (stack: string) => {
  if (!plans.has(stack)) {
    plans.set(stack, runPlan({ stack, format: "json", failOn: "mandatory" }).then((r) => ({ json: JSON.parse(r.output) as PlanJson, exitCode: r.exitCode })));
  }
  return plans.get(stack)!;
};
const cells = (probes: { from: string; to: string; code: number; mtls: boolean }[]) => probes.map((p) => `${p.from} → ${p.to}: ${p.code}${p.mtls ? " mTLS" : ""}`).sort();

for (const stack of ["dev", "prod"]) {
  test(`${stack}: the matrix predicted from the recorded resources is the one the stack's builders give`, async (t) => {
    const { json } = await planOf(stack);
    const config = loadStackConfigFile(join(PROJECT_DIR, `Pulumi.${stack}.yaml`));
    const fromBuilders = predict(planStack(config).model, { from: planStack(config).probeClients });
    t.deepEqual(cells(json.probes), cells(fromBuilders.probes));
  });
}

test("dev: Istio, the CA, the demo and its policies are planned", async (t) => {
  const keys = (await planOf("dev")).json.resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`);
  for (const k of ["Release istio-system/istiod", "PeerAuthentication foo/default", "PeerAuthentication bar/httpbin", "DestinationRule legacy/httpbin-legacy", "Deployment legacy/sleep"]) {
    t.true(keys.includes(k), `${k} in ${keys.join(", ")}`);
  }
  t.false(keys.some((k) => k.startsWith("istio-mtls:")), "components are not resources to create");
});

test("prod: mesh-wide STRICT, no demo: the probe clients and the probe, no cell predicted before apply, nothing mandatory", async (t) => {
  const { json, exitCode } = await planOf("prod");
  t.true(json.resources.some((r) => r.kind === "PeerAuthentication" && r.namespace === "istio-system" && r.name === "default"));
  t.deepEqual(
    json.resources.filter((r) => r.name === "istio-mtls-probe" || r.kind === "ConnectivityProbe").map((r) => `${r.kind} ${r.namespace}/${r.name}`),
    [
      "ConnectivityProbe /connectivity",
      "Deployment istio-mtls-probe/istio-mtls-probe",
      "Deployment shop/istio-mtls-probe",
      "Namespace /istio-mtls-probe",
      "ServiceAccount istio-mtls-probe/istio-mtls-probe",
      "ServiceAccount shop/istio-mtls-probe",
    ],
  );
  t.deepEqual((json as unknown as { probeClients: unknown[] }).probeClients, [
    { from: "istio-mtls-probe.shop", sidecar: true, sidecarWhy: "namespace label istio-injection=enabled", identity: "spiffe://cluster.local/ns/shop/sa/istio-mtls-probe" },
    { from: "istio-mtls-probe.istio-mtls-probe", sidecar: false, sidecarWhy: "namespace label istio-injection=disabled", identity: "spiffe://cluster.local/ns/istio-mtls-probe/sa/istio-mtls-probe" },
  ]);
  t.is(json.probes.length, 0);
  t.deepEqual(json.violations.filter((v) => v.level === "mandatory"), []);
  t.is(exitCode, 0);
});

test("dev reads policies/config/dev.json: its exception findings are advisory, so plan exits 0", async (t) => {
  const { json, exitCode } = await planOf("dev");
  t.true(json.violations.every((v) => v.level === "advisory"), JSON.stringify(json.violations));
  t.is(exitCode, 0);
});
