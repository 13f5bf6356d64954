import test from "ava";
import { parseProbeOutput } from "../../probe/parse";
import { DEFAULT_REQUEST, type Cell } from "../../mesh/prediction";
import { boundedAll, formatMatrix, isProbeMismatchError, podReady, runProbes, type ProbeMismatchError, type RunOptions } from "../../probe/runner";
import type { ExecTransport } from "../../probe/transport";
import { selfSignedRoot } from "./false-pass-certs";

interface FakeStats {
  execs: number;
  lists: number;
  maxInFlight: number;
  execsByPod: Record<string, number>;
  commands: { namespace: string; pod: string; container: string; command: string[]; timeoutMs: number }[];
  requests: { namespace: string; method: string; url: string; token: string }[];
}
const { fakeTransport } = require("./fake-transport.cjs") as { fakeTransport: (scenario: unknown) => ExecTransport & { stats: FakeStats } };

const NS = ["foo", "bar", "legacy"];
const sidecar = (ns: string) => ns !== "legacy";
const id = (ns: string) => `spiffe://cluster.local/ns/${ns}/sa/sleep`;

/** The STRICT-in-foo matrix: legacy → foo refused, everything else 200, mTLS between sidecars. */
function expectedCode(from: string, to: string): number {
  return from === "legacy" && to === "foo" ? 0 : 200;
}
function cells(namespaces = NS): Cell[] {
  return namespaces.flatMap((from) =>
    namespaces.map((to) => ({
      from: `sleep.${from}`,
      to: `httpbin.${to}:8000`,
      request: DEFAULT_REQUEST,
      code: expectedCode(from, to),
      mtls: sidecar(from) && sidecar(to),
      reason: expectedCode(from, to) === 0 ? "plaintext client (no sidecar) → STRICT (PeerAuthentication foo/default)" : "auto mTLS",
      ...(expectedCode(from, to) === 0 ? { failure: "reset" as const } : {}),
      ...(sidecar(from) && sidecar(to) ? { clientIdentity: id(from) } : {}),
      client: { namespace: from, name: "sleep", labels: { app: "sleep" }, serviceAccount: "sleep", sidecar: sidecar(from) },
      target: { service: "httpbin", namespace: to, port: 8000, targetPort: 8080 },
    })),
  );
}

function pods(namespaces = NS) {
  return namespaces.map((ns) => ({
    namespace: ns,
    name: `sleep-${ns}-7d9f`,
    labels: { app: "sleep" },
    containers: [{ name: "sleep", ready: true }, ...(sidecar(ns) ? [{ name: "istio-proxy", ready: true }] : [])],
  }));
}

/** Responses that match `cells()`, optionally overridden per key with a sequence per attempt. */
function responses(namespaces = NS, override: Record<string, unknown[]> = {}) {
  const r: Record<string, unknown[]> = {};
  for (const from of namespaces)
    for (const to of namespaces) {
      const code = expectedCode(from, to);
      r[`${from}|httpbin.${to}:8000/headers`] =
        code === 0 ? [{ code: 0, exit: 56 }] : [{ code: 200, exit: 0, ...(sidecar(from) && sidecar(to) ? { uri: id(from) } : {}) }];
    }
  return { ...r, ...override };
}

function clock() {
  let now = 0;
  const slept: number[] = [];
  return { clock: () => now, sleep: async (ms: number) => void (slept.push(ms), (now += ms)), slept };
}

function opts(transport: ExecTransport, extra: Partial<RunOptions> = {}): RunOptions {
  const c = clock();
  return { transport, requestTimeoutSeconds: 3, deadlineSeconds: 60, concurrency: 4, clock: c.clock, sleep: c.sleep, ...extra };
}

test("a probe client's cells run in its `probe` container; the demo's sleep in `sleep`, from the pods themselves", async (t) => {
  const probeClient = { namespace: "legacy", name: "istio-mtls-probe", labels: { app: "istio-mtls-probe" }, serviceAccount: "istio-mtls-probe", sidecar: false };
  const mine = cells().map((c) => (c.client.namespace === "legacy" ? { ...c, from: "istio-mtls-probe.legacy", client: probeClient } : c));
  const ps = pods().map((p) =>
    p.namespace === "legacy" ? { ...p, name: "istio-mtls-probe-legacy-7d9f", labels: { app: "istio-mtls-probe" }, containers: [{ name: "probe", ready: true }] } : p,
  );
  const fake = fakeTransport({ pods: ps, responses: responses() });
  const r = await runProbes(mine, opts(fake));
  t.is(r.attempts, 1);
  t.deepEqual(fake.stats.commands.map((c) => `${c.pod} ${c.container}`).sort(), ["istio-mtls-probe-legacy-7d9f probe", "sleep-bar-7d9f sleep", "sleep-foo-7d9f sleep"]);
});

