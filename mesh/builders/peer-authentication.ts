/**
 * PeerAuthentication at mesh, namespace and workload level (istio-mtls-rules.md §A), and the
 * checks that refuse shapes Istio would reject or silently ignore.
 */
import type { MeshPeerAuthentication, MtlsException, PeerAuthenticationSettings, NamespacePeerAuthentication, WorkloadPeerAuthentication } from "../settings";
import { parseDay } from "../day";
import { objectRef } from "../model/errors";
import { peerAuthenticationScope, peerAuthenticationSpecProblems } from "../peer-authentication-rules";
import { describeProblem } from "../shape-problem";
import { MTLS_MODES, type MtlsMode, type PeerAuthentication } from "../types";
import { checkDnsLabel, checkDnsSubdomain, labels } from "./meta";

const API_VERSION = "security.istio.io/v1";
/** Istio's convention for the one selector-less policy of a namespace (and of the mesh). */
export const DEFAULT_POLICY_NAME = "default";

function checkMode(setting: string, mode: unknown): asserts mode is MtlsMode {
  if (!(MTLS_MODES as readonly unknown[]).includes(mode)) {
    throw new Error(`${setting}: unknown mode ${JSON.stringify(mode)}; allowed: ${MTLS_MODES.join(", ")}`);
  }
}

function ref(namespace: string, name: string): string {
  return objectRef("PeerAuthentication", namespace, name);
}

/** Throws on the first policy Istio would reject or ignore, naming the object, its field and what is allowed. */
export function validateMtlsPolicies(policies: PeerAuthenticationSettings, rootNamespace: string): void {
  if (policies.mesh) checkMode(`${ref(rootNamespace, DEFAULT_POLICY_NAME)}: spec.mtls.mode`, policies.mesh.mode);
  const namespaced = new Set<string>();
  for (const p of policies.namespaces) {
    const at = ref(p.namespace, DEFAULT_POLICY_NAME);
    checkDnsLabel(`${at}: metadata.namespace`, p.namespace);
    checkMode(`${at}: spec.mtls.mode`, p.mode);
    if (peerAuthenticationScope(p.namespace, false, rootNamespace) === "mesh") {
      throw new Error(
        `${at}: metadata.namespace: ${JSON.stringify(p.namespace)} is the mesh root namespace, where a policy without selector ` +
          `is the mesh-wide policy; allowed: another namespace (the mesh-wide mode is the mesh policy's)`,
      );
    }
    if (namespaced.has(p.namespace)) {
      throw new Error(`${at}: a second namespace-level policy for ${JSON.stringify(p.namespace)}; allowed: one per namespace (Istio applies only the oldest)`);
    }
    namespaced.add(p.namespace);
  }
  const names = new Set<string>();
  for (const p of policies.workloads) {
    const at = ref(p.namespace, p.name);
    checkDnsLabel(`${at}: metadata.namespace`, p.namespace);
    checkDnsSubdomain(`${at}: metadata.name`, p.name);
    if (p.mode !== undefined) checkMode(`${at}: spec.mtls.mode`, p.mode);
    for (const [port, mode] of Object.entries(p.portLevelMtls ?? {})) checkMode(`${at}: spec.portLevelMtls.${port}.mode`, mode);
    const [problem] = peerAuthenticationSpecProblems({ selector: { matchLabels: p.selector }, portLevelMtls: p.portLevelMtls });
    if (problem) throw new Error(`${at}: ${describeProblem(problem)}`);
    if (!p.selector || Object.keys(p.selector).length === 0) {
      throw new Error(`${at}: spec.selector: empty; allowed: at least one label (without one the policy is namespace-wide)`);
    }
    if (peerAuthenticationScope(p.namespace, true, rootNamespace) === undefined) {
      throw new Error(
        `${at}: metadata.namespace: ${JSON.stringify(p.namespace)} is the mesh root namespace, where Istio ignores policies ` +
          `with a selector; allowed: the workload's own namespace`,
      );
    }
    const id = `${p.namespace}/${p.name}`;
    if (names.has(id) || (p.name === DEFAULT_POLICY_NAME && namespaced.has(p.namespace))) {
      throw new Error(`${at}: defined twice; allowed: one object per name and namespace`);
    }
    names.add(id);
  }
}

