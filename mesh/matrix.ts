/**
 * Presents a Prediction as the connectivity matrix of the seed documents (rows: clients, columns:
 * Service ports, cells `200 mTLS`, `200`, `000`, `503`, `403`), as Markdown or as JSON, and
 * compares two predictions cell by cell. The one home of a cell's name and of curl's "000".
 */
import type { Cell, Prediction } from "./prediction";

export const MATRIX_FORMATS = ["table", "markdown", "json"] as const;
export type MatrixFormat = (typeof MATRIX_FORMATS)[number];

const CORNER = "from \\ to";

/** A status as curl's %{http_code} prints it: three digits, "000" when no response came (code 0). */
export function codeText(code: number): string {
  return String(code).padStart(3, "0");
}

/** `sleep.legacy → httpbin.foo:8000`. */
export function cellName(c: Pick<Cell, "from" | "to">): string {
  return `${c.from} → ${c.to}`;
}

/** curl's view: "000" for a refused or reset connection, plus "mTLS" when Istio mTLS carried it. */
export function cellText(o: Pick<Cell, "code" | "mtls">): string {
  const code = codeText(o.code);
  return o.mtls ? `${code} mTLS` : code;
}

/** Marks a cell that an object the model does not read could change (Cell.notModelled). */
export const NOT_MODELLED_MARK = "~";

function marked(o: Cell): boolean {
  return (o.notModelled?.length ?? 0) > 0;
}

/** Rows and columns in the order the prediction lists them (the model sorts them); cells by row, then column. */
interface Grid {
  rows: string[];
  cols: string[];
  cells: Map<string, Map<string, Cell>>;
}

function cellAt(g: Grid, from: string, to: string): Cell | undefined {
  return g.cells.get(from)?.get(to);
}

/** Nested maps rather than a `from→to` string key: 250,000 cells need no 250,000 key strings. */
function grid(p: Prediction): Grid {
  const cols: string[] = [];
  const seenCols = new Set<string>();
  const cells = new Map<string, Map<string, Cell>>();
  for (const o of p.probes) {
    if (!seenCols.has(o.to)) {
      seenCols.add(o.to);
      cols.push(o.to);
    }
    let row = cells.get(o.from);
    if (!row) cells.set(o.from, (row = new Map()));
    if (row.has(o.to)) throw new Error(`prediction lists ${o.from} → ${o.to} twice`);
    row.set(o.to, o);
  }
  return { rows: [...cells.keys()], cols, cells };
}

/** Distinct reasons and not-modelled marks numbered from 1 in row-major order of first use. */
function legend(g: Grid): Map<string, number> {
  const numbers = new Map<string, number>();
  const number = (t: string) => numbers.has(t) || numbers.set(t, numbers.size + 1);
  for (const r of g.rows) {
    for (const c of g.cols) {
      const o = cellAt(g, r, c);
      if (!o) continue;
      number(o.reason);
      o.notModelled?.forEach(number);
    }
  }
  return numbers;
}

/** `200 mTLS [1]`, and ` ~[4,5]` when objects the model does not read could change the cell. */
function legendCell(o: Cell, numbers: Map<string, number>): string {
  const text = `${cellText(o)} [${numbers.get(o.reason)}]`;
  return marked(o) ? `${text} ${NOT_MODELLED_MARK}[${o.notModelled!.map((m) => numbers.get(m)!).sort((a, b) => a - b).join(",")}]` : text;
}

/** "18 probes: 8 × 200 mTLS, 6 × 200, 4 × 000": counts by cell text, most frequent first. */
export function summary(p: Prediction): string {
  const counts = new Map<string, number>();
  for (const o of p.probes) counts.set(cellText(o), (counts.get(cellText(o)) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t, n]) => `${n} × ${t}`);
  const n = p.probes.length;
  const m = p.probes.filter(marked).length;
  const marks = m ? `; ${m} marked ${NOT_MODELLED_MARK} (an object the model does not read could change ${m === 1 ? "it" : "them"})` : "";
  return `${n} probe${n === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""}${marks}`;
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function alignColumns(lines: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const l of lines) l.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return lines.map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell + " ".repeat(widths[i]! - width(cell)))).join("  ").trimEnd());
}