test("a converged 3×3 matrix: one exec per client pod, in the sleep container, observed cells", async (t) => {
  const fake = fakeTransport({ pods: pods(), responses: responses() });
  const r = await runProbes(cells(), opts(fake));
  t.is(r.attempts, 1);
  t.is(r.execs, 3);
  t.is(fake.stats.execs, 3);
  t.deepEqual(fake.stats.execsByPod, { "foo/sleep-foo-7d9f": 1, "bar/sleep-bar-7d9f": 1, "legacy/sleep-legacy-7d9f": 1 });
  t.true(fake.stats.commands.every((c) => c.container === "sleep" && c.command[0] === "sh" && c.command[1] === "-c"));
  t.is(fake.stats.commands[0]!.timeoutMs, (3 * 3 + 15) * 1000);
  t.is(r.cells.length, 9);
  t.like(r.cells[0], { from: "sleep.foo", to: "httpbin.foo:8000", code: 200, mtls: true, clientIdentity: id("foo"), evidence: { mtlsShown: true } });
  t.like(r.cells[6], { from: "sleep.legacy", to: "httpbin.foo:8000", code: 0, failure: "reset", evidence: { curlExit: 56, mtlsShown: false } });
  t.like(r.cells[8], { from: "sleep.legacy", to: "httpbin.legacy:8000", code: 200, mtls: false, evidence: { mtlsShown: true } });
  t.is(
    formatMatrix(r.cells).split("\n").slice(0, 3).join("\n") + "\n" + formatMatrix(r.cells).split("\n")[6],
    [
      "sleep.foo to httpbin.foo: 200 (mTLS spiffe://cluster.local/ns/foo/sa/sleep)",
      "sleep.foo to httpbin.bar: 200 (mTLS spiffe://cluster.local/ns/foo/sa/sleep)",
      "sleep.foo to httpbin.legacy: 200 (plaintext)",
      "sleep.legacy to httpbin.foo: 000 (curl exit 56)",
    ].join("\n"),
  );
});

/** cells() with the sleep.foo → httpbin.bar cell predicted for `request`, and its outcome. */
function withRequest(request: Cell["request"], outcome: Partial<Cell>): Cell[] {
  return cells().map((c) => (c.from === "sleep.foo" && c.to === "httpbin.bar:8000" ? { ...c, request, ...outcome } : c));
}

test("each cell is probed with its own request: a cell predicted for /ip is not checked at /headers", async (t) => {
  // /headers would answer 200 over mTLS; the cell is predicted 403 for /ip (an AuthorizationPolicy on that path).
  const predicted = withRequest({ ...DEFAULT_REQUEST, path: "/ip" }, { code: 403 });
  const fake = fakeTransport({ pods: pods(), responses: responses(NS, { "foo|httpbin.bar:8000/ip": [{ code: 403, server: "envoy", body: "RBAC: access denied" }] }) });
  // Cells in another order than by client: still one exec per client.
  const r = await runProbes([...predicted].sort((a, b) => a.to.localeCompare(b.to)), opts(fake, { deadlineSeconds: 0 }));
  t.is(r.execs, 3);
  t.deepEqual(fake.stats.requests.filter((q) => q.namespace === "foo").map((q) => q.url).sort(), ["httpbin.bar:8000/ip", "httpbin.foo:8000/headers", "httpbin.legacy:8000/headers"]);
  t.like(r.cells.find((c) => c.from === "sleep.foo" && c.to === "httpbin.bar:8000"), { code: 403, request: { path: "/ip" } });
  t.regex(formatMatrix(r.cells), /^sleep\.foo to httpbin\.bar \/ip: 403$/m);
});

