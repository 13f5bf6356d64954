/**
 * The dev stack's intent is what the model predicts for the dev stack's objects: the reviewed
 * expectations in Pulumi.dev.yaml must hold before a PR merges (the policy pack checks the same).
 */
import { join } from "node:path";
import test from "ava";
import { loadStackConfigFile } from "../../config";
import { planStack } from "../../mesh/plan";
import { validateMeshCa } from "../../mesh/builders/mesh-ca";
import { predict } from "../../mesh/predict";

const dev = loadStackConfigFile(join(__dirname, "..", "..", "Pulumi.dev.yaml"));
const prediction = predict(planStack(dev).model);
const cell = (from: string, to: string) => {
  const p = prediction.probes.find((o) => o.from === from && o.to === to);
  if (!p) throw new Error(`no predicted cell ${from} → ${to}`);
  return p;
};

test("every intent in Pulumi.dev.yaml holds in the predicted matrix", (t) => {
  t.true(dev.intent.length >= 5);
  for (const it of dev.intent) {
    const p = cell(it.from, it.to);
    const ok = it.expect === "mtls" ? p.code === 200 && p.mtls : it.expect === "allowed" ? p.code === 200 : p.code !== 200;
    t.true(ok, `${it.from} → ${it.to} expects ${it.expect}; predicted ${p.code}${p.mtls ? " mtls" : ""}: ${p.reason}`);
  }
});

test("the dev matrix: foo STRICT refuses legacy, port-level PERMISSIVE keeps httpbin.bar open, legacy served in plaintext", (t) => {
  const show = (from: string, to: string) => {
    const p = cell(from, to);
    return `${p.code}${p.mtls ? " mtls" : ""}`;
  };
  const matrix: Record<string, string> = {};
  for (const from of ["foo", "bar", "legacy"]) {
    for (const to of ["foo", "bar", "legacy"]) matrix[`sleep.${from} → httpbin.${to}`] = show(`sleep.${from}`, `httpbin.${to}:8000`);
  }
  t.deepEqual(matrix, {
    "sleep.foo → httpbin.foo": "200 mtls",
    "sleep.foo → httpbin.bar": "200 mtls",
    "sleep.foo → httpbin.legacy": "200",
    "sleep.bar → httpbin.foo": "200 mtls",
    "sleep.bar → httpbin.bar": "200 mtls",
    "sleep.bar → httpbin.legacy": "200",
    "sleep.legacy → httpbin.foo": "0",
    "sleep.legacy → httpbin.bar": "200",
    "sleep.legacy → httpbin.legacy": "200",
  });
});

test("both stack files build with the manifest builders (their own checks agree with config.ts)", (t) => {
  const prod = loadStackConfigFile(join(__dirname, "..", "..", "Pulumi.prod.yaml"));
  for (const c of [dev, prod]) {
    t.notThrows(() => planStack(c));
    t.notThrows(() =>
      validateMeshCa({ certManagerNamespace: c.certManager.namespace, istioNamespace: c.istio.namespace, ...c.ca }),
    );
  }
  const meshPolicies = planStack(prod).model.filter((o) => o.kind === "PeerAuthentication");
  t.deepEqual(meshPolicies.map((o) => [o.metadata.namespace, o.metadata.name, (o.spec as { mtls?: { mode?: string } }).mtls?.mode]), [
    ["istio-system", "default", "STRICT"],
  ]);
});
