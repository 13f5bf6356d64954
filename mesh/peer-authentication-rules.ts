/**
 * What Istio rejects or ignores in PeerAuthentications (sidecar mode), written once. The stack
 * config, the builders, the model and the policy pack each turn these problems into their own
 * errors (istio/istio pkg/config/validation ValidatePeerAuthentication, pilot/pkg/security/authn
 * policy_applier.go).
 */
import { isPortKey } from "./names";
import type { ShapeProblem } from "./shape-problem";
import type { YamlPath } from "./yaml";

function hasSelector(spec: Record<string, unknown>): boolean {
  const matchLabels = (spec.selector as { matchLabels?: unknown } | undefined | null)?.matchLabels;
  return matchLabels !== null && typeof matchLabels === "object" && Object.keys(matchLabels).length > 0;
}

/** What Istio's validation rejects in a PeerAuthentication's spec, as read from YAML (field types unchecked). */
export function peerAuthenticationSpecProblems(spec: Record<string, unknown>): ShapeProblem[] {
  const portLevel = spec.portLevelMtls;
  if (portLevel === undefined || portLevel === null || typeof portLevel !== "object") return [];
  const at: YamlPath = ["spec", "portLevelMtls"];
  const out: ShapeProblem[] = [];
  if (!hasSelector(spec)) {
    out.push({
      path: at,
      problem: "requires a non-empty spec.selector (Istio takes port-level mTLS on workload policies only)",
      allowed: "spec.selector.matchLabels with at least one label, or no portLevelMtls",
    });
  }
  const ports = Object.keys(portLevel);
  if (ports.length === 0) out.push({ path: at, problem: "is empty", allowed: "at least one port entry (omit portLevelMtls for none)" });
  for (const port of ports) {
    if (!isPortKey(port)) out.push({ path: [...at, port], problem: "is not a port", allowed: "1..65535 (a container port)" });
  }
  return out;
}

/** Where a PeerAuthentication applies: mesh-wide, namespace-wide, or to the workloads it selects. */
export type PeerAuthenticationScope = "mesh" | "namespace" | "workload";

/** The scope Istio gives a policy; undefined for a selector in the root namespace, which it ignores. */
export function peerAuthenticationScope(namespace: string, selector: boolean, rootNamespace: string): PeerAuthenticationScope | undefined {
  if (!selector) return namespace === rootNamespace ? "mesh" : "namespace";
  return namespace === rootNamespace ? undefined : "workload";
}

export interface PeerAuthenticationLevels<T> {
  mesh: T | undefined;
  /** The applied selector-less policy per (non-root) namespace. */
  namespaceLevel: Map<string, T>;
  /** Selector policies per namespace, in the order given (oldest first). */
  workloadLevel: Map<string, T[]>;
  /** What Istio ignores: why, and the older policy applied instead when there is one. */
  ignored: { policy: T; why: string; winner?: T }[];
}

/**
 * Sorts policies, oldest first, into what Istio applies: one selector-less policy per namespace
 * (the root namespace's is the mesh policy), the oldest; selector policies outside the root namespace.
 */
export function peerAuthenticationLevels<T extends { namespace: string; ref: string; selector: unknown }>(
  oldestFirst: readonly T[],
  rootNamespace: string,
): PeerAuthenticationLevels<T> {
  const levels: PeerAuthenticationLevels<T> = { mesh: undefined, namespaceLevel: new Map(), workloadLevel: new Map(), ignored: [] };
  for (const p of oldestFirst) {
    const scope = peerAuthenticationScope(p.namespace, p.selector !== undefined, rootNamespace);
    if (scope === undefined) {
      levels.ignored.push({ policy: p, why: `it has a selector in the root namespace ${rootNamespace}, which Istio ignores in sidecar mode` });
    } else if (scope === "workload") {
      const list = levels.workloadLevel.get(p.namespace);
      if (list) list.push(p);
      else levels.workloadLevel.set(p.namespace, [p]);
    } else {
      const winner = scope === "mesh" ? levels.mesh : levels.namespaceLevel.get(p.namespace);
      const level = scope === "mesh" ? "mesh" : `namespace ${p.namespace}`;
      if (winner) levels.ignored.push({ policy: p, winner, why: `it is a second ${level}-level PeerAuthentication; Istio applies only the oldest, ${winner.ref}` });
      else if (scope === "mesh") levels.mesh = p;
      else levels.namespaceLevel.set(p.namespace, p);
    }
  }
  return levels;
}