test("each cell is probed with its own method and token", async (t) => {
  const token = { kind: "valid" as const, issuer: "https://issuer.example", subject: "alice" };
  const predicted = withRequest({ path: "/anything", method: "POST", token }, { mtls: true });
  const fake = fakeTransport({ pods: pods(), responses: responses(NS, { "foo|POST httpbin.bar:8000/anything": [{ code: 200, echo: false }] }) });
  const r = await runProbes(predicted, opts(fake, { deadlineSeconds: 0, tokens: [{ token: { ...token }, bearer: "eyJ.alice.sig" }] }));
  t.like(fake.stats.requests.find((q) => q.url === "httpbin.bar:8000/anything"), { namespace: "foo", method: "POST", token: "eyJ.alice.sig" });
  t.true(fake.stats.requests.filter((q) => q.url !== "httpbin.bar:8000/anything").every((q) => q.method === "GET" && q.token === ""));
  // An answer that does not echo the request's headers cannot show mTLS: the prediction's mTLS is neither confirmed nor refuted.
  t.like(r.cells[1], { code: 200, evidence: { mtlsShown: false } });
});

test("a request the probe cannot send as predicted is an error before anything runs", async (t) => {
  const cases: [Cell[], RegExp][] = [
    [withRequest({ ...DEFAULT_REQUEST, token: { kind: "invalid" } }, {}), /^sleep\.foo to httpbin\.bar:8000\/headers: the request carries an invalid token but no token bytes were given \(tokenFor\)/],
    [withRequest({ ...DEFAULT_REQUEST, method: "HEAD" }, {}), /^sleep\.foo to HEAD httpbin\.bar:8000\/headers: method "HEAD" cannot be probed: allowed GET, POST/],
  ];
  for (const [predicted, re] of cases) {
    const fake = fakeTransport({ pods: pods(), responses: responses() });
    const c = clock();
    await t.throwsAsync(runProbes(predicted, opts(fake, { clock: c.clock, sleep: c.sleep })), { message: re });
    t.is(fake.stats.execs, 0, "nothing was probed");
    t.deepEqual(c.slept, [], "not retried");
  }
});

test("concurrency bound: never more execs in flight than asked", async (t) => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
  for (const limit of [1, 3]) {
    const fake = fakeTransport({ pods: pods(names), responses: responses(names), execLatencyMs: 15 });
    await runProbes(cells(names), opts(fake, { concurrency: limit }));
    t.is(fake.stats.maxInFlight, limit);
    t.is(fake.stats.execs, 10);
  }
});

test("boundedAll keeps order and the bound", async (t) => {
  let inFlight = 0;
  let max = 0;
  const tasks = Array.from({ length: 7 }, (_, i) => async () => {
    inFlight++;
    max = Math.max(max, inFlight);
    await new Promise((r) => setTimeout(r, 5 * (7 - i)));
    inFlight--;
    return i;
  });
  t.deepEqual(await boundedAll(tasks, 2), [0, 1, 2, 3, 4, 5, 6]);
  t.is(max, 2);
});

test("retries with backoff until the matrix converges on attempt 3", async (t) => {
  // legacy → foo still answers 200 twice (STRICT not yet pushed to foo's proxy), then resets.
  const fake = fakeTransport({
    pods: pods(),
    responses: responses(NS, { "legacy|httpbin.foo:8000/headers": [{ code: 200 }, { code: 200 }, { code: 0, exit: 56 }] }),
  });
  const c = clock();
  const logs: string[] = [];
  const r = await runProbes(cells(), opts(fake, { clock: c.clock, sleep: c.sleep, initialBackoffMs: 1000, maxBackoffMs: 1500, log: (m) => logs.push(m) }));
  t.is(r.attempts, 3);
  t.is(r.execs, 9);
  t.deepEqual(c.slept, [1000, 1500]);
  t.is(r.secondsToConverge, 2.5);
  t.is(logs[0], "attempt 1: 1 of 9 cells differ");
});

