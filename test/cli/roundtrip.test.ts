/**
 * The builders' manifests written as YAML and read back: same objects, no schema complaint, same
 * prediction through the command line as from the objects themselves. Plus invariants of reading
 * and diffing for arbitrary inputs.
 */
import test from "ava";
import fc from "fast-check";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli } from "../../cli/program";
import { planStack } from "../../mesh/plan";
import { stackSettings } from "../helpers/settings";
import { cellText, diffPredictions } from "../../mesh/matrix";
import { predict } from "../../mesh/predict";
import { DEFAULT_REQUEST, type Cell, type Prediction } from "../../mesh/prediction";
import { validateSourceObjects } from "../../mesh/schema";
import type { KubeObject } from "../../mesh/types";
import { readYamlText } from "../../mesh/yaml";

const input = stackSettings({
  namespaces: [
    { name: "foo", injection: true },
    { name: "bar", injection: true },
    { name: "legacy", injection: false },
  ],
  demo: { enabled: true },
  mtls: {
    mesh: { mode: "PERMISSIVE" },
    namespaces: [{ namespace: "foo", mode: "STRICT" }],
    workloads: [{ namespace: "bar", name: "httpbin", selector: { app: "httpbin" }, mode: "STRICT", portLevelMtls: { 8080: "DISABLE" } }],
  },
  destinationRules: [
    { namespace: "bar", name: "httpbin", host: "httpbin.bar.svc.cluster.local", mode: "ISTIO_MUTUAL", portLevel: [{ port: 8000, mode: "DISABLE" }], exportTo: ["*"] },
  ],
  endUserAuth: [
    {
      namespace: "foo",
      name: "jwt",
      selector: { app: "httpbin" },
      issuer: "testing@secure.istio.io",
      jwksUri: "https://example.com/jwks.json",
      audiences: ["httpbin"],
      requireToken: true,
      paths: ["/headers"],
    },
  ],
  authorization: [{ namespace: "bar", name: "only-foo", selector: { app: "httpbin" }, namespaces: ["foo"] }],
});

function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o)).join("---\n");
}

test("the builders' manifests read back unchanged and pass the Istio schemas", (t) => {
  const objects = planStack(input).model;
  t.true(objects.some((o) => o.kind === "DestinationRule") && objects.some((o) => o.kind === "RequestAuthentication"));
  const read = readYamlText(toYaml(objects), "desired.yaml");
  t.deepEqual(
    read.map((so) => so.object),
    objects.map((o) => JSON.parse(JSON.stringify(o)) as KubeObject),
  );
  t.deepEqual(validateSourceObjects(read).map((e) => e.message), []);
});

test("predict on the written manifests equals predict on the objects", async (t) => {
  const objects = planStack(input).model;
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-roundtrip-"));
  try {
    const file = join(dir, "desired.yaml");
    writeFileSync(file, toYaml(objects));
    let stdout = "";
    let stderr = "";
    const code = await runCli(["predict", "-f", "json", file], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    t.is(code, 0, stderr);
    t.deepEqual(JSON.parse(stdout), JSON.parse(JSON.stringify(predict(objects))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
const arbObject: fc.Arbitrary<KubeObject> = fc.record({
  apiVersion: fc.constantFrom("v1", "apps/v1", "example.com/v1"),
  kind: fc.constantFrom("ConfigMap", "Service", "Widget"),
  metadata: fc.record({ name, namespace: name, labels: fc.dictionary(name, fc.string({ maxLength: 8 }), { maxKeys: 3 }) }),
  data: fc.dictionary(name, fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()), { maxKeys: 3 }),
});

// node:assert inside the properties, so that fast-check sees a failure, shrinks it and reports it.
test("property: any list of objects written as multi-document YAML reads back in order, each at its document's line", (t) => {
  t.notThrows(() => fc.assert(
    fc.property(fc.array(arbObject, { maxLength: 6 }), (objects) => {
      const docs = objects.map((o) => stringify(o));
      const text = docs.join("---\n");
      const read = readYamlText(text, "p.yaml");
      // Plain objects on both sides (fast-check's dictionaries have no prototype).
      assert.deepEqual(
        read.map((so) => so.object),
        JSON.parse(JSON.stringify(objects)),
      );
      let line = 1;
      docs.forEach((d, i) => {
        assert.equal(read[i]!.position.line, line);
        line += d.split("\n").length; // the document's lines, then the `---` line
      });
    }),
    { numRuns: 60 },
  ));
});

const arbCell: fc.Arbitrary<Pick<Cell, "code" | "mtls" | "reason">> = fc.record({
  code: fc.constantFrom(0, 200, 401, 403, 503),
  mtls: fc.boolean(),
  reason: fc.constantFrom("a", "b"),
});

/** A prediction over a fixed set of rows and columns, each cell present or not. */
const arbPrediction: fc.Arbitrary<Prediction> = fc
  .array(fc.option(arbCell, { nil: undefined }), { minLength: 6, maxLength: 6 })
  .map((cells) => ({
    probes: cells.flatMap((c, i) =>
      c
        ? [{ ...c, from: `sleep.ns${i % 2}`, to: `httpbin.ns${Math.floor(i / 2)}:8000`, request: DEFAULT_REQUEST, client: { namespace: `ns${i % 2}`, name: "sleep", labels: {}, serviceAccount: "sleep", sidecar: true }, target: { namespace: `ns${Math.floor(i / 2)}`, service: "httpbin", port: 8000, targetPort: 8080 } }]
        : [],
    ),
  }));

test("property: diff has no change against itself, is symmetric in size, and lists exactly the differing cells", (t) => {
  t.notThrows(() => fc.assert(
    fc.property(arbPrediction, arbPrediction, (a, b) => {
      assert.deepEqual(diffPredictions(a, a).changes, []);
      const ab = diffPredictions(a, b);
      const ba = diffPredictions(b, a);
      assert.equal(ab.changes.length, ba.changes.length);
      const cells = (p: Prediction) => new Map(p.probes.map((o) => [`${o.from} ${o.to}`, cellText(o)]));
      const before = cells(a);
      const after = cells(b);
      const keys = new Set([...before.keys(), ...after.keys()]);
      const differing = [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
      assert.deepEqual(ab.changes.map((c) => `${c.from} ${c.to}`).sort(), differing);
      assert.equal(ab.changes.length + ab.unchanged, keys.size);
    }),
    { numRuns: 200 },
  ));
});
