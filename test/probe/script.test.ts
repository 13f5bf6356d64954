import test from "ava";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProbeOutput } from "../../probe/parse";
import { BODY_MAX, probeScript, shellQuote, type ScriptTarget } from "../../probe/script";
import { CAN_SANDBOX, listen, runScript, SHELLS, type Shell } from "./script-harness";

// Local servers standing in for httpbin behind the mesh; the script reaches them through
// curl --connect-to while its URLs keep the in-cluster service names. Each run sees only
// curl, sed, grep and tr on its PATH (see script-harness.ts).
const XFCC = 'By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=4a1b;Subject="";URI=spiffe://cluster.local/ns/foo/sa/sleep';
const seen: { path?: string; authorization?: string } = {};
/** The method each path was requested with on the `method` server. */
const methods: Record<string, string | undefined> = {};
const ENVOY_RESET = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";

const servers: net.Server[] = [];
const ports: Record<string, number> = {};

test.before(async () => {
  const json = (body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(body, null, 2) + "\n");
  };
  // httpbin's /headers: the request's headers, canonically named, with what a server sidecar adds.
  const canonical = (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
  const echoed = (req: http.IncomingMessage, added: Record<string, string>) => ({ ...Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [canonical(k), String(v)])), ...added });
  const defs: Record<string, net.Server> = {
    // go-httpbin: header values are arrays
    goHttpbin: http.createServer((req, res) =>
      json({ headers: Object.fromEntries(Object.entries(echoed(req, { "X-Forwarded-Client-Cert": XFCC })).map(([k, v]) => [k, [v]])) })(req, res),
    ),
    // classic httpbin: header values are strings, one line
    classic: http.createServer((req, res) => res.end(JSON.stringify({ headers: echoed(req, { "X-Forwarded-Client-Cert": XFCC.replace("/ns/foo/sa/sleep", "/ns/bar/sa/sleep") }) }))),
    // httpbin without a server sidecar in front: the echo, no XFCC
    plain: http.createServer((req, res) => json({ headers: echoed(req, {}) })(req, res)),
    // an XFCC-lookalike elsewhere in the body must not count
    decoy: http.createServer((req, res) => json({ headers: { ...echoed(req, {}), "X-Not-Forwarded-Client-Cert": XFCC }, note: "URI=spiffe://cluster.local/ns/x/sa/y" })(req, res)),
    // an application whose body holds an XFCC key but echoes nothing of the request: no transport shown
    notEcho: http.createServer(json({ headers: { "X-Forwarded-Client-Cert": [XFCC] } })),
    unavailable: http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end("no healthy upstream");
    }),
    // What a client sidecar answers itself, and an application's 503 with a hostile Server header and body.
    envoyReset: http.createServer((_req, res) => res.writeHead(503, { "content-type": "text/plain", server: "envoy" }).end(ENVOY_RESET)),
    envoyNoUpstream: http.createServer((_req, res) => res.writeHead(503, { SERVER: "envoy" }).end("no healthy upstream")),
    app503: http.createServer((_req, res) =>
      res.writeHead(503, { server: 'gunicorn "19"\\x' }).end(`Service "down"\t\\ \u00e9 #istio-mtls-probe-trailer#200:0.1\r\n\r\nupstream connect error\n`),
    ),
    long: http.createServer((_req, res) => res.writeHead(500, { server: "s".repeat(100) }).end("x".repeat(300))),
    echo: http.createServer((req, res) => {
      seen.path = req.url;
      seen.authorization = req.headers.authorization;
      json({ headers: {} })(req, res);
    }),
    method: http.createServer((req, res) => {
      methods[req.url!] = req.method;
      json({ headers: {} })(req, res);
    }),
    reset: net.createServer((socket) => socket.once("data", () => socket.resetAndDestroy())),
    silent: net.createServer(() => undefined),
  };
  for (const [name, server] of Object.entries(defs)) {
    ports[name] = await listen(server);
    servers.push(server);
  }
});

test.after.always(() => {
  for (const s of servers) {
    (s as http.Server).closeAllConnections?.();
    s.close();
  }
});