function peerAuthentication(namespace: string, name: string, spec: PeerAuthentication["spec"]): PeerAuthentication {
  return { apiVersion: API_VERSION, kind: "PeerAuthentication", metadata: { name, namespace }, spec };
}

/** Annotations of a reviewed exception to STRICT; the policy pack requires them on PERMISSIVE/DISABLE policies. */
export const EXCEPTION_REASON_ANNOTATION = "istio-mtls.dev/exception-reason";
export const EXCEPTION_EXPIRES_ANNOTATION = "istio-mtls.dev/exception-expires";

/** The annotations of an exception, on a PeerAuthentication at any level or on a Namespace without injection (`at`). */
export function exceptionAnnotations(at: string, e: MtlsException): Record<string, string> {
  if (typeof e.reason !== "string" || e.reason.trim() === "") {
    throw new Error(`${at}: metadata.annotations["${EXCEPTION_REASON_ANNOTATION}"]: empty; allowed: why plaintext is still accepted`);
  }
  // parseDay, as the config and the pack read it: a calendar date, not one Date.parse rolls over.
  if (typeof e.expires !== "string" || parseDay(e.expires) === undefined) {
    throw new Error(`${at}: metadata.annotations["${EXCEPTION_EXPIRES_ANNOTATION}"]: ${JSON.stringify(e.expires)} is not a date; allowed: YYYY-MM-DD`);
  }
  return { [EXCEPTION_EXPIRES_ANNOTATION]: e.expires, [EXCEPTION_REASON_ANNOTATION]: e.reason };
}

function withException(pa: PeerAuthentication, e: MtlsException | undefined): PeerAuthentication {
  if (e !== undefined) pa.metadata.annotations = exceptionAnnotations(ref(pa.metadata.namespace!, pa.metadata.name), e);
  return pa;
}

/** Mesh level: the selector-less policy in the root namespace. */
export function buildMeshPeerAuthentication(p: MeshPeerAuthentication, rootNamespace: string): PeerAuthentication {
  checkMode(`${ref(rootNamespace, DEFAULT_POLICY_NAME)}: spec.mtls.mode`, p.mode);
  return withException(peerAuthentication(rootNamespace, DEFAULT_POLICY_NAME, { mtls: { mode: p.mode } }), p.exception);
}

export function buildNamespacePeerAuthentication(p: NamespacePeerAuthentication): PeerAuthentication {
  checkMode(`${ref(p.namespace, DEFAULT_POLICY_NAME)}: spec.mtls.mode`, p.mode);
  return withException(peerAuthentication(p.namespace, DEFAULT_POLICY_NAME, { mtls: { mode: p.mode } }), p.exception);
}

export function buildWorkloadPeerAuthentication(p: WorkloadPeerAuthentication): PeerAuthentication {
  const spec: PeerAuthentication["spec"] = { selector: { matchLabels: labels(p.selector) } };
  if (p.mode !== undefined) spec.mtls = { mode: p.mode };
  if (p.portLevelMtls !== undefined) {
    // Keys are strings in the API (map<uint32, …> in proto, decimal strings in YAML/JSON).
    const ports = Object.keys(p.portLevelMtls).map(Number).sort((a, b) => a - b);
    spec.portLevelMtls = Object.fromEntries(ports.map((port) => [String(port), { mode: p.portLevelMtls![port] }]));
  }
  return withException(peerAuthentication(p.namespace, p.name, spec), p.exception);
}

/** Every PeerAuthentication of the policies, mesh first, then namespaces and workloads as listed. */
export function buildPeerAuthentications(policies: PeerAuthenticationSettings, rootNamespace: string): PeerAuthentication[] {
  validateMtlsPolicies(policies, rootNamespace);
  return [
    ...(policies.mesh ? [buildMeshPeerAuthentication(policies.mesh, rootNamespace)] : []),
    ...policies.namespaces.map(buildNamespacePeerAuthentication),
    ...policies.workloads.map(buildWorkloadPeerAuthentication),
  ];
}
