import test from "ava";
import type { Cell } from "../../mesh/prediction";
import type { ServiceException } from "../../mesh/mtls-exceptions";
import { postureReport } from "../../probe/posture";

const TODAY = "2026-12-01";
type Seen = "mtls" | "plaintext" | "reset" | "no-endpoint" | "timeout" | "403";

/** An observed cell from `from` (`<workload>.<namespace>`) to `to` (`<service>.<namespace>:<port>`). */
function cell(from: string, sidecar: boolean, to: string, seen: Seen): Cell {
  const [name, namespace] = from.split(".") as [string, string];
  const [host, port] = to.split(":") as [string, string];
  const [service, targetNs] = host.split(".") as [string, string];
  const code = { mtls: 200, plaintext: 200, reset: 0, "no-endpoint": 0, timeout: 0, "403": 403 }[seen];
  const curlExit = { mtls: 0, plaintext: 0, reset: 56, "no-endpoint": 7, timeout: 28, "403": 0 }[seen];
  return {
    from,
    to,
    request: { path: "/headers", method: "GET", token: { kind: "none" } },
    code,
    mtls: seen === "mtls",
    reason: "observed",
    ...(seen === "reset" || seen === "no-endpoint" ? { failure: seen } : {}),
    ...(seen === "mtls" ? { clientIdentity: `spiffe://cluster.local/ns/${namespace}/sa/${name}` } : {}),
    client: { namespace, name, labels: { app: name }, serviceAccount: name, sidecar },
    target: { namespace: targetNs, service, port: Number(port), targetPort: 8080 },
    evidence: { curlExit, mtlsShown: code === 200, timeSeconds: 0.01 },
  };
}
const PLAIN = "istio-mtls-probe.istio-mtls-probe";
const MESHED = "istio-mtls-probe.shop";
const exception = (to: string, object: string, expires: string): ServiceException => {
  const [host, port] = to.split(":") as [string, string];
  const [service, namespace] = host.split(".") as [string, string];
  return { namespace, service, port: Number(port), object, reason: "reviewed", expires };
};

test("strict, permissive under a reviewed exception, plaintext-accepted: per Service port, with who reached it how", (t) => {
  const cells = [
    cell(MESHED, true, "api.shop:8080", "mtls"),
    cell(PLAIN, false, "api.shop:8080", "reset"),
    cell(MESHED, true, "db.shop:5432", "mtls"),
    cell(PLAIN, false, "db.shop:5432", "plaintext"),
    cell(MESHED, true, "old.legacy:80", "plaintext"),
    cell(PLAIN, false, "old.legacy:80", "plaintext"),
  ];
  const r = postureReport(cells, [exception("db.shop:5432", "PeerAuthentication shop/db", "2027-01-15"), exception("old.legacy:80", "Namespace legacy", "2027-02-01")], TODAY);
  t.deepEqual(
    r.services.map((s) => [`${s.namespace}/${s.service}:${s.port}`, s.mtls, s.verdict]),
    [
      ["legacy/old:80", "plaintext-accepted", "under-exception"],
      ["shop/api:8080", "strict", "refuses-plaintext"],
      ["shop/db:5432", "permissive", "under-exception"],
    ],
  );
  t.deepEqual(r.services[1]!.clients, [
    { from: MESHED, sidecar: true, request: "GET /headers", code: 200, how: "mTLS spiffe://cluster.local/ns/shop/sa/istio-mtls-probe" },
    { from: PLAIN, sidecar: false, request: "GET /headers", code: 0, how: "reset" },
  ]);
  t.is(
    r.summary,
    "3 service ports: 1 refuse plaintext; 2 accept it under exceptions legacy/old:80 (Namespace legacy, expires 2027-02-01), shop/db:5432 (PeerAuthentication shop/db, expires 2027-01-15)",
  );
});

