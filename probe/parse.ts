/**
 * Strict reading of the probe script's output. A probe result is evidence, so anything short of
 * a complete, well-formed answer for exactly the expected targets is an error, never a code 0.
 */
import { BODY_MAX, EVIDENCE_CHARS, LINE_MARKER, SERVER_MAX } from "./script";

/** What one curl observed. */
export interface ObservedResponse {
  id: string;
  /** curl's %{http_code}; 0 for "000" (no HTTP response). */
  code: number;
  /** curl's exit status: 0 ok, 7 refused, 28 timeout, 52 empty reply, 56 reset, 6 no DNS… */
  curlExit: number;
  timeSeconds: number;
  /** Whether the body echoed the request's headers (the probe's PROBE_HEADER among them), as httpbin's /headers does. */
  echo: boolean;
  /** Whether that echo held an X-Forwarded-Client-Cert header: the server sidecar saw mTLS. Never true without `echo`. */
  xfcc: boolean;
  /** The `URI=` of that header: the client's SPIFFE identity as the server saw it. */
  peerIdentity?: string;
  /** The response's Server header, sanitised ("envoy" when a sidecar answered); "" when none. */
  server: string;
  /** The body's first line, sanitised and cut short: tells Envoy's own 503s from the application's. */
  body: string;
}

/** A plain Error with fields (see probeMismatchError in runner.ts for why not a subclass). */
export type ProbeOutputError = Error & { name: "ProbeOutputError"; output: string };

const LINE_KEYS = ["body", "code", "echo", "exit", "id", "m", "server", "time", "uri", "xfcc"];
// What the script reduces these to (unknown characters become "?"); anything else was not printed by it.
const SERVER_RE = new RegExp(`^[?${EVIDENCE_CHARS}]{0,${SERVER_MAX}}$`);
const BODY_RE = new RegExp(`^[?${EVIDENCE_CHARS}]{0,${BODY_MAX}}$`);

function fail(output: string, message: string): never {
  const shown = output.length > 2000 ? `${output.slice(0, 2000)}… (${output.length} bytes)` : output;
  throw Object.assign(new Error(`${message}\n--- probe output ---\n${shown}`), { name: "ProbeOutputError" as const, output });
}

/**
 * Parses the output for `expectedIds`, in any order. Throws ProbeOutputError on a malformed,
 * unknown, duplicate or missing line, or a missing/incorrect `done` line.
 */
export function parseProbeOutput(stdout: string, expectedIds: readonly string[]): Map<string, ObservedResponse> {
  const expected = new Set(expectedIds);
  const results = new Map<string, ObservedResponse>();
  let done: number | undefined;
  const lines = stdout.split("\n").map((l) => l.replace(/\r$/, ""));
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `line ${i + 1}`;
    if (done !== undefined) fail(stdout, `${where}: output after the done line`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      fail(stdout, `${where}: not JSON: ${JSON.stringify(line.slice(0, 200))}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) fail(stdout, `${where}: not a JSON object`);
    const o = value as Record<string, unknown>;
    if (o.m !== LINE_MARKER) fail(stdout, `${where}: marker m is ${JSON.stringify(o.m)}, expected "${LINE_MARKER}"`);
    if ("done" in o) {
      if (Object.keys(o).length !== 2 || !Number.isInteger(o.done)) fail(stdout, `${where}: malformed done line`);
      done = o.done as number;
      return;
    }
    const keys = Object.keys(o).sort();
    if (keys.join(",") !== LINE_KEYS.join(",")) fail(stdout, `${where}: fields are [${keys}], expected [${LINE_KEYS}]`);
    const id = o.id;
    if (typeof id !== "string" || !expected.has(id)) fail(stdout, `${where}: unknown target id ${JSON.stringify(id)}`);
    if (results.has(id)) fail(stdout, `${where}: target ${id} reported twice`);
    if (typeof o.code !== "string" || !/^\d{3}$/.test(o.code)) fail(stdout, `${where}: http code ${JSON.stringify(o.code)} is not 3 digits`);
    if (!Number.isInteger(o.exit) || (o.exit as number) < 0 || (o.exit as number) > 255) fail(stdout, `${where}: curl exit ${JSON.stringify(o.exit)} is not 0..255`);
    if (typeof o.time !== "string" || !/^\d+(\.\d+)?$/.test(o.time)) fail(stdout, `${where}: time ${JSON.stringify(o.time)} is not a number`);
    if (typeof o.echo !== "boolean") fail(stdout, `${where}: echo ${JSON.stringify(o.echo)} is not a boolean`);
    if (typeof o.xfcc !== "boolean") fail(stdout, `${where}: xfcc ${JSON.stringify(o.xfcc)} is not a boolean`);
    if (o.xfcc && !o.echo) fail(stdout, `${where}: xfcc is true outside an echo of the request's headers`);
    if (typeof o.uri !== "string" || (o.uri !== "" && !o.uri.startsWith("spiffe://"))) fail(stdout, `${where}: uri ${JSON.stringify(o.uri)} is not a SPIFFE URI`);
    if (typeof o.server !== "string" || !SERVER_RE.test(o.server)) fail(stdout, `${where}: server ${JSON.stringify(o.server)} is not a sanitised Server header`);
    if (typeof o.body !== "string" || !BODY_RE.test(o.body)) fail(stdout, `${where}: body ${JSON.stringify(o.body)} is not a sanitised first body line`);
    const code = Number(o.code);
    const curlExit = o.exit as number;
    // curl reports 000 exactly when no HTTP response arrived; a status with a failed transfer
    // (e.g. a timeout mid-body) is kept with its exit code and judged by the runner.
    if (code === 0 && curlExit === 0) fail(stdout, `${where}: http code 000 with curl exit 0 is not a possible curl result`);
    results.set(id, {
      id,
      code,
      curlExit,
      timeSeconds: Number(o.time),
      echo: o.echo,
      xfcc: o.xfcc,
      ...(o.uri !== "" ? { peerIdentity: o.uri } : {}),
      server: o.server,
      body: o.body,
    });
  });
  if (done === undefined) fail(stdout, "the done line is missing: the output was cut off");
  if (done !== expectedIds.length) fail(stdout, `the done line counts ${done} targets, expected ${expectedIds.length}`);
  const missing = expectedIds.filter((id) => !results.has(id));
  if (missing.length > 0) fail(stdout, `no result for target(s) ${missing.join(", ")}`);
  return results;
}
