/** transportVerdict: what the client sends against what the server port accepts (rules §B 7, §D). */
import test from "ava";
import { NO_SIDECAR_SEND, type Send } from "../../../mesh/model/client-sends";
import type { ServerMode } from "../../../mesh/model/server-mode";
import { transportVerdict } from "../../../mesh/model/transport-verdict";

const sidecar = (mtls: boolean, userTls?: Send["userTls"]): Send => ({ fromSidecar: true, mtls, userTls, why: "", clientPart: "sidecar client" });
const server = (mode: ServerMode["mode"]): ServerMode => ({ mode, why: mode });
const MTLS = sidecar(true);
const PLAINTEXT = sidecar(false);

test("wrong world: plaintext from a client without sidecar to STRICT is a reset (curl 000), not a pass", (t) => {
  t.deepEqual(transportVerdict(NO_SIDECAR_SEND, server("STRICT")), { kind: "reset", code: 0, why: "" });
});

test("plaintext from a client sidecar to STRICT: the client sidecar answers 503", (t) => {
  t.deepEqual(transportVerdict(PLAINTEXT, server("STRICT")), { kind: "reset", code: 503, why: "" });
});

test("mTLS to DISABLE, or to an app without sidecar, fails with 503", (t) => {
  t.deepEqual(transportVerdict(MTLS, server("DISABLE")), { kind: "reset", code: 503, why: "mTLS to a DISABLE port fails" });
  t.deepEqual(transportVerdict(MTLS, server("NONE")), { kind: "reset", code: 503, why: "mTLS reaches a plaintext app" });
});

test("SIMPLE or MUTUAL client TLS is not modelled: it fails, with or without a server sidecar", (t) => {
  t.deepEqual(transportVerdict(sidecar(false, "SIMPLE"), server("NONE")), { kind: "reset", code: 503, why: "SIMPLE TLS reaches a plaintext app" });
  for (const mode of ["STRICT", "PERMISSIVE", "DISABLE"] as const) {
    t.deepEqual(transportVerdict(sidecar(false, "MUTUAL"), server(mode)), { kind: "reset", code: 503, why: "MUTUAL client TLS is not modelled; assumed to fail" });
  }
});

test("plaintext to an app without sidecar reaches the app", (t) => {
  t.deepEqual(transportVerdict(NO_SIDECAR_SEND, server("NONE")), { kind: "app" });
  t.deepEqual(transportVerdict(PLAINTEXT, server("NONE")), { kind: "app" });
});

test("the server sidecar takes what its mode accepts, carrying whether it was mTLS", (t) => {
  t.deepEqual(transportVerdict(MTLS, server("STRICT")), { kind: "sidecar", mtls: true });
  t.deepEqual(transportVerdict(MTLS, server("PERMISSIVE")), { kind: "sidecar", mtls: true });
  t.deepEqual(transportVerdict(PLAINTEXT, server("PERMISSIVE")), { kind: "sidecar", mtls: false });
  t.deepEqual(transportVerdict(NO_SIDECAR_SEND, server("PERMISSIVE")), { kind: "sidecar", mtls: false });
  t.deepEqual(transportVerdict(NO_SIDECAR_SEND, server("DISABLE")), { kind: "sidecar", mtls: false });
});
