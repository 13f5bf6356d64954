import test from "ava";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { predict } from "../../mesh/predict";
import { demo, find, matrix, readYaml, SCENARIOS_DIR } from "./fixtures";

interface Expected {
  description: string;
  columns: string[];
  matrix: Record<string, (string | number)[]>;
}

const scenarios = readdirSync(SCENARIOS_DIR).filter((d) => statSync(join(SCENARIOS_DIR, d)).isDirectory());

test("every seed 001 and 004 scenario has a fixture", (t) => {
  t.true(scenarios.filter((s) => s.startsWith("001-")).length >= 10);
  t.true(scenarios.filter((s) => s.startsWith("004-")).length >= 4);
});

for (const name of scenarios) {
  test(`scenario ${name}: predicted matrix equals the expected one`, (t) => {
    const dir = join(SCENARIOS_DIR, name);
    const expected = parse(readFileSync(join(dir, "expected.yaml"), "utf8")) as Expected;
    const objects = [...demo(), ...readYaml(join(dir, "policies.yaml"))];
    const prediction = predict(objects);
    const want: Record<string, string[]> = {};
    for (const [row, cells] of Object.entries(expected.matrix)) want[row] = cells.map(String);
    t.deepEqual(matrix(prediction, Object.keys(want), expected.columns.map((c) => `${c}:8000`)), want, expected.description);
    // 6 clients (sleep and httpbin in three namespaces) × 3 Service ports.
    t.is(prediction.probes.length, 18);
  });
}

test("reasons name the deciding objects", (t) => {
  const dir = join(SCENARIOS_DIR, "001-mesh-strict");
  const p = predict([...demo(), ...readYaml(join(dir, "policies.yaml"))]);
  const refused = find(p, "sleep.legacy", "httpbin.foo:8000");
  t.is(refused.reason, "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication istio-system/default)");
  const ok = find(p, "sleep.foo", "httpbin.bar:8000");
  t.is(ok.clientIdentity, "spiffe://cluster.local/ns/foo/sa/sleep");
  t.is(ok.serverIdentity, "spiffe://cluster.local/ns/bar/sa/httpbin");
  t.deepEqual(ok.target, { namespace: "bar", service: "httpbin", port: 8000, targetPort: 8080 });
  t.is(ok.client.serviceAccount, "sleep");
  t.true(ok.client.sidecar);
  const toLegacy = find(p, "sleep.foo", "httpbin.legacy:8000");
  t.regex(toLegacy.reason, /no sidecar/);
  t.is(toLegacy.clientIdentity, undefined);
  t.is(toLegacy.serverIdentity, undefined);
});

test("options.from keeps only the named clients", (t) => {
  const p = predict(demo(), { from: ["sleep.legacy"] });
  t.deepEqual([...new Set(p.probes.map((x) => x.from))], ["sleep.legacy"]);
  t.is(p.probes.length, 3);
});