const SURROGATE = /[\uD800-\uDFFF]/;

/** Display width: code points, so that "→" and "╲" count as one column (only astral ones take two UTF-16 units). */
function width(s: string): number {
  return SURROGATE.test(s) ? [...s].length : s.length;
}

export function formatTable(p: Prediction): string {
  if (p.probes.length === 0) return "no probes: the input has no client workload or no Service port with endpoints\n";
  const g = grid(p);
  const numbers = legend(g);
  const lines: string[][] = [[CORNER, ...g.cols]];
  for (const r of g.rows) {
    lines.push([
      r,
      ...g.cols.map((c) => {
        const o = cellAt(g, r, c);
        return o ? legendCell(o, numbers) : "-";
      }),
    ]);
  }
  const out = alignColumns(lines);
  out.push("", summary(p), "");
  const w = String(numbers.size).length;
  for (const [reason, n] of numbers) out.push(`[${String(n).padStart(w)}] ${reason}`);
  return out.join("\n") + "\n";
}

/** A pipe would end the cell; a newline would end the row. */
function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function formatMarkdown(p: Prediction): string {
  if (p.probes.length === 0) return "_no probes: the input has no client workload or no Service port with endpoints_\n";
  const g = grid(p);
  const numbers = legend(g);
  const row = (cells: string[]): string => `| ${cells.map(mdCell).join(" | ")} |`;
  const out = [row([CORNER, ...g.cols]), `|${" --- |".repeat(g.cols.length + 1)}`];
  for (const r of g.rows) {
    out.push(
      row([
        r,
        ...g.cols.map((c) => {
          const o = cellAt(g, r, c);
          return o ? legendCell(o, numbers) : "-";
        }),
      ]),
    );
  }
  out.push("", summary(p), "");
  for (const [reason, n] of numbers) out.push(`${n}. ${mdCell(reason)}`);
  return out.join("\n") + "\n";
}

/** `from`, `to`, `code`, `mtls`, `reason` (and `notModelled` when set) first, then the rest of the cell. */
function orderedCell(o: Cell): Record<string, unknown> {
  const { from, to, code, mtls, reason, notModelled, ...rest } = o;
  return { from, to, code, mtls, reason, ...(notModelled?.length ? { notModelled } : {}), ...rest };
}

/** The cells as `--format json` prints them. */
export function jsonCells(p: Prediction): Record<string, unknown>[] {
  return p.probes.map(orderedCell);
}

export function formatJson(p: Prediction): string {
  return JSON.stringify({ probes: jsonCells(p) }, null, 2) + "\n";
}

export function formatPrediction(p: Prediction, format: MatrixFormat): string {
  switch (format) {
    case "table":
      return formatTable(p);
    case "markdown":
      return formatMarkdown(p);
    case "json":
      return formatJson(p);
  }
}

// ---- diff -------------------------------------------------------------------------------------

/** One cell whose outcome differs; `old` or `new` is absent when the cell exists on one side only. */
export interface CellChange {
  from: string;
  to: string;
  old?: Cell;
  new?: Cell;
}

export interface PredictionDiff {
  /** Row-major: NEW's order, then cells that only OLD has. */
  changes: CellChange[];
  /** Cells present on both sides with the same code, mTLS and not-modelled marks. */
  unchanged: number;
  /** Of the unchanged cells, those whose reason changed (another policy now decides). */
  reasonOnly: number;
}

