/**
 * A predicted failure passes only on the evidence Istio produces for it: a refused connection or
 * a 503 that the client sidecar did not generate for that reason is a different outcome. Likewise
 * a predicted denial needs Envoy's own 401 or 403, and a request predicted to reach an application
 * fails when Envoy answered it.
 */
import test from "ava";
import { join } from "node:path";
import { predict } from "../../mesh/predict";
import { DEFAULT_REQUEST, type Cell, type TargetCheck } from "../../mesh/prediction";
import type { KubeObject } from "../../mesh/types";
import { runProbes } from "../../probe/runner";
import { BODY_MAX } from "../../probe/script";
import type { ExecTransport } from "../../probe/transport";
import { demo, destinationRule, find, readYaml, SCENARIOS_DIR } from "../mesh/fixtures";

const { fakeTransport } = require("./fake-transport.cjs") as { fakeTransport: (scenario: unknown) => ExecTransport };

const RESET = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
// As the script prints it: cut to BODY_MAX characters.
const RETRIED_TLS = (
  "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote connection failure, " +
  "transport failure reason: TLS_error:|268435703:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER:TLS_error_end"
).slice(0, BODY_MAX);

type Outcome = Pick<Cell, "code" | "mtls" | "reason" | "failure">;

/** A predicted sleep.<ns> → httpbin.bar:8000 cell; `check` as the live prediction sets it. */
function predicted(sidecar: boolean, outcome: Outcome, check?: TargetCheck): Cell {
  const ns = sidecar ? "foo" : "legacy";
  return {
    from: `sleep.${ns}`,
    to: "httpbin.bar:8000",
    request: DEFAULT_REQUEST,
    ...outcome,
    client: { namespace: ns, name: "sleep", labels: { app: "sleep" }, serviceAccount: "sleep", sidecar },
    target: { service: "httpbin", namespace: "bar", port: 8000, targetPort: 8080, ...(check ? { check } : {}) },
  };
}

/** Probes one cell, from a client with or without sidecar, against a fake cluster answering `resp`; the difference, or undefined on a match. */
async function judge(sidecar: boolean, expected: Outcome, resp: Record<string, unknown>, check?: TargetCheck): Promise<string | undefined> {
  const ns = sidecar ? "foo" : "legacy";
  const cell = predicted(sidecar, expected, check);
  const containers = [{ name: "sleep", ready: true }, ...(sidecar ? [{ name: "istio-proxy", ready: true }] : [])];
  const transport = fakeTransport({
    pods: [{ namespace: ns, name: "sleep-1", labels: { app: "sleep" }, containers }],
    responses: { [`${ns}|httpbin.bar:8000/headers`]: [resp] },
  });
  try {
    await runProbes([cell], { transport, requestTimeoutSeconds: 1, deadlineSeconds: 0, concurrency: 1 });
    return undefined;
  } catch (e) {
    const problem = /Differences:\n {2}\S+ to \S+: (.*)/.exec((e as Error).message);
    if (!problem) throw e;
    return problem[1];
  }
}

const reason = "the model's reason";
const bareReset = { code: 0, mtls: false, reason, failure: "reset" as const };
const bareNoEndpoint = { code: 0, mtls: false, reason, failure: "no-endpoint" as const };
const sidecarReset = { code: 503, mtls: false, reason, failure: "reset" as const };
const sidecarNoEndpoint = { code: 503, mtls: false, reason, failure: "no-endpoint" as const };

test("false pass: a refused connection (curl exit 7) does not confirm a STRICT server's reset", async (t) => {
  t.is(await judge(false, bareReset, { code: 0, exit: 56 }), undefined);
  t.is(await judge(false, bareReset, { code: 0, exit: 52 }), undefined);
  t.is(await judge(false, bareReset, { code: 0, exit: 7 }), "curl exit 7 (connection refused), expected a reset connection (curl exit 52 or 56)");
  t.is(await judge(false, bareReset, { code: 0, exit: 6 }), "curl exit 6 (host not resolved), expected a reset connection (curl exit 52 or 56)");
});

