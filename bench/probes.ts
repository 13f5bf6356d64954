/**
 * Probe benchmark, two cases:
 * 1. the demo matrix: execs and wall time of the runner (one exec per client pod, bounded
 *    concurrency) beside the seed documents' loop (a `kubectl get pod` plus a `kubectl exec` per
 *    pair, one after another), against a fake cluster with the same simulated latencies;
 * 2. the live cluster, 200 Services in 50 namespaces: `predict --kube` and `verify --kube`
 *    against a local fake API server (bench/probes-live.ts).
 * --exec-ms is the simulated exec latency of both cases; --list-ms the pod lookup of the first.
 *
 *   npm run bench:probes [-- --exec-ms 300 --list-ms 100]
 */
import type { Cell } from "../mesh/prediction";
import { runProbes } from "../probe/runner";
import type { ExecTransport } from "../probe/transport";
import { demoNamespaces, demoPrediction, demoScenario } from "../test/probe/demo-matrix";
import { benchLiveCluster } from "./probes-live";

const { fakeTransport } = require("../test/probe/fake-transport.cjs") as {
  fakeTransport: (scenario: unknown) => ExecTransport & { stats: { execs: number; lists: number; maxInFlight: number } };
};

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const EXEC_MS = arg("exec-ms", 300);
const LIST_MS = arg("list-ms", 100);
/** The seed loop is strictly sequential: past this many pairs, time it on a sample and scale. */
const SEED_SAMPLE = 100;

/** The seed documents' loop: per pair, find the client pod, then exec one curl. */
async function seedLoop(cells: Cell[], transport: ExecTransport): Promise<number> {
  let execs = 0;
  for (const c of cells) {
    const [pod] = await transport.listPods(c.client.namespace, c.client.labels);
    const script = `probe 'c0' 'http://${c.target.service}.${c.target.namespace}:${c.target.port}${c.request.path}' '' '${c.request.method}'`;
    await transport.exec(c.client.namespace, pod!.name, "sleep", ["sh", "-c", script], 10000);
    execs++;
  }
  return execs;
}

/** Case 1: the demo matrix, runner against the seed loop. */
async function benchDemoMatrix() {
  console.log(`simulated latency: exec ${EXEC_MS} ms, pod lookup ${LIST_MS} ms\n`);
  console.log("matrix   approach                               execs   wall time");
  for (const n of [3, 50]) {
    const ns = demoNamespaces(n);
    const cells = demoPrediction(ns).probes;
    for (const concurrency of n === 3 ? [4] : [4, 16]) {
      const fake = fakeTransport(demoScenario(ns, {}, { execLatencyMs: EXEC_MS, listLatencyMs: LIST_MS }));
      const start = performance.now();
      const r = await runProbes(cells, { transport: fake, requestTimeoutSeconds: 5, deadlineSeconds: 0, concurrency });
      const ms = performance.now() - start;
      console.log(`${`${n}×${n}`.padEnd(8)} ${`runner, concurrency ${concurrency}`.padEnd(38)} ${String(r.execs).padStart(5)}   ${(ms / 1000).toFixed(2)} s`);
    }
    const sample = cells.slice(0, Math.min(cells.length, SEED_SAMPLE));
    const fake = fakeTransport(demoScenario(ns, {}, { execLatencyMs: EXEC_MS, listLatencyMs: LIST_MS }));
    const start = performance.now();
    await seedLoop(sample, fake);
    const ms = ((performance.now() - start) * cells.length) / sample.length;
    const note = sample.length < cells.length ? ` (timed on ${sample.length} pairs, scaled)` : "";
    console.log(`${`${n}×${n}`.padEnd(8)} ${"seed loop: get pod + exec per pair".padEnd(38)} ${String(cells.length).padStart(5)}   ${(ms / 1000).toFixed(2)} s${note}`);
  }
}

async function main() {
  console.log("== 1. demo matrix: the probe runner against the seed loop ==");
  await benchDemoMatrix();
  console.log("\n== 2. live cluster: 200 Services in 50 namespaces, predict --kube and verify --kube ==");
  await benchLiveCluster(EXEC_MS);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
