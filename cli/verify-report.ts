/**
 * `verify`'s report: every probed cell with what the model predicted and what the probe observed,
 * as a table, markdown or JSON. Whether a cell matches is the probe's own diff
 * (probe/observe.ts diffTables); this module only lays it out.
 */
import { codeText, type MatrixFormat } from "../mesh/matrix";
import type { Cell, TargetCheck } from "../mesh/prediction";
import { describeExpected, diffTables, expectsRefusal, requestText } from "../probe/observe";

export interface VerifyResult {
  context: string;
  /** The namespaces whose Service ports were probed. */
  scope: string[];
  clients: string[];
  predicted: Cell[];
  /** One per predicted cell, same order. */
  observed: Cell[];
  attempts: number;
  seconds: number;
  execs: number;
}

interface Row {
  predicted: Cell;
  observed: Cell;
  check: TargetCheck;
  problem?: string;
}

function rows(r: VerifyResult): Row[] {
  const problems = new Map(diffTables(r.predicted, r.observed).map((d) => [d.cell, d.problem]));
  return r.predicted.map((p, i) => ({
    predicted: p,
    observed: r.observed[i]!,
    // The live prediction sets every target's check (probe/live.ts).
    check: p.target.check ?? "http",
    ...(problems.has(p) ? { problem: problems.get(p)! } : {}),
  }));
}

function summary(r: VerifyResult, all: Row[]): string {
  const differ = all.filter((x) => x.problem !== undefined).length;
  const conn = all.filter((x) => x.check === "connection").length;
  return (
    `${all.length} cells from ${r.clients.length} client${r.clients.length === 1 ? "" : "s"} (context ${r.context}, ${r.execs} exec${r.execs === 1 ? "" : "s"}, ` +
    `attempt ${r.attempts}, ${r.seconds.toFixed(1)} s): ${all.length - differ} match, ${differ} differ` +
    (conn > 0 ? `; ${conn} checked at the connection level only (accepted vs refused/reset: the port does not declare HTTP)` : "")
  );
}

function observedText(o: Cell): string {
  return o.reason || codeText(o.code);
}

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), ...body.map(line)].join("\n");
}

const escape = (s: string) => s.replace(/\|/g, "\\|");

export function formatVerify(r: VerifyResult, format: MatrixFormat): string {
  const all = rows(r);
  if (format === "json") {
    return (
      JSON.stringify(
        {
          context: r.context,
          scope: r.scope,
          clients: r.clients,
          cells: all.map((x) => ({
            from: x.predicted.from,
            to: x.predicted.to,
            request: x.predicted.request,
            check: x.check,
            match: x.problem === undefined,
            ...(x.problem !== undefined ? { problem: x.problem } : {}),
            predicted: strip(x.predicted),
            observed: strip(x.observed),
          })),
          summary: { cells: all.length, match: all.filter((x) => !x.problem).length, differ: all.filter((x) => x.problem).length, connectionLevel: all.filter((x) => x.check === "connection").length },
          attempts: r.attempts,
          secondsToConverge: r.seconds,
          execs: r.execs,
        },
        null,
        2,
      ) + "\n"
    );
  }
  const head = ["from", "to", "check", "expected", "observed", "result"];
  const expected = (x: Row) => (x.check === "http" ? describeExpected(x.predicted) : expectsRefusal(x.predicted) ? "refused/reset" : "accepted");
  const body = all.map((x) => [x.predicted.from, requestText(x.predicted), x.check, expected(x), observedText(x.observed), x.problem === undefined ? "ok" : "DIFFERS"]);
  const differences = all
    .filter((x) => x.problem !== undefined)
    .map((x) => `${x.predicted.from} to ${requestText(x.predicted)}: ${x.problem}; the model's reason: ${x.predicted.reason}`);
  if (format === "markdown") {
    return [
      `| ${head.join(" | ")} |`,
      `|${head.map(() => "---").join("|")}|`,
      ...body.map((b) => `| ${b.map((c, i) => (i === 1 || i === 0 ? `\`${c}\`` : escape(c))).join(" | ")} |`),
      "",
      summary(r, all),
      ...(differences.length > 0 ? ["", "Differences:", "", ...differences.map((d) => `- ${escape(d)}`)] : []),
      "",
    ].join("\n");
  }
  return [table(head, body), "", summary(r, all), ...(differences.length > 0 ? ["Differences:", ...differences.map((d) => `  ${d}`)] : []), ""].join("\n");
}

/** A cell for JSON: without the client/target refs the from/to already name. */
function strip(c: Cell): Omit<Cell, "client" | "target" | "request"> {
  const { client: _c, target: _t, request: _r, ...rest } = c;
  return rest;
}