test("at the deadline: a table of the differing cells with the model's reason and what to look at", async (t) => {
  const fake = fakeTransport({
    pods: pods(),
    responses: responses(NS, {
      "legacy|httpbin.foo:8000/headers": [{ code: 200 }],
      "bar|httpbin.foo:8000/headers": [{ code: 200 }], // plaintext where mTLS was expected
    }),
  });
  const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 10, initialBackoffMs: 2000, maxBackoffMs: 4000 })));
  t.true(isProbeMismatchError(err));
  const msg = err!.message;
  t.regex(msg, /^connectivity probe: 2 of 9 cells differ from the prediction after 4 attempt\(s\) over 10\.0 s:/);
  t.regex(msg, /from\s+to\s+expected\s+observed\s+model's reason/);
  t.regex(msg, /sleep\.bar\s+httpbin\.foo:8000\/headers\s+200 mTLS\s+200 plaintext\s+auto mTLS/);
  t.regex(msg, /sleep\.legacy\s+httpbin\.foo:8000\/headers\s+000 reset\s+200 plaintext\s+plaintext client \(no sidecar\) → STRICT \(PeerAuthentication foo\/default\)/);
  t.regex(msg, /sleep\.legacy to httpbin\.foo:8000: status 200, expected 000/);
  t.regex(msg, /kubectl get peerauthentication,destinationrule,requestauthentication,authorizationpolicy -A/);
  t.regex(msg, /istioctl x describe pod .* -n foo/);
  t.regex(msg, /istioctl proxy-config cluster .* -n bar --fqdn httpbin\.foo\.svc\.cluster\.local/);
  t.is((err as ProbeMismatchError).differences.length, 2);
});

test("a timeout where a reset was expected is not a match", async (t) => {
  const fake = fakeTransport({ pods: pods(), responses: responses(NS, { "legacy|httpbin.foo:8000/headers": [{ code: 0, exit: 28 }] }) });
  const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 1 })));
  t.regex(err!.message, /curl exit 28 \(timeout\), expected a reset connection \(curl exit 52 or 56\)/);
});

test("wrong peer identity over mTLS is a difference", async (t) => {
  const fake = fakeTransport({ pods: pods(), responses: responses(NS, { "foo|httpbin.bar:8000/headers": [{ code: 200, uri: id("bar") }] }) });
  const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 1 })));
  t.regex(err!.message, /peer identity spiffe:\/\/cluster\.local\/ns\/bar\/sa\/sleep, expected spiffe:\/\/cluster\.local\/ns\/foo\/sa\/sleep/);
});

test("a missing pod is an error, retried until the deadline, never a pass", async (t) => {
  const fake = fakeTransport({ pods: pods(["foo", "bar"]), responses: responses() });
  const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 7, initialBackoffMs: 2000, maxBackoffMs: 2000 })));
  t.regex(err!.message, /failed after 4 attempt\(s\).*no ready pod for client sleep\.legacy \(labels \{"app":"sleep"\}\): no pods/);
});

test("pods not ready: sidecar not ready, missing istio-proxy, terminating", (t) => {
  const base = { namespace: "foo", name: "p", phase: "Running", terminating: false };
  t.is(podReady({ ...base, containers: [{ name: "sleep", ready: true }, { name: "istio-proxy", ready: false }] }, true), "container istio-proxy not ready");
  t.regex(podReady({ ...base, containers: [{ name: "sleep", ready: true }] }, true)!, /no container istio-proxy \(is sidecar injection on/);
  t.is(podReady({ ...base, containers: [{ name: "sleep", ready: true }] }, false), undefined);
  t.is(podReady({ ...base, terminating: true, containers: [{ name: "sleep", ready: true }] }, false), "terminating");
  t.is(podReady({ ...base, phase: "Pending", containers: [] }, false), "phase Pending");
});

test("a probe client's pod is ready by its `probe` container", (t) => {
  const base = { namespace: "foo", name: "p", phase: "Running", terminating: false };
  t.is(podReady({ ...base, containers: [{ name: "probe", ready: true }, { name: "istio-proxy", ready: true }] }, true), undefined);
  t.is(podReady({ ...base, containers: [{ name: "probe", ready: false }] }, false), "container probe not ready");
});

test("the first ready pod is probed when one is still starting", async (t) => {
  const ps = pods();
  ps.unshift({ namespace: "foo", name: "sleep-foo-0aaa", labels: { app: "sleep" }, containers: [{ name: "sleep", ready: true }, { name: "istio-proxy", ready: false }] });
  const fake = fakeTransport({ pods: ps, responses: responses() });
  await runProbes(cells(), opts(fake));
  t.is(fake.stats.execsByPod["foo/sleep-foo-7d9f"], 1);
  t.false("foo/sleep-foo-0aaa" in fake.stats.execsByPod);
});

test("a failed exec, a non-zero exit and garbage output are errors; recovery converges", async (t) => {
  for (const [override, pattern] of [
    [{ error: "websocket closed" }, /websocket closed/],
    [{ exitCode: 127, stderr: "sh: curl: not found" }, /exited 127: sh: curl: not found/],
    [{ stdout: "garbage\n" }, /line 1: not JSON/],
    [{ stdout: "" }, /done line is missing/],
  ] as const) {
    const fake = fakeTransport({ pods: pods(), responses: responses(), execOverrides: { "bar/sleep-bar-7d9f": [override] } });
    const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 0 })));
    t.regex(err!.message, pattern);
    t.notRegex(err!.message, /differ/);
    // The same failure once, then a good exec: converges on attempt 2.
    const recovering = fakeTransport({ pods: pods(), responses: responses(), execOverrides: { "bar/sleep-bar-7d9f": [override, null] } });
    t.is((await runProbes(cells(), opts(recovering))).attempts, 2);
  }
});

