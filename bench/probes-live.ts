/**
 * The live-cluster case of the probe benchmark, at the scale of "200 Services in 50 namespaces":
 * `predict --kube` (the read through the Kubernetes API, the model, the table) against a local
 * fake API server holding the cluster as a live one does (each Deployment with two ReplicaSets and
 * a Pod), and `verify --kube` through the fake exec transport with a simulated exec latency: one
 * exec per probe client (50 + the plaintext one). Prints wall times (median of 3), API requests
 * and execs. Run by bench/probes.ts after the demo matrix:
 *
 *   npm run bench:probes [-- --exec-ms 300]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { registerVerifyCommand } from "../cli/commands/verify";
import { runCli } from "../cli/program";
import { predict } from "../mesh/predict";
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_NAME } from "../mesh/probe-clients";
import type { KubeObject } from "../mesh/types";
import type { ExecTransport } from "../probe/transport";
import { asLiveCluster, startFakeApiServer } from "../test/helpers/fake-api-server";

const { fakeTransport } = require("../test/probe/fake-transport.cjs") as { fakeTransport: (scenario: unknown) => ExecTransport & { stats: { execs: number; maxInFlight: number } } };

const NAMESPACES = 50;
const SERVICES_PER_NAMESPACE = 4;

const deployment = (namespace: string, name: string, app: string, container: string): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace },
    spec: { replicas: 1, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { serviceAccountName: name, containers: [{ name: container, ports: [{ containerPort: 8080 }] }] } } },
  }) as KubeObject;

function world(): { objects: KubeObject[]; namespaces: string[] } {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `team-${String(i).padStart(2, "0")}`);
  const objects: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: "istio-system" } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "trustDomain: cluster.local\n" } } as KubeObject,
    { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: "istio-system" }, spec: { mtls: { mode: "STRICT" } } } as KubeObject,
    { apiVersion: "v1", kind: "Namespace", metadata: { name: PLAINTEXT_PROBE_NAMESPACE, labels: { "istio-injection": "disabled" } } },
    deployment(PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_NAME, PROBE_CLIENT_NAME, "probe"),
  ];
  for (const ns of namespaces) {
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "istio-injection": "enabled" } } }, deployment(ns, PROBE_CLIENT_NAME, PROBE_CLIENT_NAME, "probe"));
    for (let s = 0; s < SERVICES_PER_NAMESPACE; s++) {
      const name = `svc-${s}`;
      objects.push(
        { apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } } as KubeObject,
        deployment(ns, name, name, "app"),
      );
    }
  }
  return { objects, namespaces };
}

async function median(runs: number, f: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await f();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]! / 1000;
}

/** The live-cluster case; `execMs` is the simulated latency of one exec (bench:probes' --exec-ms). */
export async function benchLiveCluster(execMs: number): Promise<void> {
  const { objects, namespaces } = world();
  const live = asLiveCluster(objects);
  const api = await startFakeApiServer({ objects: live });
  const dir = mkdtempSync(join(tmpdir(), "bench-probes-live-"));
  const kubeconfig = join(dir, "config");
  writeFileSync(kubeconfig, api.kubeconfig());
  const io = { stdout: () => undefined, stderr: () => undefined };
  try {
    console.log(`a local fake API server: ${NAMESPACES * SERVICES_PER_NAMESPACE} Services in ${NAMESPACES} namespaces, ${live.length} objects served (Deployments with their ReplicaSets and Pods)\n`);
    console.log(`predict --kube (median of 3)`);
    console.log("command                                          wall time   API requests");
    for (const [label, scope] of [
      [`predict --kube -n <${NAMESPACES} namespaces>`, ["-n", namespaces.join(",")]],
      ["predict --kube --all-namespaces", ["--all-namespaces"]],
    ] as const) {
      let requests = 0;
      const s = await median(3, async () => {
        const before = api.requests.length;
        const code = await runCli(["predict", "--kube", "--kubeconfig", kubeconfig, ...scope], io);
        if (code !== 0) throw new Error(`${label}: exit ${code}`);
        requests = api.requests.length - before;
      });
      console.log(`${label.padEnd(48)} ${`${s.toFixed(2)} s`.padStart(9)}   ${String(requests).padStart(12)}`);
    }

    // verify: the probe clients' cells answered as predicted, with a simulated exec latency.
    const cells = predict(live).probes.filter((c) => c.from.startsWith(`${PROBE_CLIENT_NAME}.`));
    const responses: Record<string, unknown[]> = {};
    for (const c of cells) {
      responses[`${c.client.namespace}|${c.target.service}.${c.target.namespace}:${c.target.port}${c.request.path}`] = [
        c.failure === "reset" ? { code: 0, exit: 56 } : { code: c.code, ...(c.mtls ? { uri: c.clientIdentity } : {}) },
      ];
    }
    const pods = [...namespaces, PLAINTEXT_PROBE_NAMESPACE].map((ns) => ({
      namespace: ns,
      name: `${PROBE_CLIENT_NAME}-1`,
      labels: { app: PROBE_CLIENT_NAME },
      containers: [{ name: "probe", ready: true }, ...(ns === PLAINTEXT_PROBE_NAMESPACE ? [] : [{ name: "istio-proxy", ready: true, init: true }])],
    }));
    console.log(`\nverify --kube -A: ${cells.length} cells, simulated exec latency ${execMs} ms, one exec per probe client`);
    console.log("concurrency   execs   wall time");
    for (const concurrency of [4, 16, 51]) {
      const fake = fakeTransport({ pods, responses, execLatencyMs: execMs });
      const program = new Command("istio-mtls").exitOverride();
      let code = -1;
      registerVerifyCommand(program, io, (c) => (code = c), { transport: () => fake });
      const start = performance.now();
      await program.parseAsync(["verify", "--kube", "--kubeconfig", kubeconfig, "-A", "--deadline", "0", "--concurrency", String(concurrency)], { from: "user" });
      const s = (performance.now() - start) / 1000;
      if (code !== 0) throw new Error(`verify: exit ${code}`);
      console.log(`${String(concurrency).padStart(11)}   ${String(fake.stats.execs).padStart(5)}   ${s.toFixed(2)} s`);
    }
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

