/**
 * What the stack config asks for, in the typed form the manifest builders (mesh/builders/)
 * take. config.ts validates stack config into these; components wrap the builders; the model
 * reads the builders' output. Shapes that Istio rejects or ignores are not representable where
 * a type can prevent them (one mesh mode, one mode per namespace, selectors on workload policies).
 */
import type { ClientTlsMode, Labels, MtlsMode } from "./types";

/** PeerAuthentication in the root namespace, no selector. At most one per mesh. */
export interface MeshMtlsPolicy {
  mode: MtlsMode;
}

/** PeerAuthentication `default` in a namespace, no selector. At most one per namespace. */
export interface NamespaceMtlsPolicy {
  namespace: string;
  mode: MtlsMode;
}

/** PeerAuthentication with a selector; optionally per workload (container) port. */
export interface WorkloadMtlsPolicy {
  namespace: string;
  name: string;
  /** Non-empty: without one this would be a namespace policy. */
  selector: Labels;
  /** Omitted: UNSET, inherit from namespace or mesh. */
  mode?: MtlsMode;
  /** Keyed by container port (1..65535), not Service port. */
  portLevelMtls?: Record<number, MtlsMode>;
  /** Why plaintext is still let in (PERMISSIVE or DISABLE somewhere) and until when: written as annotations the policy pack checks. */
  exception?: MtlsException;
}

/** A reviewed, expiring exception to STRICT. */
export interface MtlsException {
  reason: string;
  /** The last day it is allowed, YYYY-MM-DD. */
  expires: string;
}

export interface MtlsPolicies {
  mesh?: MeshMtlsPolicy;
  namespaces: NamespaceMtlsPolicy[];
  workloads: WorkloadMtlsPolicy[];
}

/** A DestinationRule that overrides client-side TLS (auto mTLS does the rest). */
export interface ClientTlsPolicy {
  namespace: string;
  name: string;
  /** FQDN, short name (resolved in `namespace`), or wildcard (`*.local`, `*.foo.svc.cluster.local`). */
  host: string;
  /** Top-level `trafficPolicy.tls.mode`; omitted: no top-level TLS setting. */
  mode?: ClientTlsMode;
  /** `portLevelSettings`, keyed by Service port; a port without a mode has no TLS setting. */
  portLevel?: { port: number; mode?: ClientTlsMode }[];
  /** Namespaces the rule is visible to: "." (own), "*" (all), or names. Omitted: all. */
  exportTo?: string[];
}

/** RequestAuthentication (+ an AuthorizationPolicy requiring a request principal when asked). */
export interface EndUserAuthPolicy {
  namespace: string;
  name: string;
  selector: Labels;
  issuer: string;
  /** https only. */
  jwksUri: string;
  audiences?: string[];
  /** Whether requests without a valid token are refused (403); otherwise a missing token passes. */
  requireToken: boolean;
  /** Paths where a token is required; empty or omitted: every path. */
  paths?: string[];
}

/** AuthorizationPolicy ALLOW by peer identity. Needs mTLS: plaintext requests have no principal. */
export interface WorkloadAuthorizationPolicy {
  namespace: string;
  name: string;
  selector: Labels;
  /** Istio principals `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  principals?: string[];
  namespaces?: string[];
}

export interface IngressSettings {
  enabled: boolean;
  /** Serve HTTPS only, with a cert-manager Certificate from the mesh CA issuer. */
  tls: boolean;
  /** The host the Gateway and VirtualService answer for; "*" for any. */
  host: string;
}
