/**
 * The model's side of the differential test (`istio-mtls predict -f json` run in-process on the
 * scenario's YAML) and the comparison of its cells with the oracle's, cell by cell.
 */
import { stringify } from "yaml";
import type { CliIO } from "../../cli/command";
import { predictPaths } from "../../cli/matrix-input";
import type { KubeObject } from "../../mesh/types";
import type { OracleCell, OracleOutput } from "./oracle";

export interface ModelCell {
  from: string;
  to: string;
  code: number;
  mtls: boolean;
  reason: string;
}

export interface ModelOutput {
  cells?: ModelCell[];
  /** The model refuses the input (what istiod's validation refuses, or what it cannot read). */
  rejected?: string;
  notices: string[];
}

/**
 * Multi-document YAML as kubectl reads it: Kubernetes' YAML reader takes YAML 1.1 booleans
 * (`no`, `off`), so strings that look like them are written quoted.
 */
export function toYaml(objects: readonly KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { version: "1.1" })}`).join("");
}

/** `istio-mtls predict -f json -` on the text, as the command reads it. */
export function modelPredict(yaml: string): ModelOutput {
  const notices: string[] = [];
  const io: CliIO = { stdout: () => undefined, stderr: (t) => notices.push(t.trimEnd()), stdin: () => yaml };
  try {
    const p = predictPaths(["-"], { from: [], jwtAudience: [] }, io);
    return { cells: p.probes.map((c) => ({ from: c.from, to: c.to, code: c.code, mtls: c.mtls, reason: c.reason })), notices };
  } catch (e) {
    return { rejected: e instanceof Error ? e.message : String(e), notices };
  }
}

export interface CellDiff {
  from: string;
  to: string;
  model: ModelCell | undefined;
  oracle: OracleCell | undefined;
}

export type Comparison =
  | { kind: "agree"; cells: number; rejectedByBoth: boolean }
  | { kind: "disagree"; cells: number; agreeing: number; diffs: CellDiff[]; scenario?: string }
  /** The oracle does not evaluate this input (its documented limits): not counted either way. */
  | { kind: "limit"; why: string }
  | { kind: "error"; why: string };

/** The model says so when a Service port's endpoints give different outcomes (load-balancing.ts endpointsDiffer). */
const ENDPOINTS_DIFFER = "endpoints differ, ";

/**
 * A cell whose endpoints disagree has no single outcome: load balancing gives any of them. The
 * model then says the endpoints differ and reports a failing one when one fails (else any one):
 * it agrees when it says so, and its outcome is one of Istio's endpoints' under that rule.
 */
export function cellsAgree(m: ModelCell, o: OracleCell): boolean {
  const seen = new Map<string, { code: number; mtls: boolean }>();
  for (const e of o.evidence.endpoints ?? []) seen.set(`${e.code}/${e.mtls}`, e);
  const outcomes = [...seen.values()];
  const differ = m.reason.startsWith(ENDPOINTS_DIFFER);
  if (outcomes.length <= 1) return !differ && m.code === o.code && m.mtls === o.mtls;
  const fails = (c: { code: number }) => c.code !== 200;
  return differ && outcomes.some((e) => e.code === m.code && e.mtls === m.mtls) && (fails(m) || !outcomes.some(fails));
}

export function compare(model: ModelOutput, oracle: OracleOutput): Comparison {
  if (oracle.error) return { kind: "error", why: oracle.error };
  if (oracle.limit) return { kind: "limit", why: oracle.limit };
  if (model.rejected !== undefined || oracle.rejected !== undefined) {
    if (model.rejected !== undefined && oracle.rejected !== undefined) return { kind: "agree", cells: 0, rejectedByBoth: true };
    const scenario =
      model.rejected !== undefined ? `the model refuses the input (${model.rejected}); Istio accepts it` : `Istio refuses the input (${oracle.rejected}); the model accepts it`;
    return { kind: "disagree", cells: 0, agreeing: 0, diffs: [], scenario };
  }
  const key = (c: { from: string; to: string }) => `${c.from} → ${c.to}`;
  const ours = new Map((model.cells ?? []).map((c) => [key(c), c]));
  const theirs = new Map((oracle.cells ?? []).map((c) => [key(c), c]));
  const diffs: CellDiff[] = [];
  let agreeing = 0;
  for (const k of new Set([...ours.keys(), ...theirs.keys()])) {
    const m = ours.get(k);
    const o = theirs.get(k);
    if (m && o && cellsAgree(m, o)) agreeing++;
    else diffs.push({ from: (m ?? o)!.from, to: (m ?? o)!.to, model: m, oracle: o });
  }
  const cells = agreeing + diffs.length;
  return diffs.length === 0 ? { kind: "agree", cells, rejectedByBoth: false } : { kind: "disagree", cells, agreeing, diffs };
}

export function outcome(c: { code: number; mtls: boolean } | undefined): string {
  if (!c) return "no cell";
  const code = c.code === 0 ? "000" : String(c.code);
  return c.mtls ? `${code} mTLS` : code;
}

function differences(c: Extract<Comparison, { kind: "disagree" }>): string[] {
  if (c.scenario) return [c.scenario.startsWith("the model") ? "the model refuses what Istio accepts" : "Istio refuses what the model accepts"];
  return [...new Set(c.diffs.map((d) => `model ${outcome(d.model)} / Istio ${outcome(d.oracle)}`))].sort();
}

/** Disagreements with the same kinds of cell differences are one finding. */
export function signature(c: Extract<Comparison, { kind: "disagree" }>): string {
  return differences(c).join("; ");
}

/** Whether a shrunk scenario still shows one of the original's differences (not another finding). */
export function sameFinding(original: Extract<Comparison, { kind: "disagree" }>, c: Comparison): boolean {
  if (c.kind !== "disagree") return false;
  const wanted = new Set(differences(original));
  return differences(c).some((d) => wanted.has(d));
}
