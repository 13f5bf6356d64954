/**
 * The sleep container's curl configuration and proxy environment must not shape what the probe
 * observes: a `.curlrc` header can forge X-Forwarded-Client-Cert, and a proxy can answer 200 for
 * a host that does not resolve. Real sh and curl against loopback servers started here.
 */
import test from "ava";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseProbeOutput } from "../../probe/parse";
import { DEFAULT_REQUEST, type Cell } from "../../mesh/prediction";
import { cellProblem, observedCell } from "../../probe/observe";
import { probeScript, type ScriptTarget } from "../../probe/script";
import { listen, runScript, SHELLS } from "./script-harness";

const SLEEP_FOO = "spiffe://cluster.local/ns/foo/sa/sleep";
const FORGED_XFCC = `By=spiffe://cluster.local/ns/bar/sa/httpbin;Hash=00;Subject="";URI=${SLEEP_FOO}`;
const proxied: string[] = [];
const servers: http.Server[] = [];
let echoPort = 0;
let proxyPort = 0;
let curlHome = "";

test.before(async () => {
  // A plaintext httpbin without sidecar: it echoes the request headers as go-httpbin does.
  const echo = http.createServer((req, res) => {
    const headers = Object.fromEntries(Object.entries(req.headersDistinct).map(([k, v]) => [k.replace(/(^|-)[a-z]/g, (c) => c.toUpperCase()), v]));
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ headers }, null, 2) + "\n");
  });
  // A forward proxy that answers every request 200 with an httpbin-like body.
  const proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ headers: { Host: [req.headers.host] } }) + "\n");
  });
  echoPort = await listen(echo);
  proxyPort = await listen(proxy);
  servers.push(echo, proxy);
  curlHome = mkdtempSync(join(tmpdir(), "probe-curlrc-"));
  writeFileSync(join(curlHome, ".curlrc"), `header = "X-Forwarded-Client-Cert: ${FORGED_XFCC.replace(/"/g, '\\"')}"\n`);
});

test.after.always(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

const cell = (to: string, outcome: Pick<Cell, "code" | "mtls" | "clientIdentity" | "reason">): Cell => ({
  from: "sleep.foo",
  to,
  request: DEFAULT_REQUEST,
  ...outcome,
  client: { namespace: "foo", name: "sleep", labels: { app: "sleep" }, serviceAccount: "sleep", sidecar: true },
  target: { service: to.split(".")[0]!, namespace: to.split(".")[1]!.split(":")[0]!, port: 8000, targetPort: 8080 },
});

/** Runs the probe script for one target in `env`; the runner's verdict for `c` (undefined: a match). */
async function verdict(target: ScriptTarget, c: Cell, env: Record<string, string>, connectTo: Record<string, string>, shell = SHELLS[0]!) {
  const stdout = await runScript(probeScript([target], { requestTimeoutSeconds: 2, connectTo }), { shell, env });
  return cellProblem(c, observedCell(c, parseProbeOutput(stdout, [target.id]).get(target.id)!));
}

const curlrcEnv = () => ({ HOME: curlHome, CURL_HOME: curlHome, XDG_CONFIG_HOME: curlHome });
const proxyEnv = () => {
  const url = `http://127.0.0.1:${proxyPort}`;
  return { http_proxy: url, HTTP_PROXY: url, all_proxy: url, ALL_PROXY: url };
};

/** Plain `curl -s URL` in `env`, as the old script ran it. */
function plainCurl(url: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => execFile("curl", ["-s", "--max-time", "2", url], { encoding: "utf8", env: { PATH: process.env.PATH!, ...env } }, (e, out) => (e ? reject(e) : resolve(out))));
}

test("the test's environment is effective: curl on its own sends the .curlrc header and uses the proxy", async (t) => {
  t.deepEqual(JSON.parse(await plainCurl(`http://127.0.0.1:${echoPort}/headers`, curlrcEnv())).headers["X-Forwarded-Client-Cert"], [FORGED_XFCC]);
  t.regex(await plainCurl("http://httpbin.nowhere.invalid:8000/headers", proxyEnv()), /httpbin\.nowhere\.invalid:8000/);
});

for (const [i, shell] of SHELLS.entries()) {
  test(`false pass under ${shell.name}: a .curlrc header cannot make a plaintext server look like mTLS`, async (t) => {
    const target: ScriptTarget = { id: "c0", host: "httpbin.legacy", port: 8000 };
    const c = cell("httpbin.legacy:8000", { code: 200, mtls: true, clientIdentity: SLEEP_FOO, reason: "auto mTLS" });
    t.is(await verdict(target, c, curlrcEnv(), { "httpbin.legacy:8000": `127.0.0.1:${echoPort}` }, shell), "plaintext, expected mTLS");
  });

  test(`false pass under ${shell.name}: a proxy in the environment cannot answer for a host that does not resolve`, async (t) => {
    const host = `httpbin${i}.nowhere.invalid`;
    const target: ScriptTarget = { id: "c0", host, port: 8000 };
    const c = cell(`${host}:8000`, { code: 200, mtls: false, reason: "plaintext" });
    t.is(await verdict(target, c, { ...proxyEnv(), ...curlrcEnv() }, {}, shell), "status 000, expected 200");
    t.false(proxied.some((url) => url.includes(host)), "the proxy saw no request");
  });
}