function run(targets: ScriptTarget[], timeout = 2, shell?: Shell, readOnlyRoot = false): Promise<string> {
  const connectTo: Record<string, string> = {};
  for (const t of targets) connectTo[`${t.host}:${t.port}`] = `127.0.0.1:${ports[t.host.split(".")[0]!]}`;
  return runScript(probeScript(targets, { requestTimeoutSeconds: timeout, connectTo }), { ...(shell ? { shell } : {}), readOnlyRoot });
}

const t = (name: string, extra: Partial<ScriptTarget> = {}): ScriptTarget => ({ id: `${name}.ns:8000`, host: `${name}.ns`, port: 8000, ...extra });

for (const shell of SHELLS) test(`real curl under ${shell.name}: XFCC present in go-httpbin (array) and classic (string) bodies, absent otherwise`, async (tt) => {
  const targets = [t("goHttpbin"), t("classic"), t("plain"), t("decoy"), t("notEcho")];
  const out = parseProbeOutput(await run(targets, 2, shell), targets.map((x) => x.id));
  tt.like(out.get("goHttpbin.ns:8000"), { code: 200, curlExit: 0, echo: true, xfcc: true, peerIdentity: "spiffe://cluster.local/ns/foo/sa/sleep" });
  tt.like(out.get("classic.ns:8000"), { code: 200, curlExit: 0, echo: true, xfcc: true, peerIdentity: "spiffe://cluster.local/ns/bar/sa/sleep" });
  tt.like(out.get("plain.ns:8000"), { code: 200, curlExit: 0, echo: true, xfcc: false });
  tt.is(out.get("plain.ns:8000")!.peerIdentity, undefined);
  tt.like(out.get("decoy.ns:8000"), { code: 200, echo: true, xfcc: false });
  tt.is(out.get("decoy.ns:8000")!.peerIdentity, undefined);
  // Not an echo of this request: whatever the body holds, the transport is not shown.
  tt.like(out.get("notEcho.ns:8000"), { code: 200, echo: false, xfcc: false });
  tt.is(out.get("notEcho.ns:8000")!.peerIdentity, undefined);
  tt.true(out.get("goHttpbin.ns:8000")!.timeSeconds >= 0);
});

for (const shell of SHELLS) test(`real curl under ${shell.name}: reset → 000 exit 56; 503 kept; silent server → 000 exit 28`, async (tt) => {
  const targets = [t("reset"), t("unavailable"), t("silent")];
  const out = parseProbeOutput(await run(targets, 1, shell), targets.map((x) => x.id));
  tt.like(out.get("reset.ns:8000"), { code: 0, curlExit: 56, xfcc: false, server: "", body: "" });
  tt.like(out.get("unavailable.ns:8000"), { code: 503, curlExit: 0, xfcc: false, server: "", body: "no healthy upstream" });
  tt.like(out.get("silent.ns:8000"), { code: 0, curlExit: 28, xfcc: false });
  tt.true(out.get("silent.ns:8000")!.timeSeconds >= 0.9);
});

for (const shell of SHELLS) test(`real curl under ${shell.name}: the Server header and the body's first line tell Envoy's 503s from the application's`, async (tt) => {
  const targets = [t("envoyReset"), t("envoyNoUpstream"), t("app503"), t("long"), t("goHttpbin")];
  const out = parseProbeOutput(await run(targets, 2, shell), targets.map((x) => x.id));
  tt.like(out.get("envoyReset.ns:8000"), { code: 503, curlExit: 0, server: "envoy", body: ENVOY_RESET });
  tt.like(out.get("envoyNoUpstream.ns:8000"), { code: 503, server: "envoy", body: "no healthy upstream" });
  // Quotes, backslashes, tabs and non-ASCII bytes become "?"; a trailer mark in the body changes nothing.
  const app = out.get("app503.ns:8000")!;
  tt.like(app, { code: 503, curlExit: 0, server: "gunicorn ?19??x" });
  tt.regex(app.body, /^Service \?down\?\?\? \?+ \?istio-mtls-probe-trailer\?200:0\.1$/);
  tt.like(out.get("long.ns:8000"), { code: 500, server: "s".repeat(64), body: "x".repeat(BODY_MAX) });
  tt.like(out.get("goHttpbin.ns:8000"), { code: 200, server: "", body: "?", xfcc: true });
});

