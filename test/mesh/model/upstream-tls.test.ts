/** upstreamTls: the client sidecar's TLS toward a Service port (rules §C 9 and 11). */
import test from "ava";
import { upstreamTls } from "../../../mesh/model/upstream-tls";
import type { DestinationRuleEntry } from "../../../mesh/model/destination-rule";
import { endpoint, modes, servicePort, workload } from "./world";

const sp = servicePort("httpbin", "foo", [endpoint(workload("httpbin.foo"))]);
const rule = (tls: DestinationRuleEntry["tls"], portLevel: DestinationRuleEntry["portLevel"] = []) => ({ ref: "DestinationRule foo/httpbin", tls, portLevel });

test("no DestinationRule, auto mTLS on: decided per endpoint", (t) => {
  t.deepEqual(upstreamTls(undefined, sp, true, modes("PERMISSIVE")), { kind: "auto", checkerTls: undefined, source: undefined });
});

test("a DestinationRule tls mode applies as written", (t) => {
  t.deepEqual(upstreamTls(rule("ISTIO_MUTUAL"), sp, true, modes("PERMISSIVE")), { kind: "destination-rule", tls: "ISTIO_MUTUAL", source: "DestinationRule foo/httpbin ISTIO_MUTUAL" });
  t.deepEqual(upstreamTls(rule("SIMPLE"), sp, false, modes("PERMISSIVE")), { kind: "destination-rule", tls: "SIMPLE", source: "DestinationRule foo/httpbin SIMPLE" });
});

test("a port entry for the Service port replaces the top-level tls, even without tls of its own", (t) => {
  const withTls = upstreamTls(rule("DISABLE", [{ port: 8000, tls: "ISTIO_MUTUAL" }]), sp, true, modes("STRICT"));
  t.deepEqual(withTls, { kind: "destination-rule", tls: "ISTIO_MUTUAL", source: "DestinationRule foo/httpbin portLevelSettings 8000 ISTIO_MUTUAL" });
  // No tls in the entry: auto mTLS, but the endpoint check still reads the top-level DISABLE.
  const without = upstreamTls(rule("DISABLE", [{ port: 8000, tls: undefined }]), sp, true, modes("STRICT"));
  t.deepEqual(without, { kind: "auto", checkerTls: "DISABLE", source: "DestinationRule foo/httpbin portLevelSettings 8000 (no tls)" });
});

test("a port entry for the container port does not apply: portLevelSettings name Service ports", (t) => {
  const r = upstreamTls(rule("DISABLE", [{ port: 8080, tls: "ISTIO_MUTUAL" }]), sp, true, modes("STRICT"));
  t.deepEqual(r, { kind: "destination-rule", tls: "DISABLE", source: "DestinationRule foo/httpbin DISABLE" });
});

test("enableAutoMtls false: plaintext, naming a DestinationRule without tls", (t) => {
  t.deepEqual(upstreamTls(undefined, sp, false, modes("STRICT")), { kind: "plaintext", why: "enableAutoMtls false" });
  t.deepEqual(upstreamTls(rule(undefined), sp, false, modes("STRICT")), { kind: "plaintext", why: "enableAutoMtls false, DestinationRule foo/httpbin (no tls)" });
});

test("wrong world: the service namespace is DISABLE, so auto mTLS sends plaintext even to a STRICT workload", (t) => {
  const view = modes("DISABLE");
  const r = upstreamTls(undefined, sp, true, view);
  t.is(r.kind, "plaintext", "not auto: workload-level STRICT is not read here (BestEffortInferServiceMTLSMode)");
  t.deepEqual(r, { kind: "plaintext", why: "auto mTLS off: namespace foo is DISABLE (PeerAuthentication test/default)" });
  t.deepEqual(view.asked, ["foo"], "only the namespace level is asked, for the Service's namespace");
});

test("headless Service with an endpoint without sidecar: plaintext to all (passthrough)", (t) => {
  const mixed = servicePort("mixed", "foo", [endpoint(workload("meshed.foo")), endpoint(workload("plain.foo", false))], true);
  t.is(upstreamTls(undefined, mixed, true, modes("STRICT")).kind, "plaintext");
  const empty = servicePort("none", "foo", [], true);
  t.is(upstreamTls(undefined, empty, true, modes("STRICT")).kind, "plaintext");
  const clusterIp = servicePort("mixed", "foo", mixed.endpoints, false);
  t.is(upstreamTls(undefined, clusterIp, true, modes("STRICT")).kind, "auto", "a ClusterIP Service decides per endpoint");
});
