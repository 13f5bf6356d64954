/** noHealthyUpstream and loadBalanced: a Service port with no endpoint, or with several. */
import test from "ava";
import type { Outcome } from "../../../mesh/model/endpoint-outcome";
import { loadBalanced, noHealthyUpstream } from "../../../mesh/model/load-balancing";
import { endpoint, servicePort, workload } from "./world";

const ok: Outcome = { code: 200, mtls: true, reason: "ok", failure: undefined };
const reset: Outcome = { code: 503, mtls: false, reason: "reset", failure: "reset" };
const endpoints = [endpoint(workload("a.foo")), endpoint(workload("b.foo")), endpoint(workload("c.foo"))];

test("no endpoint: 503 from a client sidecar, 000 without one", (t) => {
  const sp = servicePort("httpbin", "foo", []);
  t.deepEqual(noHealthyUpstream(sp, true), {
    code: 503,
    mtls: false,
    reason: "sidecar client → Service foo/httpbin selects no running workload with port 8080 (no healthy upstream)",
    failure: "no-endpoint",
  });
  t.deepEqual(noHealthyUpstream(sp, false), {
    code: 0,
    mtls: false,
    reason: "plaintext client (no sidecar) → Service foo/httpbin selects no running workload with port 8080 (connection refused)",
    failure: "no-endpoint",
  });
});

test("endpoints that agree: the first one's outcome, every endpoint asked", (t) => {
  const asked: number[] = [];
  const r = loadBalanced(endpoints, (i) => (asked.push(i), { ...ok }));
  t.like(r, ok);
  t.deepEqual(asked, [0, 1, 2]);
});

test("wrong world: a failing endpoint behind a passing one makes the cell fail, not pass", (t) => {
  const asked: number[] = [];
  const r = loadBalanced(endpoints, (i) => (asked.push(i), i === 1 ? reset : ok));
  t.deepEqual(r, { code: 503, mtls: false, reason: "endpoints differ, b.foo: reset", failure: "reset" });
  t.deepEqual(asked, [0, 1], "stops at the first difference");
});

test("a failing first endpoint is the one reported", (t) => {
  t.deepEqual(loadBalanced(endpoints, (i) => (i === 0 ? reset : ok)), { code: 503, mtls: false, reason: "endpoints differ, a.foo: reset", failure: "reset" });
});

test("the same code with and without mTLS also differs", (t) => {
  const r = loadBalanced(endpoints, (i) => (i === 2 ? { ...ok, mtls: false, reason: "plain" } : ok));
  t.deepEqual(r, { code: 200, mtls: false, reason: "endpoints differ, c.foo: plain", failure: undefined });
});
