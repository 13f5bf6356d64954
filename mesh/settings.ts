/**
 * What the stack config asks for, in the typed form planStack (mesh/plan.ts) and the manifest
 * builders (mesh/builders/) take. config.ts validates stack config into these; the components
 * deploy the plan; the model reads the same objects. Shapes that Istio rejects or ignores are not representable where
 * a type can prevent them (one mesh mode, one mode per namespace, selectors on workload policies).
 */
import type { IntentEntry } from "./builders/intent";
import type { ClientTlsMode, Labels, MeshConfig, MtlsMode } from "./types";

/** PeerAuthentication in the root namespace, no selector. At most one per mesh. */
export interface MeshPeerAuthentication {
  mode: MtlsMode;
  /** A reviewed exception (a mesh-wide PERMISSIVE migration), written as annotations the policy pack checks. */
  exception?: MtlsException;
}

/** PeerAuthentication `default` in a namespace, no selector. At most one per namespace. */
export interface NamespacePeerAuthentication {
  namespace: string;
  mode: MtlsMode;
  /** A reviewed exception (a namespace-wide PERMISSIVE migration), written as annotations the policy pack checks. */
  exception?: MtlsException;
}

/** PeerAuthentication with a selector; optionally per workload (container) port. */
export interface WorkloadPeerAuthentication {
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

export interface PeerAuthenticationSettings {
  mesh?: MeshPeerAuthentication;
  namespaces: NamespacePeerAuthentication[];
  workloads: WorkloadPeerAuthentication[];
}

/** A DestinationRule that overrides client-side TLS (auto mTLS does the rest). */
export interface DestinationRuleSettings {
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
export interface EndUserAuthSettings {
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
export interface AuthorizationPolicySettings {
  namespace: string;
  name: string;
  selector: Labels;
  /** Istio principals `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`. */
  principals?: string[];
  namespaces?: string[];
}

/**
 * Types of the gateway's Service (the `gateway` chart's `service.type`). LoadBalancer, the chart's
 * default, needs something that assigns an address (a cloud, MetalLB, cloud-provider-kind):
 * without one Helm's wait never ends. NodePort and ClusterIP need none (kind: NodePort).
 */
export const GATEWAY_SERVICE_TYPES = ["LoadBalancer", "NodePort", "ClusterIP"] as const;
export type GatewayServiceType = (typeof GATEWAY_SERVICE_TYPES)[number];
export const DEFAULT_GATEWAY_SERVICE_TYPE: GatewayServiceType = "LoadBalancer";

export interface IngressSettings {
  enabled: boolean;
  /** Serve HTTPS only, with a cert-manager Certificate from the mesh CA issuer. */
  tls: boolean;
  /** The host the Gateway and VirtualService answer for; "*" for any. */
  host: string;
  /** The gateway Service's type: LoadBalancer, or NodePort/ClusterIP where no load balancer exists (kind). */
  serviceType: GatewayServiceType;
}

// ---- What the stack installs: Istio, cert-manager and the mesh CA ----------------------------

export interface IstioSettings {
  /** false: use an Istio that is already installed (managed meshes); nothing of Istio is deployed. */
  install: boolean;
  /** Helm chart version of base, istiod and gateway, e.g. "1.28.1". */
  version: string;
  /**
   * The official Istio chart repository by default; or another https:// or oci:// repository; or
   * a local folder (absolute path) holding base/, istiod/ and gateway/ (mesh/chart-source.ts).
   */
  chartRepository: string;
  /** Where istiod runs and `cacerts` lives. */
  namespace: string;
  /** Istio revision; omitted: the default revision. */
  revision?: string;
  mesh: MeshConfig;
  ingressGateway: boolean;
}

export interface CertManagerSettings {
  /** false: cert-manager is already installed (shared cert-manager); only issuers and certificates are created. */
  install: boolean;
  /** Chart version of cert-manager, e.g. "v1.19.1". */
  version: string;
  namespace: string;
  /**
   * Omitted: @pulumi/kubernetes-cert-manager's component installs Jetstack's chart from its default
   * repository. Set: that repository (https:// or oci://), or a local folder (absolute path)
   * holding cert-manager/, which Helm installs directly (the component cannot take a local chart).
   */
  chartRepository?: string;
}

export interface CaSettings {
  /** "cert-manager": mesh root and intermediate from cert-manager into `cacerts`; "istiod": istiod's self-signed CA. */
  type: "cert-manager" | "istiod";
  keyAlgorithm: "ECDSA" | "RSA";
  /** ECDSA 256 or 384; RSA 2048, 3072 or 4096. */
  keySize: number;
  /** Go durations as cert-manager takes them, e.g. "87600h". */
  rootDuration: string;
  intermediateDuration: string;
  intermediateRenewBefore: string;
}

/** The probe's settings when none are given: the one home of these defaults, for the stack config and the component. */
export const PROBE_DEFAULTS = { requestTimeoutSeconds: 5, deadlineSeconds: 180, concurrency: 4 } as const;
/** The largest settings the probe takes; the stack config rejects larger ones with the key, before anything is registered. */
export const PROBE_MAXIMA = { requestTimeoutSeconds: 300, deadlineSeconds: 3600, concurrency: 100 } as const;

// ---- The whole stack -----------------------------------------------------------------------

export interface NamespaceSettings {
  name: string;
  /** Sidecar injection label on the namespace. */
  injection: boolean;
  /** Why workloads here go without sidecars, until when (the pack requires it in production without injection). */
  exception?: MtlsException;
}

export interface ProbeSettings {
  /** Run the post-deploy connectivity probes. */
  enabled: boolean;
  /** Run on every `pulumi up`, not only when the deployed policy objects change. */
  alwaysRun: boolean;
  /** Per-request curl timeout. */
  requestTimeoutSeconds: number;
  /** How long to retry until the observed matrix equals the prediction. */
  deadlineSeconds: number;
  /** How many client pods are probed at once. */
  concurrency: number;
}

/** The validated stack config (config.ts), as planStack reads it. */
export interface StackSettings {
  /** A production stack: the policy pack requires mesh-wide STRICT. */
  production: boolean;
  istio: IstioSettings;
  certManager: CertManagerSettings;
  ca: CaSettings;
  namespaces: NamespaceSettings[];
  /** httpbin and sleep in every listed namespace. */
  demo: { enabled: boolean };
  mtls: PeerAuthenticationSettings;
  destinationRules: DestinationRuleSettings[];
  endUserAuth: EndUserAuthSettings[];
  authorization: AuthorizationPolicySettings[];
  ingress: IngressSettings;
  probe: ProbeSettings;
  /** Reviewed expectations: these clients reach these services (over mTLS), or are refused. */
  intent: IntentEntry[];
}
