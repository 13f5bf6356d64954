/**
 * The in-pod probe: one POSIX `sh` script per client pod that curls every target of that client
 * and prints one JSON line per target, then a `done` line so a cut-off output is detectable.
 *
 * It runs in the `sleep` container (curlimages/curl: busybox sh, curl, sed, grep, tr; no jq),
 * so it uses nothing else. Every value that comes from inputs is validated, then shell-quoted.
 */

/** One request the script sends. */
export interface ScriptTarget {
  /** Printed back on the target's line; [A-Za-z0-9._:/#-] only, so it needs no JSON escaping. */
  id: string;
  /** Service DNS name, e.g. "httpbin.foo" (or any host the client can resolve). */
  host: string;
  port: number;
  /** Default "/headers". */
  path?: string;
  /** Sent as `Authorization: Bearer <token>` through curl's stdin, so it never shows in curl's argv. */
  token?: string;
}

export interface ScriptOptions {
  /** curl --max-time per request. */
  requestTimeoutSeconds: number;
  /**
   * Optional curl `--connect-to` rewrites, "host:port" → "address:port". Tests point service names
   * at local servers this way while the URL and Host header stay the in-cluster ones.
   */
  connectTo?: Record<string, string>;
}

/** First field of every line the script prints. */
export const LINE_MARKER = "istio-mtls-probe";

const ID_RE = /^[A-Za-z0-9._:/#-]{1,200}$/;
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
// RFC 3986 path characters plus "?" and "&" for a query; no whitespace, quotes or control bytes.
const PATH_RE = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
// RFC 6750 b64token: what a bearer token may hold.
const TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Quotes a value as a single POSIX shell word: '…' with each ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A sed character class sequence matching `name` in any letter case (busybox sed has no I flag everywhere). */
function caseless(name: string): string {
  return [...name].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join("");
}

export function validateTarget(t: ScriptTarget): void {
  if (!ID_RE.test(t.id)) throw new Error(`probe target id ${JSON.stringify(t.id)} is invalid: allowed are 1-200 of [A-Za-z0-9._:/#-]`);
  if (!HOST_RE.test(t.host)) throw new Error(`probe target ${t.id}: host ${JSON.stringify(t.host)} is not a DNS name`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
    throw new Error(`probe target ${t.id}: port ${t.port} is out of range: allowed 1..65535`);
  }
  const path = t.path ?? "/headers";
  if (!PATH_RE.test(path)) {
    throw new Error(`probe target ${t.id}: path ${JSON.stringify(path)} is invalid: it must start with "/" and hold only URL path characters`);
  }
  if (t.token !== undefined && !TOKEN_RE.test(t.token)) {
    throw new Error(`probe target ${t.id}: the bearer token holds characters a bearer token may not (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)`);
  }
}

/**
 * Builds the script. Output, one line per target, in target order, then a `done` line:
 *   {"m":"istio-mtls-probe","id":"…","code":"200","exit":0,"time":"0.004","xfcc":true,"uri":"spiffe://…"}
 *   {"m":"istio-mtls-probe","done":3}
 */
export function probeScript(targets: ScriptTarget[], options: ScriptOptions): string {
  const timeout = options.requestTimeoutSeconds;
  if (!(timeout > 0 && timeout <= 300)) {
    throw new Error(`requestTimeoutSeconds ${timeout} is out of range: allowed (0, 300]`);
  }
  const ids = new Set<string>();
  for (const t of targets) {
    validateTarget(t);
    if (ids.has(t.id)) throw new Error(`probe target id ${t.id} appears twice`);
    ids.add(t.id);
  }
  const connectArgs = Object.entries(options.connectTo ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([from, to]) => `--connect-to ${shellQuote(`${from}:${to}`)}`)
    .join(" ");
  const xfccKey = caseless("x-forwarded-client-cert");
  const lines = [
    "set -u",
    `m=${shellQuote(LINE_MARKER)}`,
    'body=$(mktemp) || { echo "mktemp failed" >&2; exit 3; }',
    "trap 'rm -f \"$body\"' EXIT",
    // probe ID URL TOKEN: one request; the body goes to $body for the XFCC check.
    "probe() {",
    '  : > "$body"',
    '  if [ -n "$3" ]; then',
    `    w=$(printf 'Authorization: Bearer %s\\n' "$3" | curl -s -o "$body" -w '%{http_code} %{time_total}' --max-time ${timeout} ${connectArgs} -H @- "$2" 2>/dev/null)`,
    "  else",
    `    w=$(curl -s -o "$body" -w '%{http_code} %{time_total}' --max-time ${timeout} ${connectArgs} "$2" 2>/dev/null)`,
    "  fi",
    "  rc=$?",
    '  code=${w%% *}; t=${w#* }',
    '  [ "$w" = "$code" ] && t=""',
    // Flatten the body, keep what follows the last X-Forwarded-Client-Cert key, then its
    // (first) JSON string value: go-httpbin gives ["…"], classic httpbin gives "…".
    "  flat=$(tr -d '\\r\\n' < \"$body\")",
    `  if printf '%s' "$flat" | grep -q '"${xfccKey}"'; then`,
    "    xfcc=true",
    `    v=$(printf '%s' "$flat" | sed -E 's/.*"${xfccKey}"[[:space:]]*:[[:space:]]*//; s/^\\[[[:space:]]*//; s/^"(([^"\\\\]|\\\\.)*)".*/\\1/')`,
    "    uri=$(printf '%s' \"$v\" | grep -o 'URI=[A-Za-z0-9._~:/%@+=-]*' | tail -n 1 | sed 's/^URI=//')",
    "  else",
    '    xfcc=false; uri=""',
    "  fi",
    `  printf '{"m":"%s","id":"%s","code":"%s","exit":%d,"time":"%s","xfcc":%s,"uri":"%s"}\\n' "$m" "$1" "$code" "$rc" "$t" "$xfcc" "$uri"`,
    "}",
  ];
  for (const t of targets) {
    const url = `http://${t.host}:${t.port}${t.path ?? "/headers"}`;
    lines.push(`probe ${shellQuote(t.id)} ${shellQuote(url)} ${shellQuote(t.token ?? "")}`);
  }
  lines.push(`printf '{"m":"%s","done":%d}\\n' "$m" ${targets.length}`);
  return lines.join("\n") + "\n";
}
