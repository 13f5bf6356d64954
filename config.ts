/**
 * The stack configuration: typed, defaulted and validated before any resource is registered.
 * Every error names the key (`istio-mtls:<key>.<path>`), the value found and what is allowed.
 */
import type {
  ClientTlsPolicy,
  EndUserAuthPolicy,
  IngressSettings,
  MtlsPolicies,
  WorkloadAuthorizationPolicy,
} from "./mesh/intent";
import type { MeshConfig } from "./mesh/types";

export interface IstioSettings {
  /** false: use an Istio that is already installed (managed meshes); nothing of Istio is deployed. */
  install: boolean;
  /** Helm chart version of base, istiod and gateway, e.g. "1.28.1". */
  version: string;
  /** Default: the official Istio chart repository. */
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

export interface NamespaceSettings {
  name: string;
  /** Sidecar injection label on the namespace. */
  injection: boolean;
}

export interface DemoSettings {
  /** Deploy httpbin and sleep into every configured namespace. */
  enabled: boolean;
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

/** A declared expectation reviewed in pull requests and checked against the model (policy pack). */
export interface ConnectivityIntent {
  /** `<workload>.<namespace>` */
  from: string;
  /** `<service>.<namespace>:<port>` */
  to: string;
  /** "mtls": must succeed over mTLS; "allowed": must succeed; "refused": must not succeed. */
  expect: "mtls" | "allowed" | "refused";
}

export interface StackConfig {
  /** A production stack: the policy pack requires mesh-wide STRICT. */
  production: boolean;
  istio: IstioSettings;
  certManager: CertManagerSettings;
  ca: CaSettings;
  namespaces: NamespaceSettings[];
  demo: DemoSettings;
  mtls: MtlsPolicies;
  destinationRules: ClientTlsPolicy[];
  endUserAuth: EndUserAuthPolicy[];
  authorization: WorkloadAuthorizationPolicy[];
  ingress: IngressSettings;
  probe: ProbeSettings;
  intent: ConnectivityIntent[];
}
