/**
 * PeerAuthentications as the model reads them, and the index that answers which mode a server
 * workload enforces per port (istio/istio pilot/pkg/model/authentication.go): the composition
 * itself is composePeerAuthentication; this file reads, indexes and memoizes.
 */
import { peerAuthenticationLevels, peerAuthenticationSpecProblems } from "../peer-authentication-rules";
import { describeProblem } from "../shape-problem";
import { creationTime, MTLS_MODES, type KubeObject, type Labels, type MtlsMode } from "../types";
import {
  composePeerAuthentication,
  DEFAULT_MODE,
  levelMode,
  type EffectiveMode,
  type ModeDecision,
  type PeerAuthnPolicy,
  type WorkloadPeerAuthn,
} from "./compose-peer-authentication";
import { ModelInputError, objectRef } from "./errors";
import { isEmptySelector, selectorMatches } from "./match";
import { oldestFirst } from "./order";
import { namespaceOf, type Workload } from "./workloads";

export type { EffectiveMode, ModeDecision, PeerAuthnPolicy, WorkloadPeerAuthn };
export { DEFAULT_MODE };

function readMode(ref: string, field: string, v: unknown): MtlsMode {
  if (v === undefined || v === null) return "UNSET";
  if (typeof v !== "string" || !(MTLS_MODES as readonly string[]).includes(v)) {
    throw new ModelInputError(ref, `${field} is ${JSON.stringify(v)}; allowed: ${MTLS_MODES.join(", ")}`);
  }
  return v as MtlsMode;
}

/** Validates as Istio's webhook does (pkg/config/validation/validation.go ValidatePeerAuthentication). */
export function readPeerAuthentication(o: KubeObject, position: number): PeerAuthnPolicy {
  const namespace = namespaceOf(o);
  const ref = objectRef("PeerAuthentication", namespace, o.metadata.name);
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  if (typeof spec !== "object" || Array.isArray(spec)) throw new ModelInputError(ref, "spec must be a mapping");
  const selectorObj = spec.selector as { matchLabels?: unknown } | undefined | null;
  const matchLabels = selectorObj?.matchLabels;
  if (matchLabels !== undefined && matchLabels !== null && (typeof matchLabels !== "object" || Array.isArray(matchLabels))) {
    throw new ModelInputError(ref, `spec.selector.matchLabels must be a map of strings, found ${JSON.stringify(matchLabels)}`);
  }
  const selector = isEmptySelector(matchLabels as Labels | undefined) ? undefined : (matchLabels as Labels);
  const mtls = spec.mtls as { mode?: unknown } | undefined | null;
  const mode = readMode(ref, "spec.mtls.mode", mtls?.mode);
  const portLevel = new Map<number, MtlsMode>();
  const plm = spec.portLevelMtls;
  if (plm !== undefined && plm !== null && (typeof plm !== "object" || Array.isArray(plm))) {
    throw new ModelInputError(ref, "spec.portLevelMtls must be a map keyed by port");
  }
  const [problem] = peerAuthenticationSpecProblems(spec);
  if (problem) throw new ModelInputError(ref, describeProblem(problem));
  for (const [key, entry] of Object.entries((plm ?? {}) as Record<string, { mode?: unknown } | undefined | null>)) {
    portLevel.set(Number(key), readMode(ref, `spec.portLevelMtls[${key}].mode`, entry?.mode));
  }
  return {
    name: o.metadata.name,
    namespace,
    created: creationTime(o.metadata),
    position,
    ref,
    mode,
    selector,
    portLevel,
  };
}

export class PeerAuthnIndex {
  readonly mesh: PeerAuthnPolicy | undefined;
  /** Oldest selector-less policy per (non-root) namespace. */
  readonly namespaceLevel: Map<string, PeerAuthnPolicy>;
  /** Selector policies per namespace, oldest first. Root-namespace selector policies are dropped. */
  readonly workloadLevel: Map<string, PeerAuthnPolicy[]>;
  /** Policies that the model ignores, with why (for explanations). */
  readonly ignored: { ref: string; why: string }[];
  private readonly meshDecision: ModeDecision;
  private readonly nsDecisions = new Map<string, ModeDecision>();
  private readonly byWorkload = new Map<Workload, WorkloadPeerAuthn>();

  constructor(policies: readonly PeerAuthnPolicy[], readonly rootNamespace: string) {
    const levels = peerAuthenticationLevels(oldestFirst(policies), rootNamespace);
    this.mesh = levels.mesh;
    this.namespaceLevel = levels.namespaceLevel;
    this.workloadLevel = levels.workloadLevel;
    this.ignored = levels.ignored.map(({ policy, why }) => ({ ref: policy.ref, why }));
    this.meshDecision = levelMode(this.mesh, DEFAULT_MODE);
  }

  /** Mesh then namespace level only: what auto mTLS infers for a service (BestEffortInferServiceMTLSMode). */
  namespaceMode(namespace: string): ModeDecision {
    let d = this.nsDecisions.get(namespace);
    if (!d) {
      d = levelMode(this.namespaceLevel.get(namespace), this.meshDecision);
      this.nsDecisions.set(namespace, d);
    }
    return d;
  }

  /** The oldest workload-level policy that selects this workload, if any. */
  workloadPolicy(w: Workload): PeerAuthnPolicy | undefined {
    for (const p of this.workloadLevel.get(w.namespace) ?? []) {
      if (selectorMatches(p.selector, w.labels)) return p;
    }
    return undefined;
  }

  forWorkload(w: Workload): WorkloadPeerAuthn {
    let r = this.byWorkload.get(w);
    if (!r) {
      r = composePeerAuthentication(this.namespaceMode(w.namespace), this.workloadPolicy(w));
      this.byWorkload.set(w, r);
    }
    return r;
  }

  /** The mode at a workload (container) port: portLevelMtls is keyed by it, never by the Service port. */
  modeAt(w: Workload, targetPort: number): ModeDecision {
    const r = this.forWorkload(w);
    return r.ports.get(targetPort) ?? r.workloadMode;
  }
}
