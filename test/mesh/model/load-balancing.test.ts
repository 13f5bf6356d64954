/** noHealthyUpstream and endpointsDiffer: a Service port with no endpoint, or with several. */
import test from "ava";
import type { Outcome } from "../../../mesh/model/endpoint-outcome";
import { endpointsDiffer, noHealthyUpstream } from "../../../mesh/model/load-balancing";
import { endpoint, servicePort, workload } from "./world";

const ok: Outcome = { code: 200, mtls: true, reason: "ok", failure: undefined };
const reset: Outcome = { code: 503, mtls: false, reason: "reset", failure: "reset" };
const a = endpoint(workload("a.foo"));
const b = endpoint(workload("b.foo"));

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

test("endpoints that agree on code and mTLS do not differ, whatever their reasons", (t) => {
  t.is(endpointsDiffer(ok, a, { ...ok, reason: "other" }, b), undefined);
  t.is(endpointsDiffer(reset, a, { ...reset }, b), undefined);
});

test("wrong world: a failing endpoint behind a passing one makes the cell fail, not pass", (t) => {
  t.deepEqual(endpointsDiffer(ok, a, reset, b), { code: 503, mtls: false, reason: "endpoints differ, b.foo: reset", failure: "reset" });
});

test("a failing first endpoint is the one reported", (t) => {
  t.deepEqual(endpointsDiffer(reset, a, ok, b), { code: 503, mtls: false, reason: "endpoints differ, a.foo: reset", failure: "reset" });
});

test("the same code with and without mTLS also differs", (t) => {
  t.deepEqual(endpointsDiffer(ok, a, { ...ok, mtls: false, reason: "plain" }, b), { code: 200, mtls: false, reason: "endpoints differ, b.foo: plain", failure: undefined });
});