export function diffPredictions(oldP: Prediction, newP: Prediction): PredictionDiff {
  const before = grid(oldP);
  const after = grid(newP);
  const changes: CellChange[] = [];
  let unchanged = 0;
  let reasonOnly = 0;
  for (const n of newP.probes) {
    const o = cellAt(before, n.from, n.to);
    if (!o) changes.push({ from: n.from, to: n.to, new: n });
    else if (o.code !== n.code || o.mtls !== n.mtls || !sameMarks(o, n)) changes.push({ from: n.from, to: n.to, old: o, new: n });
    else {
      unchanged++;
      if (o.reason !== n.reason) reasonOnly++;
    }
  }
  for (const o of oldP.probes) {
    if (!cellAt(after, o.from, o.to)) changes.push({ from: o.from, to: o.to, old: o });
  }
  return { changes, unchanged, reasonOnly };
}

/** A cell gaining, losing or changing its not-modelled marks is a change even with the same outcome. */
function sameMarks(a: Cell, b: Cell): boolean {
  const x = a.notModelled ?? [];
  const y = b.notModelled ?? [];
  return x.length === y.length && x.every((m, i) => m === y[i]);
}

const ABSENT = "absent";

function side(o: Cell | undefined): string {
  if (!o) return ABSENT;
  return marked(o) ? `${cellText(o)} ${NOT_MODELLED_MARK}` : cellText(o);
}

function sideReason(o: Cell | undefined, which: "OLD" | "NEW"): string {
  if (!o) return `no such probe in ${which} (client workload or Service port not in its input)`;
  return [o.reason, ...(o.notModelled ?? [])].join("; ");
}

function headline(d: PredictionDiff): string {
  const total = d.changes.length + d.unchanged;
  const reasons = d.reasonOnly ? `; ${d.reasonOnly} unchanged cell${d.reasonOnly === 1 ? "" : "s"} now decided by another reason` : "";
  if (d.changes.length === 0) return `no change: all ${d.unchanged} cells keep their outcome${reasons}`;
  return `${d.changes.length} of ${total} cell${total === 1 ? "" : "s"} change${d.changes.length === 1 ? "s" : ""}${reasons}`;
}

export function formatDiffTable(d: PredictionDiff): string {
  const out = [headline(d)];
  if (d.changes.length === 0) return out.join("\n") + "\n";
  const heads = alignColumns(d.changes.map((c) => [c.from, `→ ${c.to}`, side(c.old), `→ ${side(c.new)}`]));
  d.changes.forEach((c, i) => {
    out.push("", heads[i]!, `  old: ${sideReason(c.old, "OLD")}`, `  new: ${sideReason(c.new, "NEW")}`);
  });
  return out.join("\n") + "\n";
}

export function formatDiffMarkdown(d: PredictionDiff): string {
  const out = [mdCell(headline(d))];
  if (d.changes.length === 0) return out.join("\n") + "\n";
  const row = (cells: string[]): string => `| ${cells.map(mdCell).join(" | ")} |`;
  out.push("", row(["from", "to", "old", "new", "old reason", "new reason"]), "| --- | --- | --- | --- | --- | --- |");
  for (const c of d.changes) {
    out.push(row([c.from, c.to, side(c.old), side(c.new), sideReason(c.old, "OLD"), sideReason(c.new, "NEW")]));
  }
  return out.join("\n") + "\n";
}

export function formatDiffJson(d: PredictionDiff): string {
  const brief = (o: Cell | undefined) =>
    o ? { code: o.code, mtls: o.mtls, reason: o.reason, ...(o.notModelled?.length ? { notModelled: o.notModelled } : {}) } : null;
  const changes = d.changes.map((c) => ({ from: c.from, to: c.to, old: brief(c.old), new: brief(c.new) }));
  return JSON.stringify({ changes, unchanged: d.unchanged, reasonOnly: d.reasonOnly }, null, 2) + "\n";
}

export function formatDiff(d: PredictionDiff, format: MatrixFormat): string {
  switch (format) {
    case "table":
      return formatDiffTable(d);
    case "markdown":
      return formatDiffMarkdown(d);
    case "json":
      return formatDiffJson(d);
  }
}
