/**
 * The live reader survives Pulumi's closure serializer, as the ConnectivityProbe's dynamic provider
 * captures it: serialized, loaded from its text by plain node (no tsx) in a fresh process, it
 * reads the fake API server and its errors keep their name and message.
 */
import test from "ava";
import * as pulumi from "@pulumi/pulumi";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readCluster } from "../../probe/cluster-read";
import type { KubeObject } from "../../mesh/types";
import { asLiveCluster, startFakeApiServer } from "../helpers/fake-api-server";

const ROOT = resolve(__dirname, "../..");

test("serialized readCluster reads a cluster from a fresh node process", async (t) => {
  const objects: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "foo", labels: { "istio-injection": "enabled" } } },
    { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "foo" }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80 }] } } as KubeObject,
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "foo" },
      spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web" }] } } },
    } as KubeObject,
  ];
  const api = await startFakeApiServer({ objects: asLiveCluster(objects) });
  try {
    const sf = await pulumi.runtime.serializeFunction(() => readCluster, { isFactoryFunction: true });
    const dir = mkdtempSync(join(tmpdir(), "cluster-read-serialized-"));
    writeFileSync(join(dir, "reader.js"), sf.text);
    writeFileSync(
      join(dir, "driver.cjs"),
      `const fs = require("fs");
const requireFromString = require(${JSON.stringify(join(ROOT, "node_modules/require-from-string"))});
const read = requireFromString(fs.readFileSync(${JSON.stringify(join(dir, "reader.js"))}, "utf8")).${sf.exportName};
(async () => {
  const out = [];
  for (const ns of ["foo", "missing"]) {
    try {
      const r = await read({ kubeconfig: ${JSON.stringify(api.kubeconfig())} }, { namespaces: [ns] });
      out.push({ ok: r.objects.map((o) => o.kind + " " + o.metadata.name) });
    } catch (e) { out.push({ name: e.name, message: e.message }); }
  }
  process.stdout.write(JSON.stringify(out));
})();
`,
    );
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const out = await new Promise<string>((res, rej) =>
      execFile(process.execPath, [join(dir, "driver.cjs")], { cwd: ROOT, env, timeout: 60000 }, (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout))),
    );
    t.deepEqual(JSON.parse(out), [
      { ok: ["Namespace foo", "Service web", "Deployment web"] },
      { name: "ClusterReadError", message: `namespace missing not found in context "local" (check the name, or list them: kubectl get namespaces --context local)` },
    ]);
  } finally {
    await api.close();
  }
});
