/**
 * `npm run bench:plan`: `istio-mtls plan` for the dev stack and for a stack of 500 namespaces
 * (demo on: 5,000 objects, 250,000 cells; 2,000 workload policies), each as the command a user
 * runs, in a child process, three times each; prints the median wall time and the peak memory of
 * each, and their ratio.
 * Arguments: [namespaces], default 500.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";

const NAMESPACES = Number(process.argv[2] ?? 500);
const ROOT = resolve(__dirname, "..");

/** A stack file of `n` namespaces (one in ten without sidecars), each with 2 PeerAuthentications and 2 AuthorizationPolicies on its workloads. */
function bigStack(n: number): string {
  const names = Array.from({ length: n }, (_, i) => `team-${String(i).padStart(3, "0")}`);
  const namespaces = names.map((name, i) => ({ name, injection: i % 10 !== 9 }));
  const workloads = names.flatMap((namespace, i) => [
    { namespace, name: "httpbin", selector: { app: "httpbin" }, mode: i % 3 === 0 ? "STRICT" : "PERMISSIVE" },
    { namespace, name: "sleep", selector: { app: "sleep" }, mode: "PERMISSIVE", portLevelMtls: { "8080": "STRICT" } },
  ]);
  const authorization = names.flatMap((namespace, i) => [
    { namespace, name: "httpbin-from-neighbours", selector: { app: "httpbin" }, namespaces: [namespace, names[(i + 1) % n]] },
    { namespace, name: "sleep-from-mesh", selector: { app: "sleep" }, principals: ["*"] },
  ]);
  return stringify({
    config: {
      "istio-mtls:namespaces": namespaces,
      "istio-mtls:demo": { enabled: true },
      "istio-mtls:mtls": { mesh: "PERMISSIVE", workloads },
      "istio-mtls:authorization": authorization,
    },
  });
}

interface Run {
  seconds: number;
  maxRssMb: number;
  outputBytes: number;
}

function plan(args: string[]): Run {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--require", join(__dirname, "max-rss.cjs"), join(ROOT, "bin", "istio-mtls.js"), "plan", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - t0) / 1000;
  const rss = /max-rss-kb (\d+)/.exec(r.stderr);
  if (r.status !== 0 || !rss) throw new Error(`istio-mtls plan ${args.join(" ")} failed (exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  return { seconds, maxRssMb: Number(rss[1]) / 1024, outputBytes: Buffer.byteLength(r.stdout) };
}

const RUNS = 3;

/** The run of median time, with the highest peak memory of all runs. */
function median(runs: Run[]): Run {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  return { ...sorted[Math.floor(sorted.length / 2)], maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

const dir = mkdtempSync(join(tmpdir(), "istio-mtls-bench-"));
try {
  const file = join(dir, `Pulumi.big.yaml`);
  writeFileSync(file, bigStack(NAMESPACES));
  // Alternating runs, the median of each: one run of a second is at the mercy of whatever else
  // the machine does. The default table format, as a reviewer runs it; the generated stack's
  // findings do not fail it.
  const devRuns: Run[] = [];
  const bigRuns: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    devRuns.push(plan(["--stack", "dev"]));
    bigRuns.push(plan(["--stack", "big", "--config", file, "--fail-on", "never"]));
  }
  const dev = median(devRuns);
  const big = median(bigRuns);
  const show = (label: string, r: Run) => `${label}: ${r.seconds.toFixed(2)} s wall (median of ${RUNS}), peak RSS ${r.maxRssMb.toFixed(0)} MB, ${(r.outputBytes / 1e6).toFixed(1)} MB output`;
  console.log(show("plan --stack dev", dev));
  console.log(show(`plan, ${NAMESPACES} namespaces (demo, ${NAMESPACES * 4} workload policies, ${(NAMESPACES * NAMESPACES).toLocaleString("en-US")} cells)`, big));
  console.log(`ratio: ${(big.seconds / dev.seconds).toFixed(1)}× the dev plan's time (goal: under 10×); peak ${big.maxRssMb.toFixed(0)} MB (goal: under 1024 MB)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
