/**
 * Plain-data types for the Kubernetes and Istio objects this project builds and reasons about.
 * Field names follow the Kubernetes and Istio APIs (security.istio.io/v1, networking.istio.io/v1)
 * so that a builder's output can be applied as it is and a cluster's export can be read as it is.
 */

export type Labels = Record<string, string>;

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Labels;
  annotations?: Record<string, string>;
  /** RFC 3339; the model's "oldest wins" rules read it. Builders never set it. */
  creationTimestamp?: string;
}

/** Milliseconds since epoch of `creationTimestamp`; undefined when absent or unreadable. */
export function creationTime(meta: ObjectMeta): number | undefined {
  const t = meta.creationTimestamp ? Date.parse(meta.creationTimestamp) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** Any Kubernetes object: what YAML reading yields and what builders return. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

// ---- Istio security.istio.io ------------------------------------------------------------

/** PeerAuthentication.MutualTLS.Mode */
export const MTLS_MODES = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

export interface WorkloadSelector {
  matchLabels?: Labels;
}

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: { mode?: MtlsMode };
  /** Keyed by the workload (container/target) port, as a decimal string in YAML. */
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

export interface PeerAuthentication extends KubeObject {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: "PeerAuthentication";
  spec: PeerAuthenticationSpec;
}

export interface JWTRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  jwks?: string;
  forwardOriginalToken?: boolean;
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  jwtRules?: JWTRule[];
}

export interface RequestAuthentication extends KubeObject {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: "RequestAuthentication";
  spec: RequestAuthenticationSpec;
}

export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source: AuthorizationSource }[];
  to?: { operation: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export const AUTHORIZATION_ACTIONS = ["ALLOW", "DENY", "AUDIT", "CUSTOM"] as const;
export type AuthorizationAction = (typeof AUTHORIZATION_ACTIONS)[number];

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  action?: AuthorizationAction;
  /** An absent `rules` list matches nothing; a list holding `{}` matches everything. */
  rules?: AuthorizationRule[];
  provider?: { name: string };
}

export interface AuthorizationPolicy extends KubeObject {
  apiVersion: "security.istio.io/v1" | "security.istio.io/v1beta1";
  kind: "AuthorizationPolicy";
  spec: AuthorizationPolicySpec;
}

// ---- Istio networking.istio.io ----------------------------------------------------------

/** ClientTLSSettings.TLSmode */
export const CLIENT_TLS_MODES = ["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"] as const;
export type ClientTlsMode = (typeof CLIENT_TLS_MODES)[number];

export interface ClientTLSSettings {
  mode?: ClientTlsMode;
  credentialName?: string;
  sni?: string;
  subjectAltNames?: string[];
}

export interface PortTrafficPolicy {
  /** The Service port. */
  port?: { number: number };
  tls?: ClientTLSSettings;
}

export interface TrafficPolicy {
  tls?: ClientTLSSettings;
  portLevelSettings?: PortTrafficPolicy[];
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  exportTo?: string[];
  workloadSelector?: WorkloadSelector;
}

export interface DestinationRule extends KubeObject {
  apiVersion: "networking.istio.io/v1" | "networking.istio.io/v1beta1" | "networking.istio.io/v1alpha3";
  kind: "DestinationRule";
  spec: DestinationRuleSpec;
}

// ---- Mesh config ----------------------------------------------------------------------------

/** The parts of Istio's MeshConfig that decide request outcomes. */
export interface MeshConfig {
  rootNamespace: string;
  trustDomain: string;
  enableAutoMtls: boolean;
}

/** Where istiod runs by default; its namespace is the mesh root namespace unless MeshConfig says otherwise. */
export const ISTIOD_NAMESPACE = "istio-system";

/** istiod's ConfigMap holding MeshConfig (key `mesh`), in istiod's namespace. */
export const MESH_CONFIGMAP = "istio";

/** Istio's defaults for the MeshConfig fields above. */
export const DEFAULT_MESH_CONFIG: Readonly<MeshConfig> = Object.freeze({
  rootNamespace: ISTIOD_NAMESPACE,
  trustDomain: "cluster.local",
  enableAutoMtls: true,
});

/** SPIFFE identity of a workload: spiffe://<trustDomain>/ns/<namespace>/sa/<serviceAccount>. */
export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}
