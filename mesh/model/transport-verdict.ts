/**
 * Whether the connection gets through: what the client sends against what the server port accepts
 * (rules §B 6 and 7, §D; inbound outcomes as in istio/istio
 * pilot/pkg/networking/core/sidecar_simulation_test.go).
 */
import type { Send } from "./client-sends";
import type { ServerMode } from "./server-mode";

export type TransportVerdict =
  /** The connection fails; `code` is what curl prints: 503 from a client sidecar, 000 (exit 56) without one. */
  | { kind: "reset"; code: 503 | 0; why: string }
  /** Plaintext reaches an app without sidecar: nothing is enforced, it answers 200. */
  | { kind: "app" }
  /** The server sidecar takes the connection; its HTTP decision follows, with a peer identity only over mTLS. */
  | { kind: "sidecar"; mtls: boolean };

// Shared, since most pairs meet one of these.
const APP: TransportVerdict = { kind: "app" };
const SIDECAR_MTLS: TransportVerdict = { kind: "sidecar", mtls: true };
const SIDECAR_PLAINTEXT: TransportVerdict = { kind: "sidecar", mtls: false };
const MTLS_TO_PLAINTEXT_APP: TransportVerdict = { kind: "reset", code: 503, why: "mTLS reaches a plaintext app" };
const MTLS_TO_DISABLE: TransportVerdict = { kind: "reset", code: 503, why: "mTLS to a DISABLE port fails" };
// STRICT has no filter chain for plaintext: the connection is closed.
const PLAINTEXT_TO_STRICT_FROM_SIDECAR: TransportVerdict = { kind: "reset", code: 503, why: "" };
const PLAINTEXT_TO_STRICT_WITHOUT_SIDECAR: TransportVerdict = { kind: "reset", code: 0, why: "" };

export function transportVerdict(send: Send, server: ServerMode): TransportVerdict {
  if (server.mode === "NONE") {
    if (send.mtls) return MTLS_TO_PLAINTEXT_APP;
    if (send.userTls) return { kind: "reset", code: 503, why: `${send.userTls} TLS reaches a plaintext app` };
    return APP;
  }
  if (send.userTls) return { kind: "reset", code: 503, why: `${send.userTls} client TLS is not modelled; assumed to fail` };
  if (send.mtls && server.mode === "DISABLE") return MTLS_TO_DISABLE;
  if (!send.mtls && server.mode === "STRICT") return send.fromSidecar ? PLAINTEXT_TO_STRICT_FROM_SIDECAR : PLAINTEXT_TO_STRICT_WITHOUT_SIDECAR;
  return send.mtls ? SIDECAR_MTLS : SIDECAR_PLAINTEXT;
}
