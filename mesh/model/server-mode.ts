/**
 * What a server endpoint's port accepts (rules §A 5 and §B 6): with a sidecar, the PeerAuthentication
 * mode composed for its workload port (peer-authentication.ts); without one, nothing is enforced.
 */
import type { EffectiveMode, PeerAuthnIndex } from "./peer-authentication";
import type { Endpoint } from "./workloads";

export interface ServerMode {
  /** NONE: no sidecar, the app itself answers. */
  mode: EffectiveMode | "NONE";
  /** Server side of the reason: "STRICT at port 8080 (PeerAuthentication foo/default)". */
  why: string;
}

export function serverMode(e: Endpoint, peerAuthn: Pick<PeerAuthnIndex, "modeAt">): ServerMode {
  const w = e.workload;
  if (!w.sidecar) return { mode: "NONE", why: `${w.id} has no sidecar (${w.sidecarWhy}; nothing enforced)` };
  const m = peerAuthn.modeAt(w, e.targetPort);
  return { mode: m.mode, why: `${m.mode} at port ${e.targetPort} (${m.source})` };
}