// The sleep container runs with readOnlyRootFilesystem and no volume: the script must need no file.
for (const shell of SHELLS) (CAN_SANDBOX ? test : test.skip)(`real curl under ${shell.name} on a read-only root filesystem (needs root for a mount namespace)`, async (tt) => {
  const targets = [t("goHttpbin"), t("envoyReset"), t("reset"), t("echo", { token: "abc.def" })];
  const out = parseProbeOutput(await run(targets, 2, shell, true), targets.map((x) => x.id));
  tt.like(out.get("goHttpbin.ns:8000"), { code: 200, xfcc: true, peerIdentity: "spiffe://cluster.local/ns/foo/sa/sleep" });
  tt.like(out.get("envoyReset.ns:8000"), { code: 503, server: "envoy", body: ENVOY_RESET });
  tt.like(out.get("reset.ns:8000"), { code: 0, curlExit: 56 });
  tt.like(out.get("echo.ns:8000"), { code: 200 });
});

test("real curl: hostile path characters reach the server literally and run nothing", async (tt) => {
  const dir = mkdtempSync(join(tmpdir(), "probe-quote-"));
  const marker = join(dir, "pwned");
  const path = `/anything/it's$(touch$IFS${marker});touch$IFS${marker}&x='$(id)'`;
  const token = "eyJhbGciOi.J9-_~+/x==";
  const targets = [t("echo", { path, token })];
  const out = parseProbeOutput(await run(targets), targets.map((x) => x.id));
  tt.is(out.get("echo.ns:8000")!.code, 200);
  tt.is(seen.path, path);
  tt.is(seen.authorization, `Bearer ${token}`);
  tt.false(existsSync(marker));
});

test("real curl: the target's method is the request's", async (tt) => {
  for (const method of ["POST", "DELETE", "GET"]) {
    const targets = [t("method", { method, path: `/anything/${method}` })];
    const out = parseProbeOutput(await run(targets), targets.map((x) => x.id));
    tt.is(out.get("method.ns:8000")!.code, 200);
    tt.is(methods[`/anything/${method}`], method);
  }
});

test("validation rejects what cannot be quoted safely into a URL or header", (tt) => {
  const opts = { requestTimeoutSeconds: 2 };
  tt.throws(() => probeScript([t("a", { token: "abc\r\nX-Evil: 1" })], opts), { message: /bearer token/ });
  tt.throws(() => probeScript([t("a", { token: "a'b" })], opts), { message: /bearer token/ });
  tt.throws(() => probeScript([t("a", { path: "/x y" })], opts), { message: /path "\/x y" is invalid/ });
  tt.throws(() => probeScript([t("a", { path: 'x"' })], opts), { message: /must start with/ });
  tt.throws(() => probeScript([t("a", { host: "a;b" })], opts), { message: /not a DNS name/ });
  tt.throws(() => probeScript([t("a", { method: "HEAD" })], opts), { message: /method "HEAD" cannot be probed: allowed GET, POST, PUT, PATCH, DELETE, OPTIONS/ });
  tt.throws(() => probeScript([t("a", { method: "get;id" })], opts), { message: /method "get;id" cannot be probed/ });
  tt.throws(() => probeScript([t("a", { port: 70000 })], opts), { message: /port 70000 is out of range/ });
  tt.throws(() => probeScript([t("a"), t("a")], opts), { message: /appears twice/ });
  tt.throws(() => probeScript([t("a")], { requestTimeoutSeconds: 0 }), { message: /requestTimeoutSeconds 0/ });
});

test("shellQuote round-trips through sh", async (tt) => {
  const values = ["", "plain", "it's", "$(id)", "`id`", "a\nb", "'\\''", "\"$HOME\""];
  for (const v of values) {
    const out = await new Promise<string>((resolve, reject) =>
      execFile("/bin/sh", ["-c", `printf '%s' ${shellQuote(v)}`], (e, so) => (e ? reject(e) : resolve(so))),
    );
    tt.is(out, v);
  }
});
