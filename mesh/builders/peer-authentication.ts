/**
 * PeerAuthentication at mesh, namespace and workload level (istio-mtls-rules.md §A), and the
 * checks that refuse shapes Istio would reject or silently ignore.
 */
import type { MeshPeerAuthentication, MtlsException, PeerAuthenticationSettings, NamespacePeerAuthentication, WorkloadPeerAuthentication } from "../settings";
import { parseDay } from "../day";
import { MTLS_MODES, type MtlsMode, type PeerAuthentication } from "../types";
import { checkDnsLabel, checkDnsSubdomain, labels } from "./meta";

const API_VERSION = "security.istio.io/v1";
/** Istio's convention for the one selector-less policy of a namespace (and of the mesh). */
export const DEFAULT_POLICY_NAME = "default";
const KEY = "istio-mtls:mtls";

function checkMode(setting: string, mode: unknown): asserts mode is MtlsMode {
  if (!(MTLS_MODES as readonly unknown[]).includes(mode)) {
    throw new Error(`${setting}: unknown mode ${JSON.stringify(mode)}; allowed: ${MTLS_MODES.join(", ")}`);
  }
}

/** Throws on the first policy Istio would reject or ignore; names the setting and what is allowed. */
export function validateMtlsPolicies(policies: PeerAuthenticationSettings, rootNamespace: string): void {
  if (policies.mesh) checkMode(`${KEY}.mesh.mode`, policies.mesh.mode);
  const namespaced = new Set<string>();
  policies.namespaces.forEach((p, i) => {
    const at = `${KEY}.namespaces[${i}]`;
    checkDnsLabel(`${at}.namespace`, p.namespace);
    checkMode(`${at}.mode`, p.mode);
    if (p.namespace === rootNamespace) {
      throw new Error(
        `${at}.namespace: ${JSON.stringify(p.namespace)} is the mesh root namespace, where a policy without selector ` +
          `is the mesh-wide policy; set ${KEY}.mesh.mode instead`,
      );
    }
    if (namespaced.has(p.namespace)) {
      throw new Error(
        `${at}.namespace: a second namespace-level policy for ${JSON.stringify(p.namespace)}; ` +
          `allowed: one per namespace (Istio applies only the oldest)`,
      );
    }
    namespaced.add(p.namespace);
  });
  const names = new Set<string>();
  policies.workloads.forEach((p, i) => {
    const at = `${KEY}.workloads[${i}]`;
    checkDnsLabel(`${at}.namespace`, p.namespace);
    checkDnsSubdomain(`${at}.name`, p.name);
    const selectorSize = p.selector ? Object.keys(p.selector).length : 0;
    if (selectorSize === 0) {
      throw new Error(
        p.portLevelMtls
          ? `${at}.portLevelMtls: requires a non-empty ${at}.selector (Istio rejects port-level mTLS without one)`
          : `${at}.selector: empty; allowed: at least one label (a policy without selector is ${KEY}.namespaces)`,
      );
    }
    if (p.namespace === rootNamespace) {
      throw new Error(
        `${at}.namespace: ${JSON.stringify(p.namespace)} is the mesh root namespace, where Istio ignores policies ` +
          `with a selector; allowed: the workload's own namespace`,
      );
    }
    if (p.mode !== undefined) checkMode(`${at}.mode`, p.mode);
    if (p.portLevelMtls !== undefined) {
      const entries = Object.entries(p.portLevelMtls);
      if (entries.length === 0) throw new Error(`${at}.portLevelMtls: empty; allowed: at least one port, or omit it`);
      for (const [port, mode] of entries) {
        const n = Number(port);
        if (!/^[0-9]+$/.test(port) || !Number.isInteger(n) || n < 1 || n > 65535) {
          throw new Error(`${at}.portLevelMtls: port ${JSON.stringify(port)} is not a port; allowed: 1..65535 (container port)`);
        }
        checkMode(`${at}.portLevelMtls.${port}`, mode);
      }
    }
    const id = `${p.namespace}/${p.name}`;
    if (names.has(id) || (p.name === DEFAULT_POLICY_NAME && namespaced.has(p.namespace))) {
      throw new Error(`${at}.name: PeerAuthentication ${id} is defined twice; allowed: one object per name and namespace`);
    }
    names.add(id);
  });
}

function peerAuthentication(namespace: string, name: string, spec: PeerAuthentication["spec"]): PeerAuthentication {
  return { apiVersion: API_VERSION, kind: "PeerAuthentication", metadata: { name, namespace }, spec };
}

/** Annotations of a reviewed exception to STRICT; the policy pack requires them on PERMISSIVE/DISABLE policies. */
export const EXCEPTION_REASON_ANNOTATION = "istio-mtls.dev/exception-reason";
export const EXCEPTION_EXPIRES_ANNOTATION = "istio-mtls.dev/exception-expires";

/** The annotations of an exception, on a PeerAuthentication at any level or on a Namespace without injection. */
export function exceptionAnnotations(at: string, e: MtlsException): Record<string, string> {
  if (typeof e.reason !== "string" || e.reason.trim() === "") throw new Error(`${at}.exception.reason: empty; allowed: why plaintext is still accepted`);
  // parseDay, as the config and the pack read it: a calendar date, not one Date.parse rolls over.
  if (typeof e.expires !== "string" || parseDay(e.expires) === undefined) {
    throw new Error(`${at}.exception.expires: ${JSON.stringify(e.expires)} is not a date; allowed: YYYY-MM-DD`);
  }
  return { [EXCEPTION_EXPIRES_ANNOTATION]: e.expires, [EXCEPTION_REASON_ANNOTATION]: e.reason };
}

function withException(pa: PeerAuthentication, at: string, e: MtlsException | undefined): PeerAuthentication {
  if (e !== undefined) pa.metadata.annotations = exceptionAnnotations(at, e);
  return pa;
}

/** Mesh level: the selector-less policy in the root namespace. */
export function buildMeshPeerAuthentication(p: MeshPeerAuthentication, rootNamespace: string): PeerAuthentication {
  checkMode(`${KEY}.mesh.mode`, p.mode);
  return withException(peerAuthentication(rootNamespace, DEFAULT_POLICY_NAME, { mtls: { mode: p.mode } }), `${KEY}.mesh`, p.exception);
}

export function buildNamespacePeerAuthentication(p: NamespacePeerAuthentication): PeerAuthentication {
  checkMode(`${KEY}.namespaces.mode`, p.mode);
  const pa = peerAuthentication(p.namespace, DEFAULT_POLICY_NAME, { mtls: { mode: p.mode } });
  return withException(pa, `${KEY}.namespaces.${p.namespace}`, p.exception);
}

export function buildWorkloadPeerAuthentication(p: WorkloadPeerAuthentication): PeerAuthentication {
  const spec: PeerAuthentication["spec"] = { selector: { matchLabels: labels(p.selector) } };
  if (p.mode !== undefined) spec.mtls = { mode: p.mode };
  if (p.portLevelMtls !== undefined) {
    // Keys are strings in the API (map<uint32, …> in proto, decimal strings in YAML/JSON).
    const ports = Object.keys(p.portLevelMtls).map(Number).sort((a, b) => a - b);
    spec.portLevelMtls = Object.fromEntries(ports.map((port) => [String(port), { mode: p.portLevelMtls![port] }]));
  }
  return withException(peerAuthentication(p.namespace, p.name, spec), `${KEY}.workloads.${p.namespace}/${p.name}`, p.exception);
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
