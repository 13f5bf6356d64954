/**
 * A stack on an Istio it does not install (istio.install false): the mesh settings it declares
 * reach plan and the policy pack the same way they reach the stack's own prediction, so the three
 * cannot disagree (auto mTLS off, a custom root namespace).
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { PROJECT_DIR } from "../../cli/commands/plan";
import { buildPlan } from "../../cli/plan/build";
import { loadStackConfigFile } from "../../config";
import { planStack } from "../../mesh/plan";
import { predict } from "../../mesh/predict";

function stackFile(overrides: Record<string, unknown>): string {
  const dev = parse(readFileSync(join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
  const file = join(mkdtempSync(join(tmpdir(), "preinstalled-")), "Pulumi.dev.yaml");
  writeFileSync(file, stringify({ config: { ...dev.config, ...overrides } }));
  return file;
}

const cells = (probes: readonly { from: string; to: string; code: number; mtls: boolean }[]) =>
  probes.map(({ from, to, code, mtls }) => `${from} → ${to}: ${code}${mtls ? " mTLS" : ""}`).sort();

test("auto mTLS off on a preinstalled Istio: plan predicts what the stack itself predicts", async (t) => {
  const file = stackFile({
    "istio-mtls:istio": { install: false, version: "1.28.1", namespace: "istio-system", mesh: { trustDomain: "cluster.local", enableAutoMtls: false } },
    "istio-mtls:certManager": { install: false },
    "istio-mtls:ca": { type: "istiod" },
  });
  const config = loadStackConfigFile(file);
  const own = predict(planStack(config).model, { from: planStack(config).probeClients });
  const plan = await buildPlan({ stack: "dev", configFile: file, projectDir: PROJECT_DIR, policyConfig: {} });
  t.deepEqual(cells(plan.prediction.probes), cells(own.probes));
  // Without auto mTLS, sidecar clients send plaintext: foo's STRICT refuses them.
  t.true(cells(plan.prediction.probes).includes("sleep.bar → httpbin.foo:8000: 503"), cells(plan.prediction.probes).join("\n"));
});

test("mesh STRICT in a custom root namespace on a preinstalled Istio satisfies production-mesh-strict", async (t) => {
  const file = stackFile({
    "istio-mtls:production": true,
    "istio-mtls:istio": { install: false, version: "1.28.1", namespace: "istio-system", mesh: { rootNamespace: "mesh-root", trustDomain: "cluster.local" } },
    "istio-mtls:certManager": { install: false },
    "istio-mtls:ca": { type: "istiod" },
    "istio-mtls:namespaces": [{ name: "foo", injection: true }, { name: "bar", injection: true }],
    "istio-mtls:mtls": { mesh: "STRICT" },
    "istio-mtls:destinationRules": [],
    "istio-mtls:intent": [],
  });
  const plan = await buildPlan({ stack: "dev", configFile: file, projectDir: PROJECT_DIR, policyConfig: {} });
  t.deepEqual(plan.violations.filter((v) => v.policy === "production-mesh-strict"), []);
});
