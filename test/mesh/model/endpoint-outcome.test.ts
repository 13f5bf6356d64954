/** endpointOutcome: code, mTLS and reason from one endpoint, transport first, then HTTP. */
import test from "ava";
import type { Send } from "../../../mesh/model/client-sends";
import { endpointOutcome } from "../../../mesh/model/endpoint-outcome";
import type { ServerMode } from "../../../mesh/model/server-mode";

const send: Send = { fromSidecar: true, mtls: true, userTls: undefined, why: "mTLS (auto mTLS)", clientPart: "sidecar client, mTLS (auto mTLS)" };
const strict: ServerMode = { mode: "STRICT", why: "STRICT at port 8080 (PeerAuthentication foo/default)" };
const SIDES = "sidecar client, mTLS (auto mTLS) → STRICT at port 8080 (PeerAuthentication foo/default)";

test("a reset fails with the verdict's code, never over mTLS", (t) => {
  t.deepEqual(endpointOutcome(send, strict, { kind: "reset", code: 503, why: "mTLS to a DISABLE port fails" }, undefined), {
    code: 503,
    mtls: false,
    reason: `${SIDES}; mTLS to a DISABLE port fails`,
    failure: "reset",
  });
  t.is(endpointOutcome(send, strict, { kind: "reset", code: 0, why: "" }, undefined).reason, SIDES, "an empty why adds nothing");
});

test("an app without sidecar answers 200", (t) => {
  t.deepEqual(endpointOutcome(send, strict, { kind: "app" }, undefined), { code: 200, mtls: false, reason: SIDES, failure: undefined });
});

test("through the server sidecar, the HTTP decision gives the code and mTLS comes from the transport", (t) => {
  const denied = endpointOutcome(send, strict, { kind: "sidecar", mtls: true }, { code: 403, why: "RBAC: access denied (DENY AuthorizationPolicy foo/p)" });
  t.deepEqual(denied, { code: 403, mtls: true, reason: `${SIDES}; RBAC: access denied (DENY AuthorizationPolicy foo/p)`, failure: undefined });
  t.like(endpointOutcome(send, strict, { kind: "sidecar", mtls: false }, { code: 200, why: "" }), { code: 200, mtls: false, reason: SIDES });
});

test("wrong world: a connection the server sidecar took cannot be decided without its HTTP decision", (t) => {
  t.throws(() => endpointOutcome(send, strict, { kind: "sidecar", mtls: true }, undefined), { message: /no HTTP decision/ });
});
