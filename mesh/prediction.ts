/**
 * The shape of a prediction: what the model says each probe (client workload → Service port)
 * will observe. Shared by the model (mesh/predict.ts), the CLI, the policy pack and the
 * connectivity probe, which compares what it observes in the cluster with these cells.
 */

/** An end-user token as the model sees it: its claims, not its bytes. */
export type EndUserToken =
  | { kind: "none" }
  /** A token that the server's RequestAuthentication can verify (right issuer and keys, not expired). */
  | { kind: "valid"; issuer: string; subject: string; audiences?: string[]; claims?: Record<string, unknown> }
  /** A token that fails verification: bad signature, expired, unknown issuer. */
  | { kind: "invalid" };

/** What the client sends: `curl -s http://<service>.<namespace>:<port><path>`. */
export interface ProbeRequest {
  /** Default "/headers" (httpbin echoes the headers, which shows X-Forwarded-Client-Cert). */
  path?: string;
  /** Default "GET". */
  method?: string;
  /** Default none. */
  token?: EndUserToken;
}

/** A client workload: a Deployment (or a bare Pod) that sends the probe. */
export interface ClientRef {
  namespace: string;
  /** The Deployment's name, or a bare Pod's. */
  name: string;
  /** Pod template labels: how the probe finds a pod of this workload. */
  labels: Record<string, string>;
  serviceAccount: string;
  sidecar: boolean;
}

/** A Service port that receives the probe. */
export interface TargetRef {
  namespace: string;
  service: string;
  /** The Service port the client connects to. */
  port: number;
  /** The workload (container) port behind it, where PeerAuthentication port-level mTLS applies. */
  targetPort: number | string;
}

/** One predicted cell of the connectivity matrix. */
export interface ProbeOutcome {
  /** `<workload>.<namespace>`, e.g. "sleep.foo". */
  from: string;
  /** `<service>.<namespace>:<service port>`, e.g. "httpbin.foo:8000". */
  to: string;
  /** HTTP status as curl's %{http_code} shows it; 0 for curl's "000" (refused or reset). */
  code: number;
  /** Whether the request reached the server's workload over Istio mTLS. */
  mtls: boolean;
  /** Names the deciding objects, e.g. "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication foo/default)". */
  reason: string;
  /**
   * How a failed transport fails (set exactly when code is 0 or one of the client sidecar's 503s),
   * which is what the connectivity probe must observe to confirm it:
   * - "reset": the server side drops the connection (plaintext to STRICT, mTLS or client TLS to a
   *   plaintext or DISABLE port). A client without sidecar sees curl exit 52 or 56; a client sidecar
   *   answers 503 "upstream connect error or disconnect/reset before headers" (Envoy flags UC/UF/URX).
   * - "no-endpoint": the Service has no endpoint. A client without sidecar is refused (curl exit 7);
   *   a client sidecar answers 503 "no healthy upstream" (Envoy flag UH).
   */
  failure?: "reset" | "no-endpoint";
  /**
   * Objects of the input that the model does not read but that could change this cell (a
   * VirtualService routing to the Service, a Sidecar restricting the client...), one reason each,
   * e.g. "not modelled: VirtualService foo/httpbin routes httpbin.foo". Absent when none could:
   * the scope of each kind is in mesh/predict.ts (NOT_MODELLED_KINDS).
   */
  notModelled?: string[];
  /** The client's SPIFFE identity as the server sees it (mTLS only). */
  clientIdentity?: string;
  /** The server workload's SPIFFE identity. */
  serverIdentity?: string;
  client: ClientRef;
  target: TargetRef;
}

export interface Prediction {
  probes: ProbeOutcome[];
}