const STACK_ROOT = selfSignedRoot("stack root");
const ISTIOD_ROOT = selfSignedRoot("istiod self-signed");
const rootConfigMaps = (pem: (ns: string) => string) => Object.fromEntries(NS.map((ns) => [`${ns}/istio-ca-root-cert`, { "root-cert.pem": pem(ns) }]));

test("trust check: istiod's roots must include the stack's CA root in every probed namespace", async (t) => {
  const ok = fakeTransport({ pods: pods(), responses: responses(), configMaps: rootConfigMaps(() => STACK_ROOT.replace(/\n/g, "\r\n")) });
  t.is((await runProbes(cells(), opts(ok, { expectedRootCertPem: STACK_ROOT }))).attempts, 1);
  // During a root rotation istiod distributes both roots.
  const rotating = fakeTransport({ pods: pods(), responses: responses(), configMaps: rootConfigMaps(() => ISTIOD_ROOT + STACK_ROOT) });
  t.is((await runProbes(cells(), opts(rotating, { expectedRootCertPem: STACK_ROOT }))).attempts, 1);

  const bad = fakeTransport({ pods: pods(), responses: responses(), configMaps: rootConfigMaps((ns) => (ns === "legacy" ? ISTIOD_ROOT : STACK_ROOT)) });
  const err = await t.throwsAsync(runProbes(cells(), opts(bad, { expectedRootCertPem: STACK_ROOT, deadlineSeconds: 0 })));
  t.regex(err!.message, /trust check: legacy\/istio-ca-root-cert root-cert\.pem is not the stack's CA root/);
  t.regex(err!.message, /It holds O=istio-mtls test, CN=istiod self-signed \(SHA-256 [0-9A-F:]{95}\); the stack's root is SHA-256 [0-9A-F:]{95}\./);

  const garbled = fakeTransport({ pods: pods(), responses: responses(), configMaps: rootConfigMaps(() => "-----BEGIN CERTIFICATE-----\nMIIBistiod\n-----END CERTIFICATE-----\n") });
  const err3 = await t.throwsAsync(runProbes(cells(), opts(garbled, { expectedRootCertPem: STACK_ROOT, deadlineSeconds: 0 })));
  t.regex(err3!.message, /trust check: bar\/istio-ca-root-cert root-cert\.pem: certificate 1 does not parse/);

  const missing = fakeTransport({ pods: pods(), responses: responses(), configMaps: {} });
  const err2 = await t.throwsAsync(runProbes(cells(), opts(missing, { expectedRootCertPem: STACK_ROOT, deadlineSeconds: 0 })));
  t.regex(err2!.message, /ConfigMap bar\/istio-ca-root-cert does not exist/);
});

test("false pass: an empty, blank, unparsable or ambiguous expected root is an error before any probe", async (t) => {
  const cases: [string, RegExp][] = [
    ["", /the expected root certificate \(the stack CA's ca\.crt\): it is empty, expected exactly one/],
    [" \r\n\t", /it is empty, expected exactly one/],
    ["not a certificate", /it holds 0 PEM certificates, expected exactly one/],
    ["-----BEGIN CERTIFICATE-----\nMIIBstackroot\n-----END CERTIFICATE-----\n", /certificate 1 does not parse/],
    [STACK_ROOT + ISTIOD_ROOT, /it holds 2 PEM certificates, expected exactly one/],
  ];
  for (const [pem, re] of cases) {
    // istiod's ConfigMaps hold the very same text: a substring comparison would pass every one of these.
    const fake = fakeTransport({ pods: pods(), responses: responses(), configMaps: rootConfigMaps(() => pem) });
    const c = clock();
    const err = await t.throwsAsync(runProbes(cells(), opts(fake, { expectedRootCertPem: pem, clock: c.clock, sleep: c.sleep })), undefined, JSON.stringify(pem));
    t.regex(err!.message, re);
    t.is(fake.stats.execs, 0, "nothing was probed");
    t.deepEqual(c.slept, [], "a configuration error is not retried");
  }
});

test("parser: never a false pass", (t) => {
  const line = (o: Record<string, unknown>) => JSON.stringify({ m: "istio-mtls-probe", id: "c0", code: "200", exit: 0, time: "0.01", echo: false, xfcc: false, uri: "", server: "", body: "", ...o });
  const done = (n: number) => JSON.stringify({ m: "istio-mtls-probe", done: n });
  t.is(parseProbeOutput(`${line({})}\n${done(1)}\n`, ["c0"]).get("c0")!.code, 200);
  t.like(parseProbeOutput(`${line({ code: "503", server: "envoy", body: "no healthy upstream" })}\n${done(1)}\n`, ["c0"]).get("c0"), { code: 503, server: "envoy", body: "no healthy upstream" });
  const bad: [string, RegExp][] = [
    [`${done(1)}\n`, /no result for target\(s\) c0/],
    [`${line({})}\n`, /done line is missing/],
    [`${line({})}\n${done(2)}\n`, /counts 2 targets, expected 1/],
    [`${line({})}\n${line({})}\n${done(1)}\n`, /reported twice/],
    [`${line({ id: "c9" })}\n${done(1)}\n`, /unknown target id "c9"/],
    [`${line({ code: "" })}\n${done(1)}\n`, /http code "" is not 3 digits/],
    [`${line({ code: "000" })}\n${done(1)}\n`, /000 with curl exit 0/],
    [`${line({ time: "" })}\n${done(1)}\n`, /time "" is not a number/],
    [`${line({ uri: "x" })}\n${done(1)}\n`, /not a SPIFFE URI/],
    [`${line({ echo: "true" })}\n${done(1)}\n`, /echo "true" is not a boolean/],
    [`${line({ echo: undefined })}\n${done(1)}\n`, /fields are/],
    [`${line({ xfcc: true, uri: "spiffe://cluster.local/ns/foo/sa/sleep" })}\n${done(1)}\n`, /xfcc is true outside an echo/],
    [`${line({ extra: 1 })}\n${done(1)}\n`, /fields are/],
    [`${line({ server: undefined })}\n${done(1)}\n`, /fields are/],
    [`${line({ server: 'envoy"' })}\n${done(1)}\n`, /server "envoy\\"" is not a sanitised Server header/],
    [`${line({ server: "x".repeat(65) })}\n${done(1)}\n`, /is not a sanitised Server header/],
    [`${line({ body: "a\\b" })}\n${done(1)}\n`, /body "a\\\\b" is not a sanitised first body line/],
    [`${line({ body: "x".repeat(121) })}\n${done(1)}\n`, /is not a sanitised first body line/],
    [`${line({ body: 0 })}\n${done(1)}\n`, /body 0 is not/],
    [`${line({ m: "other" })}\n${done(1)}\n`, /marker m is "other"/],
    [`${line({})}\n${done(1)}\nmore\n`, /after the done line/],
    [`{"m":"istio-mtls-probe","id":"c0","code":"200","exit":0,"ti\n${done(1)}\n`, /line 1: not JSON/],
  ];
  for (const [out, re] of bad) t.throws(() => parseProbeOutput(out, ["c0"]), { message: re });
});

test("the probe runs in the client's one container other than istio-proxy (a probe client's `probe`), init containers aside", async (t) => {
  const ps = pods().map((p) => ({
    ...p,
    labels: { app: "istio-mtls-probe" },
    // istio-proxy as a native sidecar and istio-init: init containers.
    containers: [{ name: "probe", ready: true }, ...(sidecar(p.namespace) ? [{ name: "istio-proxy", ready: true, init: true }, { name: "istio-init", ready: false, init: true }] : [])],
  }));
  const probeCells = cells().map((c) => ({ ...c, client: { ...c.client, name: "istio-mtls-probe", labels: { app: "istio-mtls-probe" } } }));
  const fake = fakeTransport({ pods: ps, responses: responses() });
  const r = await runProbes(probeCells, opts(fake));
  t.is(r.execs, 3);
  t.deepEqual([...new Set(fake.stats.commands.map((c) => c.container))], ["probe"]);
});

test("a client pod with two app containers (or none) is not probed: the error names the pod and its containers", async (t) => {
  const base = { namespace: "foo", name: "p", phase: "Running", terminating: false };
  t.regex(podReady({ ...base, containers: [{ name: "app", ready: true }, { name: "curl", ready: true }, { name: "istio-proxy", ready: true }] }, true)!, /containers app, curl besides istio-proxy: cannot tell which one runs the probe/);
  t.regex(podReady({ ...base, containers: [{ name: "istio-proxy", ready: true }] }, true)!, /no container other than istio-proxy/);
  const ps = pods().map((p) => (p.namespace === "bar" ? { ...p, containers: [...p.containers, { name: "app", ready: true }] } : p));
  const fake = fakeTransport({ pods: ps, responses: responses() });
  const err = await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 0 })));
  t.regex(err!.message, /no ready pod for client sleep\.bar .*sleep-bar-7d9f: containers sleep, app besides istio-proxy/);
  t.false("bar/sleep-bar-7d9f" in fake.stats.execsByPod);
});

test("a mismatch carries the last attempt's whole observed table", async (t) => {
  const fake = fakeTransport({ pods: pods(), responses: responses(NS, { "legacy|httpbin.foo:8000/headers": [{ code: 200 }] }) });
  const err = (await t.throwsAsync(runProbes(cells(), opts(fake, { deadlineSeconds: 0 })))) as ProbeMismatchError;
  t.true(isProbeMismatchError(err));
  t.is(err.observed?.length, 9);
  t.like(err.observed?.[6], { from: "sleep.legacy", to: "httpbin.foo:8000", code: 200 });
});

test("connection-level cells (a port that does not speak HTTP): accepted vs refused/reset only, and the wrong world still differs", async (t) => {
  const conn = { deadlineSeconds: 0 };
  const connectionLevel = ["httpbin.bar:8000", "httpbin.foo:8000"];
  const tcpCells = () => cells().map((c) => (connectionLevel.includes(c.to) ? { ...c, target: { ...c.target, check: "connection" as const } } : c));
  // A TCP server answers curl in its own protocol (exit 1) where the model predicts 200; a client
  // sidecar proxying TCP resets (exit 56) where it would answer 503 for HTTP.
  const tcp = fakeTransport({ pods: pods(), responses: responses(NS, { "foo|httpbin.bar:8000/headers": [{ code: 0, exit: 1 }], "legacy|httpbin.foo:8000/headers": [{ code: 0, exit: 52 }] }) });
  t.is((await runProbes(tcpCells(), opts(tcp, conn))).attempts, 1);
  // Without the connection-level check, the same world differs (the full HTTP check).
  const full = fakeTransport({ pods: pods(), responses: responses(NS, { "foo|httpbin.bar:8000/headers": [{ code: 0, exit: 1 }] }) });
  await t.throwsAsync(runProbes(cells(), opts(full, { deadlineSeconds: 0 })), { message: /differ/ });
  // The wrong worlds: accepted where refused is predicted, refused or silent where accepted is.
  for (const [key, resp, re] of [
    ["legacy|httpbin.foo:8000/headers", { code: 200 }, /connection accepted \(200 plaintext\), expected refused or reset/],
    ["foo|httpbin.bar:8000/headers", { code: 0, exit: 56 }, /curl exit 56.*expected the connection accepted/],
    ["foo|httpbin.bar:8000/headers", { code: 0, exit: 28 }, /curl exit 28: timeout\), expected the connection accepted/],
  ] as const) {
    const fake = fakeTransport({ pods: pods(), responses: responses(NS, { [key]: [resp] }) });
    const err = await t.throwsAsync(runProbes(tcpCells(), opts(fake, conn)));
    t.regex(err!.message, re);
  }
});