test("a predicted no-endpoint cell: refused (exit 7) from a bare client, Envoy's 'no healthy upstream' from a sidecar client", async (t) => {
  t.is(await judge(false, bareNoEndpoint, { code: 0, exit: 7 }), undefined);
  t.is(await judge(false, bareNoEndpoint, { code: 0, exit: 56 }), "curl exit 56 (connection reset), expected a refused connection (curl exit 7)");
  t.is(await judge(true, sidecarNoEndpoint, { code: 503, server: "envoy", body: "no healthy upstream" }), undefined);
  t.regex((await judge(true, sidecarNoEndpoint, { code: 503, server: "envoy", body: RESET }))!, /^503 from server envoy: "upstream connect error.*", expected the client sidecar's 503 "no healthy upstream"$/);
});

test("false pass: only the client sidecar's upstream-reset 503 confirms a predicted 503 reset", async (t) => {
  t.is(await judge(true, sidecarReset, { code: 503, server: "envoy", body: RESET }), undefined);
  t.is(await judge(true, sidecarReset, { code: 503, server: "envoy", body: RETRIED_TLS }), undefined);
  const wrong: [Record<string, unknown>, RegExp][] = [
    // no endpoints (the server is down or its Service selects nothing)
    [{ code: 503, server: "envoy", body: "no healthy upstream" }, /^503 from server envoy: "no healthy upstream", expected the client sidecar's 503 "upstream connect error or disconnect\/reset before headers"$/],
    // the application's own 503, passed through the sidecars (Envoy overwrites the Server header)
    [{ code: 503, server: "envoy", body: "Service Unavailable" }, /^503 from server envoy: "Service Unavailable"/],
    [{ code: 503, server: "gunicorn/19.9.0", body: RESET }, /^503 from server gunicorn\/19\.9\.0: "upstream connect error/],
    [{ code: 503, body: RESET }, /^503 from server \(no Server header\)/],
    [{ code: 503, server: "envoy", body: "upstream connect error or disconnect/reset before headers" }, /^503 from server envoy/],
    [{ code: 503, exit: 28, server: "envoy", body: RESET }, /^curl exit 28 \(timeout\) after status 503/],
    [{ code: 0, exit: 56 }, /^status 000, expected 503$/],
  ];
  for (const [resp, re] of wrong) t.regex((await judge(true, sidecarReset, resp)) ?? "(a match)", re, JSON.stringify(resp));
});

const SLEEP_FOO = "spiffe://cluster.local/ns/foo/sa/sleep";

test("false pass: a predicted denial passes only on Envoy's own 403 or 401, not on an application's", async (t) => {
  const denied = { code: 403, mtls: true, reason };
  t.is(await judge(true, denied, { code: 403, server: "envoy", body: "RBAC: access denied" }), undefined);
  t.is(await judge(true, denied, { code: 403, server: "envoy", body: "Audiences in Jwt are not allowed" }), undefined);
  t.is(
    await judge(true, denied, { code: 403, server: "envoy", body: "Forbidden" }),
    `403 from server envoy: "Forbidden", expected Envoy's 403 "RBAC: access denied" (or jwt_authn's "Audiences in Jwt are not allowed")`,
  );
  t.regex((await judge(true, denied, { code: 403, server: "envoy", body: "RBAC: access denied for you" }))!, /^403 from server envoy: "RBAC: access denied for you", expected Envoy's 403/);
  t.is(await judge(true, denied, { code: 200, uri: SLEEP_FOO }), "status 200, expected 403");
  const rejected = { code: 401, mtls: false, reason };
  t.is(await judge(false, rejected, { code: 401, server: "istio-envoy", body: "Jwt verification fails" }), undefined);
  t.is(await judge(false, rejected, { code: 401, server: "istio-envoy", body: "Jwt issuer is not configured" }), undefined);
  t.regex((await judge(false, rejected, { code: 401, server: "gunicorn", body: "Unauthorized" }))!, /^401 from server gunicorn: "Unauthorized", expected jwt_authn's 401/);
});

test("an HTTP port of an unknown application (check http): any answer the application gives confirms a request that reaches it; Envoy's own never", async (t) => {
  const reaches = { code: 200, mtls: false, reason };
  for (const resp of [
    { code: 200, echo: false },
    { code: 404, server: "nginx", body: "Not Found" },
    { code: 302 },
    { code: 401, server: "istio-envoy", body: "login required" },
    { code: 503, server: "istio-envoy", body: "Service Unavailable" },
  ]) {
    t.is(await judge(false, reaches, resp, "http"), undefined, JSON.stringify(resp));
  }
  const wrong: [boolean, Record<string, unknown>, RegExp][] = [
    [false, { code: 403, server: "istio-envoy", body: "RBAC: access denied" }, /^403 from server istio-envoy: "RBAC: access denied": Envoy's own answer, expected the application's$/],
    [false, { code: 401, server: "istio-envoy", body: "Jwt is missing" }, /Envoy's own answer/],
    [true, { code: 503, server: "envoy", body: RESET }, /^503 from server envoy: "upstream connect error.*": Envoy's own answer/],
    [true, { code: 503, server: "envoy", body: "no healthy upstream" }, /Envoy's own answer/],
    [false, { code: 0, exit: 56 }, /^000 \(curl exit 56: connection reset\), expected the application's answer$/],
    [false, { code: 0, exit: 28 }, /^000 \(curl exit 28: timeout\), expected the application's answer$/],
    [false, { code: 200, exit: 28 }, /^curl exit 28 \(timeout\) after status 200$/],
  ];
  for (const [sidecar, resp, re] of wrong) t.regex((await judge(sidecar, { ...reaches, mtls: sidecar }, resp, "http")) ?? "(a match)", re, JSON.stringify(resp));
  // Where the answer echoes the request's headers, the transport is checked as in full.
  t.is(await judge(true, { code: 200, mtls: true, reason }, { code: 200, uri: SLEEP_FOO }, "http"), undefined);
  t.is(await judge(true, { code: 200, mtls: true, reason }, { code: 200 }, "http"), "plaintext, expected mTLS");
  // The full check (the demo's httpbin): its 200, with the echo at /headers.
  t.is(await judge(false, reaches, { code: 404, server: "nginx", body: "Not Found" }), "status 404, expected 200");
  t.is(await judge(false, reaches, { code: 200, echo: false }), "the answer does not echo the request's headers, as httpbin's /headers does: the transport is not shown");
  t.is(await judge(false, reaches, { code: 200 }), undefined);
});

test("a 000 expectation without a failure kind confirms nothing", async (t) => {
  t.regex((await judge(false, { code: 0, mtls: false, reason }, { code: 0, exit: 56 }))!, /names no failure kind/);
});

test("the mismatch table shows who answered a 503 and what it said", async (t) => {
  const transport = fakeTransport({
    pods: [{ namespace: "foo", name: "sleep-1", labels: { app: "sleep" }, containers: [{ name: "sleep", ready: true }, { name: "istio-proxy", ready: true }] }],
    responses: { "foo|httpbin.bar:8000/headers": [{ code: 503, server: "envoy", body: "no healthy upstream" }] },
  });
  const cell = predicted(true, sidecarReset);
  const err = await t.throwsAsync(runProbes([cell], { transport, requestTimeoutSeconds: 1, deadlineSeconds: 0, concurrency: 1 }));
  t.regex(err!.message, /sleep\.foo\s+httpbin\.bar:8000\/headers\s+503 reset\s+503 \(server envoy: "no healthy upstream"\)\s+the model's reason/);
});

// The model names the failure kind of every failing cell, and the probe inputs carry it to the runner.
const policies = (name: string) => readYaml(join(SCENARIOS_DIR, name, "policies.yaml"));
const ghost: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "ghost", namespace: "foo" },
  spec: { selector: { app: "ghost" }, ports: [{ name: "http", port: 8000, targetPort: 8080 }] },
};

test("model: reset for policy failures, no-endpoint for a Service without endpoints, nothing for answers", (t) => {
  const strict = predict([...demo(), ...policies("001-mesh-strict"), ghost]);
  t.like(find(strict, "sleep.legacy", "httpbin.foo:8000"), { code: 0, failure: "reset" });
  t.like(find(strict, "sleep.legacy", "ghost.foo:8000"), { code: 0, failure: "no-endpoint" });
  t.like(find(strict, "sleep.foo", "ghost.foo:8000"), { code: 503, failure: "no-endpoint" });
  t.is(find(strict, "sleep.foo", "httpbin.bar:8000").failure, undefined);
  t.is(find(strict, "sleep.legacy", "httpbin.legacy:8000").failure, undefined);
  // A sidecar client sending plaintext (DestinationRule DISABLE) to STRICT, and mTLS to an app without sidecar.
  const disable = destinationRule("foo", "plain", { host: "httpbin.bar.svc.cluster.local", trafficPolicy: { tls: { mode: "DISABLE" } } });
  const mutual = destinationRule("foo", "mutual", { host: "httpbin.legacy.svc.cluster.local", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } });
  const p = predict([...demo(), ...policies("001-mesh-strict"), disable, mutual]);
  t.like(find(p, "sleep.foo", "httpbin.bar:8000"), { code: 503, failure: "reset" });
  t.like(find(p, "sleep.foo", "httpbin.legacy:8000"), { code: 503, failure: "reset" });
  // Every transport failure has a kind; no HTTP answer has one.
  for (const o of [...strict.probes, ...p.probes]) t.is(o.failure !== undefined, o.code === 0 || o.code === 503, `${o.from} → ${o.to}: ${o.code} ${o.reason}`);
});

test("model → probe: the predicted cells the runner takes carry the failure kind", (t) => {
  const prediction = predict([...demo(), ...policies("001-mesh-strict"), ghost], { from: ["sleep.foo", "sleep.legacy"] });
  const cells = prediction.probes;
  const at = (from: string, to: string) => cells.find((c) => c.from === from && c.to === to)!;
  t.like(at("sleep.legacy", "httpbin.foo:8000"), { code: 0, failure: "reset" });
  t.like(at("sleep.legacy", "ghost.foo:8000"), { code: 0, failure: "no-endpoint" });
  t.like(at("sleep.foo", "ghost.foo:8000"), { code: 503, failure: "no-endpoint" });
  t.is(at("sleep.foo", "httpbin.bar:8000").failure, undefined);
});
