/**
 * ComposePeerAuthentication (istio/istio pilot/pkg/security/authn/policy_applier.go): the mode a
 * workload enforces, per port. Start at PERMISSIVE; then the mesh policy, the namespace policy and
 * the workload policy, each UNSET inheriting from the level above; then portLevelMtls, keyed by
 * container port, an UNSET port inheriting the workload's mode. Which policy is each level's
 * (oldest wins) is peerAuthenticationLevels' decision; PeerAuthnIndex memoizes this one.
 */
import type { Labels, MtlsMode } from "../types";
import type { Aged } from "./order";

/** A mode after resolution: UNSET never survives it. */
export type EffectiveMode = Exclude<MtlsMode, "UNSET">;

export interface PeerAuthnPolicy extends Aged {
  /** `PeerAuthentication <ns>/<name>`. */
  ref: string;
  mode: MtlsMode;
  selector: Labels | undefined;
  portLevel: Map<number, MtlsMode>;
}

/** A resolved mode and the object that decided it. */
export interface ModeDecision {
  mode: EffectiveMode;
  /** E.g. "PeerAuthentication foo/default", "portLevelMtls 8080 of PeerAuthentication bar/httpbin". */
  source: string;
}

export interface WorkloadPeerAuthn {
  workloadMode: ModeDecision;
  ports: Map<number, ModeDecision>;
}

export const DEFAULT_MODE: ModeDecision = Object.freeze({
  mode: "PERMISSIVE",
  source: "no PeerAuthentication, Istio default",
});


/** A level's mode, or the inherited one when the level has no policy or its policy says UNSET. */
export function levelMode(policy: PeerAuthnPolicy | undefined, inherited: ModeDecision): ModeDecision {
  return policy && policy.mode !== "UNSET" ? { mode: policy.mode, source: policy.ref } : inherited;
}

/** `namespaceMode` is the mesh and namespace levels composed (levelMode); `workload` the policy selecting the workload. */
export function composePeerAuthentication(namespaceMode: ModeDecision, workload: PeerAuthnPolicy | undefined): WorkloadPeerAuthn {
  const workloadMode = levelMode(workload, namespaceMode);
  const ports = new Map<number, ModeDecision>();
  for (const [port, mode] of workload?.portLevel ?? []) {
    ports.set(port, mode === "UNSET" ? workloadMode : { mode, source: `portLevelMtls ${port} of ${workload!.ref}` });
  }
  return { workloadMode, ports };
}
