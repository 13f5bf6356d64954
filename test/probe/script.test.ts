import test from "ava";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProbeOutput } from "../../probe/parse";
import { probeScript, shellQuote, type ScriptTarget } from "../../probe/script";

// Local servers standing in for httpbin behind the mesh; the script reaches them through
// curl --connect-to while its URLs keep the in-cluster service names.
const XFCC = 'By=spiffe://cluster.local/ns/foo/sa/httpbin;Hash=4a1b;Subject="";URI=spiffe://cluster.local/ns/foo/sa/sleep';
const seen: { path?: string; authorization?: string } = {};

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)));
}

const servers: net.Server[] = [];
const ports: Record<string, number> = {};

test.before(async () => {
  const json = (body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(body, null, 2) + "\n");
  };
  const defs: Record<string, net.Server> = {
    // go-httpbin: header values are arrays
    goHttpbin: http.createServer(json({ headers: { Accept: ["*/*"], "X-Forwarded-Client-Cert": [XFCC], Host: ["httpbin.foo:8000"] } })),
    // classic httpbin: header values are strings, one line
    classic: http.createServer((_req, res) => res.end(JSON.stringify({ headers: { "X-Forwarded-Client-Cert": XFCC.replace("/ns/foo/sa/sleep", "/ns/bar/sa/sleep"), Host: "x" } }))),
    plain: http.createServer(json({ headers: { Accept: ["*/*"], "User-Agent": ["curl"] } })),
    // an XFCC-lookalike elsewhere in the body must not count
    decoy: http.createServer(json({ headers: { "X-Not-Forwarded-Client-Cert": [XFCC] }, note: "URI=spiffe://cluster.local/ns/x/sa/y" })),
    unavailable: http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end("no healthy upstream");
    }),
    echo: http.createServer((req, res) => {
      seen.path = req.url;
      seen.authorization = req.headers.authorization;
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

function run(targets: ScriptTarget[], timeout = 2, shell = ["/bin/sh"]): Promise<string> {
  const connectTo: Record<string, string> = {};
  for (const t of targets) connectTo[`${t.host}:${t.port}`] = `127.0.0.1:${ports[t.host.split(".")[0]!]}`;
  const script = probeScript(targets, { requestTimeoutSeconds: timeout, connectTo });
  return new Promise((resolve, reject) =>
    execFile(shell[0]!, [...shell.slice(1), "-c", script], { encoding: "utf8", timeout: 20000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}

const t = (name: string, extra: Partial<ScriptTarget> = {}): ScriptTarget => ({ id: `${name}.ns:8000`, host: `${name}.ns`, port: 8000, ...extra });

for (const shell of [["/bin/sh"], ["bash", "--posix"]]) test(`real curl under ${shell.join(" ")}: XFCC present in go-httpbin (array) and classic (string) bodies, absent otherwise`, async (tt) => {
  const targets = [t("goHttpbin"), t("classic"), t("plain"), t("decoy")];
  const out = parseProbeOutput(await run(targets, 2, shell), targets.map((x) => x.id));
  tt.like(out.get("goHttpbin.ns:8000"), { code: 200, curlExit: 0, xfcc: true, peerIdentity: "spiffe://cluster.local/ns/foo/sa/sleep" });
  tt.like(out.get("classic.ns:8000"), { code: 200, curlExit: 0, xfcc: true, peerIdentity: "spiffe://cluster.local/ns/bar/sa/sleep" });
  tt.like(out.get("plain.ns:8000"), { code: 200, curlExit: 0, xfcc: false });
  tt.is(out.get("plain.ns:8000")!.peerIdentity, undefined);
  tt.like(out.get("decoy.ns:8000"), { code: 200, xfcc: false });
  tt.is(out.get("decoy.ns:8000")!.peerIdentity, undefined);
  tt.true(out.get("goHttpbin.ns:8000")!.timeSeconds >= 0);
});

test("real curl: reset → 000 exit 56; 503 kept; silent server → 000 exit 28", async (tt) => {
  const targets = [t("reset"), t("unavailable"), t("silent")];
  const out = parseProbeOutput(await run(targets, 1), targets.map((x) => x.id));
  tt.like(out.get("reset.ns:8000"), { code: 0, curlExit: 56, xfcc: false });
  tt.like(out.get("unavailable.ns:8000"), { code: 503, curlExit: 0, xfcc: false });
  tt.like(out.get("silent.ns:8000"), { code: 0, curlExit: 28, xfcc: false });
  tt.true(out.get("silent.ns:8000")!.timeSeconds >= 0.9);
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

test("validation rejects what cannot be quoted safely into a URL or header", (tt) => {
  const opts = { requestTimeoutSeconds: 2 };
  tt.throws(() => probeScript([t("a", { token: "abc\r\nX-Evil: 1" })], opts), { message: /bearer token/ });
  tt.throws(() => probeScript([t("a", { token: "a'b" })], opts), { message: /bearer token/ });
  tt.throws(() => probeScript([t("a", { path: "/x y" })], opts), { message: /path "\/x y" is invalid/ });
  tt.throws(() => probeScript([t("a", { path: 'x"' })], opts), { message: /must start with/ });
  tt.throws(() => probeScript([t("a", { host: "a;b" })], opts), { message: /not a DNS name/ });
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