test("a Service port that accepts plaintext without a reviewed exception stands out in the summary", (t) => {
  const r = postureReport([cell(MESHED, true, "api.shop:8080", "mtls"), cell(PLAIN, false, "api.shop:8080", "plaintext"), cell(PLAIN, false, "web.shop:80", "reset")], [], TODAY);
  t.is(r.services[0]!.verdict, "no-exception");
  t.is(r.services[0]!.mtls, "permissive");
  t.is(r.summary, "2 service ports: 1 refuse plaintext; 1 accepts it WITHOUT a reviewed exception: shop/api:8080");
});

test("an authorization denial still shows plaintext accepted: the connection was taken before the policy said no", (t) => {
  const r = postureReport([cell(PLAIN, false, "api.shop:8080", "403")], [], TODAY);
  t.is(r.services[0]!.mtls, "plaintext-accepted");
  t.is(r.services[0]!.verdict, "no-exception");
});

test("an expired exception is not a reviewed one: the summary names it expired; its last day still counts", (t) => {
  const cells = [cell(PLAIN, false, "db.shop:5432", "plaintext")];
  const expired = postureReport(cells, [exception("db.shop:5432", "PeerAuthentication shop/db", "2026-11-30")], TODAY);
  t.is(expired.services[0]!.verdict, "exception-expired");
  t.true(expired.services[0]!.exceptions[0]!.expired);
  t.is(expired.summary, "1 service port: 0 refuse plaintext; 1 accepts it under an EXPIRED exception: shop/db:5432 (PeerAuthentication shop/db, expired 2026-11-30)");
  t.is(postureReport(cells, [exception("db.shop:5432", "PeerAuthentication shop/db", TODAY)], TODAY).services[0]!.verdict, "under-exception");
});

test("a missing cell from a client without sidecar: unknown, and the report says why", (t) => {
  const r = postureReport([cell(MESHED, true, "api.shop:8080", "mtls")], [], TODAY);
  t.is(r.services[0]!.mtls, "unknown");
  t.is(r.services[0]!.verdict, "unknown");
  t.regex(r.services[0]!.why, /no cell from a client without sidecar/);
  t.is(r.summary, "1 service port: 0 refuse plaintext; 1 unknown (no verdict from a client without sidecar): shop/api:8080");
});

test("a plaintext cell without a verdict (no endpoint, timeout) is no proof of STRICT", (t) => {
  const r = postureReport([cell(PLAIN, false, "api.shop:8080", "no-endpoint"), cell("sleep.legacy", false, "api.shop:8080", "timeout")], [], TODAY);
  t.is(r.services[0]!.mtls, "unknown");
  t.is(r.services[0]!.why, "no verdict for plaintext: istio-mtls-probe.istio-mtls-probe no endpoint, sleep.legacy curl exit 28");
});

test("one plaintext answer outweighs resets from other clients; a sidecar client's reset is no plaintext verdict", (t) => {
  const r = postureReport([cell(PLAIN, false, "api.shop:8080", "reset"), cell("sleep.legacy", false, "api.shop:8080", "plaintext")], [], TODAY);
  t.is(r.services[0]!.mtls, "plaintext-accepted");
  const sidecarOnly = postureReport([cell(MESHED, true, "api.shop:8080", "reset")], [], TODAY);
  t.is(sidecarOnly.services[0]!.mtls, "unknown");
});

test("an exception covers only its own Service port", (t) => {
  const r = postureReport([cell(PLAIN, false, "db.shop:5432", "plaintext"), cell(PLAIN, false, "db.shop:5433", "plaintext")], [exception("db.shop:5432", "PeerAuthentication shop/db", "2027-01-15")], TODAY);
  t.deepEqual(r.services.map((s) => s.verdict), ["under-exception", "no-exception"]);
});

test("no cells: no Service port, said so", (t) => {
  t.deepEqual(postureReport([], [], TODAY), { services: [], summary: "0 service ports: 0 refuse plaintext" });
});
