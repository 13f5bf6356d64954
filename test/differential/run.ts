/**
 * `npm run test:differential`: N generated scenarios from a seed, the model (`istio-mtls predict`
 * in-process) against the oracle (istiod's own xDS, tools/oracle), every cell compared. Prints
 * the agreement, each kind of disagreement once with its smallest scenario (shrunk), both outputs
 * and the oracle's evidence, and scenarios per second on both sides.
 *
 *   npm run test:differential                        N=300, SEED=1
 *   N=10000 SEED=$RANDOM npm run test:differential   the large run
 *   npm run test:differential -- --n 50 --seed 7 --processes 2 --shrink 3 --index 17
 *
 * Exit 0 when every compared cell agrees; 1 on a disagreement; 2 when the oracle fails. Inputs
 * the oracle does not evaluate (its documented limits, tools/oracle) are counted apart.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { compare, modelPredict, outcome, sameFinding, signature, toYaml, type CellDiff, type Comparison } from "./compare";
import { chartWebhooks, readInjectionWebhooks } from "../../mesh/model/injection-webhooks";
import { generateScenario, plainDemo, REVISIONS, type Scenario } from "./generate";
import { buildOracle, Oracle, renderWebhooks, type OracleCell } from "./oracle";
import { shrink } from "./shrink";

interface Options {
  n: number;
  seed: number;
  processes: number;
  shrink: number;
  index: number | undefined;
}

function options(argv: string[]): Options {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, env: string | undefined, dflt: number): number => {
    const v = flag(name) ?? env;
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, found ${JSON.stringify(v)}`);
    return n;
  };
  const index = flag("index") ?? process.env.INDEX;
  return {
    n: int("n", process.env.N, 300),
    seed: int("seed", process.env.SEED, 1),
    // One per core: the oracle is CPU-bound and each process is single-scenario at a time.
    processes: Math.max(1, int("processes", process.env.ORACLE_PROCESSES, 2)),
    shrink: int("shrink", process.env.SHRINK, 5),
    index: index === undefined ? undefined : int("index", index, 0),
  };
}

const rate = (n: number, ms: number) => (ms > 0 ? ((n * 1000) / ms).toFixed(1) : "∞");

function evidence(c: OracleCell): string[] {
  const lines = [`cluster ${c.evidence.cluster ?? "— (no client sidecar)"}${c.evidence.note ? `; ${c.evidence.note}` : ""}`];
  for (const e of c.evidence.endpoints ?? []) {
    const server = e.serverSidecar
      ? `inbound chain ${e.filterChain || "—"}${e.inbound ? ` (${e.inbound})` : ""}${e.rbac ? `; RBAC ${e.rbac.allowed ? "allows" : "denies"}: ${e.rbac.why}` : ""}`
      : e.inbound ?? "no server sidecar";
    lines.push(`endpoint ${e.workload} ${e.address}${e.metadata ? ` [${e.metadata}]` : ""}: ${e.socket} → sends ${e.sends}; ${server} → ${outcome(e)}`);
  }
  return lines;
}

function describe(d: CellDiff): string {
  const out = [`  ${d.from} → ${d.to}: model ${outcome(d.model)}, Istio ${outcome(d.oracle)}`];
  if (d.model) out.push(`    model: ${d.model.reason}`);
  if (d.oracle) out.push(...evidence(d.oracle).map((l) => `    Istio: ${l}`));
  return out.join("\n");
}

async function main(): Promise<number> {
  const opts = options(process.argv.slice(2));
  const oraclePath = buildOracle();
  const webhooks = renderWebhooks(oraclePath);
  // The model's transcription of the chart's webhooks (used when the input has none) against the chart.
  const transcription = REVISIONS.filter((rev) => JSON.stringify(readInjectionWebhooks([webhooks[rev]])) !== JSON.stringify(chartWebhooks(rev)));
  for (const rev of transcription) {
    console.log(`disagreement: chartWebhooks("${rev}") (mesh/model/injection-webhooks.ts) differs from the webhooks Istio's chart renders:`);
    console.log(`  model: ${JSON.stringify(chartWebhooks(rev))}\n  chart: ${JSON.stringify(readInjectionWebhooks([webhooks[rev]]))}`);
  }
  const indexes = opts.index !== undefined ? [opts.index] : Array.from({ length: opts.n }, (_, i) => i);
  const scenarios: (Scenario & { yaml: string })[] = indexes.map((i) => {
    const s = generateScenario(opts.seed, i, webhooks);
    return { ...s, yaml: toYaml(s.objects) };
  });

  const modelStart = performance.now();
  const models = scenarios.map((s) => modelPredict(s.yaml));
  const modelMs = performance.now() - modelStart;

  const oracle = new Oracle(oraclePath, opts.processes);
  try {
    const oracleStart = performance.now();
    const outputs = await Promise.all(scenarios.map((s) => oracle.evaluate(s.id, s.yaml)));
    const oracleMs = performance.now() - oracleStart;

    const results: { s: (typeof scenarios)[number]; c: Comparison }[] = scenarios.map((s, i) => ({ s, c: compare(models[i]!, outputs[i]!) }));
    let cells = 0;
    let agreeing = 0;
    let scenariosAgreeing = 0;
    let rejectedByBoth = 0;
    const limits = new Map<string, number>();
    const errors: string[] = [];
    const bySignature = new Map<string, { s: (typeof scenarios)[number]; c: Extract<Comparison, { kind: "disagree" }> }[]>();
    for (const { s, c } of results) {
      switch (c.kind) {
        case "agree":
          cells += c.cells;
          agreeing += c.cells;
          scenariosAgreeing++;
          if (c.rejectedByBoth) rejectedByBoth++;
          break;
        case "disagree": {
          cells += c.cells;
          agreeing += c.agreeing;
          const sig = signature(c);
          bySignature.set(sig, [...(bySignature.get(sig) ?? []), { s, c }]);
          break;
        }
        case "limit":
          limits.set(c.why, (limits.get(c.why) ?? 0) + 1);
          break;
        case "error":
          errors.push(`${s.id}: ${c.why}`);
      }
    }
    const compared = scenarios.length - [...limits.values()].reduce((a, b) => a + b, 0) - errors.length;
    const pct = cells > 0 ? ((100 * agreeing) / cells).toFixed(2) : "100.00";
    console.log(`differential: seed ${opts.seed}, ${scenarios.length} scenarios${opts.index !== undefined ? ` (index ${opts.index})` : ""}`);
    console.log(`  cells: ${agreeing} of ${cells} agree (${pct} %); scenarios: ${scenariosAgreeing} of ${compared} agree, ${rejectedByBoth} refused by both`);
    console.log(`  model: ${rate(scenarios.length, modelMs)} scenarios/s (${(modelMs / 1000).toFixed(2)} s); oracle: ${rate(scenarios.length, oracleMs)} scenarios/s (${(oracleMs / 1000).toFixed(1)} s, ${opts.processes} processes)`);
    for (const [why, n] of limits) console.log(`  oracle limit (not compared), ${n} scenarios: ${why}`);
    for (const e of errors.slice(0, 5)) console.log(`  oracle error: ${e}`);

    const outDir = resolve(__dirname, "../../.build/differential");
    let shown = 0;
    for (const [sig, found] of [...bySignature].sort((a, b) => b[1].length - a[1].length)) {
      const first = found[0]!;
      console.log(`\ndisagreement: ${sig} (${found.length} scenarios, first ${first.s.id})`);
      if (shown++ >= opts.shrink) {
        console.log(`  (not shrunk: --shrink ${opts.shrink}; regenerate with --seed ${opts.seed} --index ${first.s.id.split("#")[1]})`);
        continue;
      }
      const shrunk = await shrink(
        first.s.objects,
        (batch) =>
          Promise.all(
            batch.map(async (objects) => {
              const yaml = toYaml(objects);
              return sameFinding(first.c, compare(modelPredict(yaml), await oracle.evaluate(`${first.s.id}-shrink`, yaml)));
            }),
          ),
        opts.processes,
      );
      const yaml = toYaml(shrunk.objects);
      const c = compare(modelPredict(yaml), await oracle.evaluate(`${first.s.id}-shrunk`, yaml));
      mkdirSync(outDir, { recursive: true });
      const file = join(outDir, `${first.s.id.replace("#", "-")}.yaml`);
      writeFileSync(file, yaml);
      console.log(`  shrunk from ${first.s.objects.length} to ${shrunk.objects.length} objects in ${shrunk.tries} tries: ${file}`);
      // The objects that differ from the plain demo (the file has them all).
      const plain = new Set(plainDemo().map((o) => JSON.stringify(o)));
      const changed = shrunk.objects.filter((o) => !plain.has(JSON.stringify(o)));
      console.log(`  the plain demo (foo, bar with istio-injection=enabled; legacy without), with:`);
      console.log(toYaml(changed).replace(/^/gm, "  | "));
      if (c.kind === "disagree") {
        if (c.scenario) console.log(`  ${c.scenario}`);
        for (const d of c.diffs) console.log(describe(d));
      }
    }
    if (errors.length > 0) return 2;
    return bySignature.size > 0 || transcription.length > 0 ? 1 : 0;
  } finally {
    await oracle.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
