/**
 * What a client puts on the wire to one endpoint (rules §C 8 and 9). A client without sidecar
 * sends what the app sends: plaintext for `curl http://`, and no DestinationRule applies to it. A
 * sidecar client follows its UpstreamTls; under auto mTLS it decides per endpoint as
 * pilot/pkg/xds/endpoints/mtls_checker.go computeForEndpoint does.
 */
import type { ClientTlsMode } from "../types";
import type { PeerAuthnIndex } from "./peer-authentication";
import type { UpstreamTls } from "./upstream-tls";
import { TLS_MODE_LABEL, type Endpoint } from "./workloads";

export interface Send {
  /** Whether a client sidecar sends it (it answers 503 where a client without one sees 000). */
  fromSidecar: boolean;
  mtls: boolean;
  /** Non-Istio TLS (DestinationRule SIMPLE/MUTUAL): the model treats it as a failed handshake. */
  userTls: ClientTlsMode | undefined;
  /** Client side of the reason. */
  why: string;
  /** "sidecar client, <why>": built once, shared by every pair that sends this way. */
  clientPart: string;
}

export const NO_SIDECAR_CLIENT = "plaintext client (no sidecar)";

/** What every client without sidecar sends, to any endpoint. */
export const NO_SIDECAR_SEND: Send = Object.freeze({ fromSidecar: false, mtls: false, userTls: undefined, why: "plaintext", clientPart: NO_SIDECAR_CLIENT });

function sidecarSends(mtls: boolean, userTls: ClientTlsMode | undefined, why: string): Send {
  return { fromSidecar: true, mtls, userTls, why, clientPart: `sidecar client, ${why}` };
}

/** What a sidecar client with this UpstreamTls sends to endpoint `e`. */
export function clientSends(upstream: UpstreamTls, e: Endpoint, peerAuthn: Pick<PeerAuthnIndex, "modeAt">): Send {
  switch (upstream.kind) {
    case "destination-rule":
      if (upstream.tls === "ISTIO_MUTUAL") return sidecarSends(true, undefined, `mTLS (${upstream.source})`);
      if (upstream.tls === "DISABLE") return sidecarSends(false, undefined, `plaintext (${upstream.source})`);
      return sidecarSends(false, upstream.tls, `${upstream.tls} TLS (${upstream.source})`);
    case "plaintext":
      return sidecarSends(false, undefined, `plaintext (${upstream.why})`);
    case "auto": {
      const via = upstream.source ? `auto mTLS, ${upstream.source}` : "auto mTLS";
      if (e.workload.labels[TLS_MODE_LABEL] !== "istio") {
        return sidecarSends(false, undefined, `plaintext (${via}: endpoint ${e.workload.id} has no sidecar)`);
      }
      if (upstream.checkerTls !== undefined) {
        return upstream.checkerTls === "ISTIO_MUTUAL"
          ? sidecarSends(true, undefined, `mTLS (${via})`)
          : sidecarSends(false, undefined, `plaintext (${via}: top-level ${upstream.checkerTls} read by the endpoint check)`);
      }
      const m = peerAuthn.modeAt(e.workload, e.targetPort);
      if (m.mode === "DISABLE") {
        return sidecarSends(false, undefined, `plaintext (${via}: endpoint DISABLE at port ${e.targetPort}, ${m.source})`);
      }
      return sidecarSends(true, undefined, `mTLS (${via})`);
    }
  }
}
