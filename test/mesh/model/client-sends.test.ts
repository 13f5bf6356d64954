/** clientSends: what a client puts on the wire to one endpoint (rules §C 8 and 9). */
import test from "ava";
import { clientSends, NO_SIDECAR_SEND } from "../../../mesh/model/client-sends";
import type { UpstreamTls } from "../../../mesh/model/upstream-tls";
import { endpoint, modes, workload } from "./world";

const meshed = endpoint(workload("httpbin.foo"));
const plain = endpoint(workload("httpbin.legacy", false));
const AUTO: UpstreamTls = { kind: "auto", checkerTls: undefined, source: undefined };
const dr = (tls: "DISABLE" | "SIMPLE" | "MUTUAL" | "ISTIO_MUTUAL"): UpstreamTls => ({ kind: "destination-rule", tls, source: `DestinationRule foo/httpbin ${tls}` });

test("a client without sidecar sends plaintext, and says so", (t) => {
  t.like(NO_SIDECAR_SEND, { fromSidecar: false, mtls: false, userTls: undefined, clientPart: "plaintext client (no sidecar)" });
});

test("DestinationRule ISTIO_MUTUAL: mTLS to every endpoint, sidecar or not", (t) => {
  for (const e of [meshed, plain]) {
    t.like(clientSends(dr("ISTIO_MUTUAL"), e, modes("DISABLE")), { fromSidecar: true, mtls: true, userTls: undefined, why: "mTLS (DestinationRule foo/httpbin ISTIO_MUTUAL)" });
  }
});

test("DestinationRule DISABLE: plaintext; SIMPLE and MUTUAL: the user's TLS", (t) => {
  t.like(clientSends(dr("DISABLE"), meshed, modes("STRICT")), { mtls: false, userTls: undefined, clientPart: "sidecar client, plaintext (DestinationRule foo/httpbin DISABLE)" });
  t.like(clientSends(dr("SIMPLE"), meshed, modes("STRICT")), { mtls: false, userTls: "SIMPLE" });
  t.like(clientSends(dr("MUTUAL"), meshed, modes("STRICT")), { mtls: false, userTls: "MUTUAL" });
});

test("plaintext upstream: plaintext with its why", (t) => {
  t.like(clientSends({ kind: "plaintext", why: "enableAutoMtls false" }, meshed, modes("STRICT")), { mtls: false, why: "plaintext (enableAutoMtls false)" });
});

test("auto mTLS: mTLS to a sidecar endpoint unless its port is DISABLE, read at the container port", (t) => {
  const strict = modes("STRICT");
  t.like(clientSends(AUTO, meshed, strict), { mtls: true, why: "mTLS (auto mTLS)" });
  t.deepEqual(strict.asked, ["httpbin.foo:8080"]);
  t.like(clientSends(AUTO, meshed, modes("PERMISSIVE")), { mtls: true });
  t.like(clientSends(AUTO, meshed, modes("DISABLE")), { mtls: false, why: "plaintext (auto mTLS: endpoint DISABLE at port 8080, PeerAuthentication test/default)" });
});

test("wrong world: auto mTLS sends plaintext to an endpoint without the tlsMode label, whatever its policy says", (t) => {
  const view = modes("STRICT");
  t.like(clientSends(AUTO, plain, view), { mtls: false, why: "plaintext (auto mTLS: endpoint httpbin.legacy has no sidecar)" });
  t.deepEqual(view.asked, [], "the endpoint's PeerAuthentication is not read");
});

test("wrong world: a top-level DISABLE read by the endpoint check sends plaintext to a STRICT endpoint", (t) => {
  const upstream: UpstreamTls = { kind: "auto", checkerTls: "DISABLE", source: "DestinationRule foo/httpbin portLevelSettings 8000 (no tls)" };
  t.like(clientSends(upstream, meshed, modes("STRICT")), {
    mtls: false,
    why: "plaintext (auto mTLS, DestinationRule foo/httpbin portLevelSettings 8000 (no tls): top-level DISABLE read by the endpoint check)",
  });
  t.like(clientSends({ ...upstream, checkerTls: "ISTIO_MUTUAL" }, meshed, modes("DISABLE")), { mtls: true });
});
