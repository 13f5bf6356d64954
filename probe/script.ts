/**
 * The in-pod probe: one POSIX `sh` script per client pod that curls every target of that client
 * and prints one JSON line per target, then a `done` line so a cut-off output is detectable.
 *
 * It runs in the `sleep` container (curlimages/curl: busybox sh, curl, sed, grep, tr; no jq),
 * so it uses nothing else, and it writes no file: the container's root filesystem is read-only,
 * so curl's headers, body and `-w` trailer stay in a shell variable. curl runs without any
 * config file (`-q`) or proxy, so the container's `.curlrc` or proxy variables cannot change
 * what is sent. Every value that comes from inputs is validated, then shell-quoted; every value
 * printed from a response is reduced to characters that need no JSON escaping.
 */
import { DEFAULT_REQUEST } from "../mesh/prediction";

/** One request the script sends. */
export interface ScriptTarget {
  /** Printed back on the target's line; [A-Za-z0-9._:/#-] only, so it needs no JSON escaping. */
  id: string;
  /** Service DNS name, e.g. "httpbin.foo" (or any host the client can resolve). */
  host: string;
  port: number;
  /** Default DEFAULT_REQUEST's ("/headers"). */
  path?: string;
  /** Default DEFAULT_REQUEST's ("GET"); one of PROBE_METHODS. */
  method?: string;
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

/**
 * What the `server` header and the body's first line are reduced to (other characters become "?"),
 * valid both in a sed bracket expression and in a JS character class, and needing no JSON escaping.
 */
export const EVIDENCE_CHARS = "A-Za-z0-9 ._:/,()=+|-";
export const SERVER_MAX = 64;
export const BODY_MAX = 120;

const ID_RE = /^[A-Za-z0-9._:/#-]{1,200}$/;
const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
// RFC 3986 path characters plus "?" and "&" for a query; no whitespace, quotes or control bytes.
const PATH_RE = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;
/**
 * The methods curl sends as a plain request with `-X`. HEAD is not one (curl would wait for the
 * body its headers announce), nor CONNECT or TRACE.
 */
export const PROBE_METHODS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
// RFC 6750 b64token: what a bearer token may hold.
const TOKEN_RE = /^[A-Za-z0-9\-._~+/]+=*$/;
/**
 * A header every probe request carries, so that an answer echoing the request's headers (httpbin's
 * /headers, /get, /anything) is told from any other: only in an echo does the presence or absence
 * of X-Forwarded-Client-Cert show the transport.
 */
export const PROBE_HEADER = "X-Istio-Mtls-Probe";
// Separates curl's output from its -w trailer; the last occurrence counts, so a body holding it
// changes nothing. No leading "@": `-w @x` reads the format from file x.
const TRAILER_MARK = "#istio-mtls-probe-trailer#";

/** Quotes a value as a single POSIX shell word: '…' with each ' written as '\''. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A sed character class sequence matching `name` in any letter case (busybox sed has no I flag everywhere). */
function caseless(name: string): string {
  return [...name].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join("");
}

/** sed commands that reduce the pattern space to EVIDENCE_CHARS and at most `max` characters. */
function sanitize(max: number): string {
  return `s#[^${EVIDENCE_CHARS}]#?#g;s#^\\(.\\{${max}\\}\\).*#\\1#`;
}

export function validateTarget(t: ScriptTarget): void {
  if (!ID_RE.test(t.id)) throw new Error(`probe target id ${JSON.stringify(t.id)} is invalid: allowed are 1-200 of [A-Za-z0-9._:/#-]`);
  if (!HOST_RE.test(t.host)) throw new Error(`probe target ${t.id}: host ${JSON.stringify(t.host)} is not a DNS name`);
  if (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
    throw new Error(`probe target ${t.id}: port ${t.port} is out of range: allowed 1..65535`);
  }
  const path = t.path ?? DEFAULT_REQUEST.path;
  if (!PATH_RE.test(path)) {
    throw new Error(`probe target ${t.id}: path ${JSON.stringify(path)} is invalid: it must start with "/" and hold only URL path characters`);
  }
  const method = t.method ?? DEFAULT_REQUEST.method;
  if (!PROBE_METHODS.includes(method)) {
    throw new Error(`probe target ${t.id}: method ${JSON.stringify(method)} cannot be probed: allowed ${PROBE_METHODS.join(", ")}`);
  }
  if (t.token !== undefined && !TOKEN_RE.test(t.token)) {
    throw new Error(`probe target ${t.id}: the bearer token holds characters a bearer token may not (allowed: A-Z a-z 0-9 - . _ ~ + / and trailing =)`);
  }
}

/**
 * Builds the script. Output, one line per target, in target order, then a `done` line:
 *   {"m":"istio-mtls-probe","id":"…","code":"503","exit":0,"time":"0.004","echo":false,"xfcc":false,"uri":"","server":"envoy","body":"no healthy upstream"}
 *   {"m":"istio-mtls-probe","done":3}
 * `echo`: the body echoes the request's headers (PROBE_HEADER among them), so `xfcc` (an
 * X-Forwarded-Client-Cert header echoed) and `uri` (its URI=) show the transport; never true outside an echo.
 * `server` is the response's Server header and `body` the first line of its body (both sanitised,
 * see EVIDENCE_CHARS): they tell Envoy's own answers from the application's.
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
  // -q first (it only works there): no .curlrc; --noproxy '*' with the proxy variables unset: straight to the service.
  // -D - puts the headers on stdout before the body; the trailer follows the body.
  const curl = `curl -q -s -D - -w '${TRAILER_MARK}%{http_code}:%{time_total}' --noproxy '*' --max-time ${timeout} -H '${PROBE_HEADER}: 1' ${connectArgs}`;
  const xfccKey = caseless("x-forwarded-client-cert");
  const probeKey = caseless(PROBE_HEADER);
  const lines = [
    "set -u",
    // Byte-wise character ranges, the same in busybox and GNU sed: a non-ASCII byte becomes "?".
    "LC_ALL=C; export LC_ALL",
    "unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY",
    `m=${shellQuote(LINE_MARKER)}`,
    `end=${shellQuote(TRAILER_MARK)}`,
    "cr=$(printf '\\r')",
    "nl='",
    "'",
    // probe ID URL TOKEN METHOD: one request, its response held in $out.
    "probe() {",
    '  if [ -n "$3" ]; then',
    `    out=$(printf 'Authorization: Bearer %s\\n' "$3" | ${curl} -X "$4" -H @- "$2" 2>/dev/null)`,
    "  else",
    `    out=$(${curl} -X "$4" "$2" 2>/dev/null)`,
    "  fi",
    "  rc=$?",
    '  case $out in',
    '    *"$end"*) w=${out##*"$end"}; resp=${out%"$end"*} ;;',
    '    *) w=""; resp=$out ;;',
    "  esac",
    // Only curl's own digits may reach the output line; anything else fails the parser.
    '  case $w in *[!0-9.:]*) w="" ;; esac',
    '  code=${w%%:*}; t=${w#*:}',
    '  [ "$w" = "$code" ] && t=""',
    '  case $resp in',
    '    *"$cr$nl$cr$nl"*) head=${resp%%"$cr$nl$cr$nl"*}; body=${resp#*"$cr$nl$cr$nl"} ;;',
    '    *) head=$resp; body="" ;;',
    "  esac",
    `  server=$(printf '%s\\n' "$head" | tr -d '\\r' | sed -n '/^${caseless("server")}:/{s/^[^:]*:[[:space:]]*//;s/[[:space:]]*$//;${sanitize(SERVER_MAX)};p;q;}')`,
    `  first=$(printf '%s\\n' "$body" | tr -d '\\r' | sed -n '1{${sanitize(BODY_MAX)};p;q;}')`,
    // Flatten the body, keep what follows the last X-Forwarded-Client-Cert key, then its
    // (first) JSON string value: go-httpbin gives ["…"], classic httpbin gives "…".
    "  flat=$(printf '%s' \"$body\" | tr -d '\\r\\n')",
    `  if printf '%s' "$flat" | grep -q '"${probeKey}"'; then echoed=true; else echoed=false; fi`,
    `  if [ "$echoed" = true ] && printf '%s' "$flat" | grep -q '"${xfccKey}"'; then`,
    "    xfcc=true",
    `    v=$(printf '%s' "$flat" | sed -E 's/.*"${xfccKey}"[[:space:]]*:[[:space:]]*//; s/^\\[[[:space:]]*//; s/^"(([^"\\\\]|\\\\.)*)".*/\\1/')`,
    "    uri=$(printf '%s' \"$v\" | grep -o 'URI=[A-Za-z0-9._~:/%@+=-]*' | sed -n '$s/^URI=//p')",
    "  else",
    '    xfcc=false; uri=""',
    "  fi",
    `  printf '{"m":"%s","id":"%s","code":"%s","exit":%d,"time":"%s","echo":%s,"xfcc":%s,"uri":"%s","server":"%s","body":"%s"}\\n' "$m" "$1" "$code" "$rc" "$t" "$echoed" "$xfcc" "$uri" "$server" "$first"`,
    "}",
  ];
  for (const t of targets) {
    const url = `http://${t.host}:${t.port}${t.path ?? DEFAULT_REQUEST.path}`;
    lines.push(`probe ${shellQuote(t.id)} ${shellQuote(url)} ${shellQuote(t.token ?? "")} ${shellQuote(t.method ?? DEFAULT_REQUEST.method)}`);
  }
  lines.push(`printf '{"m":"%s","done":%d}\\n' "$m" ${targets.length}`);
  return lines.join("\n") + "\n";
}
