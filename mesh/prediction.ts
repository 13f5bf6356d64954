/**
 * The cell of the connectivity matrix: one request from a client workload to a Service port, and
 * what it gets. The model predicts cells (mesh/predict.ts) and the connectivity probe observes
 * cells of the same type (probe/), so checking a deployment is a diff of two tables of cells.
 */

/** An end-user token as the model sees it: its claims, not its bytes. */
export type EndUserToken =
  | { kind: "none" }
  /** A token that the server's RequestAuthentication can verify (right issuer and keys, not expired). */
  | { kind: "valid"; issuer: string; subject: string; audiences?: string[]; claims?: Record<string, unknown> }
  /** A token that fails verification: bad signature, expired, unknown issuer. */
  | { kind: "invalid" };

/** What the client sends: `curl -X <method> http://<service>.<namespace>:<port><path>`, with the token as a bearer. */
export interface CellRequest {
  path: string;
  method: string;
  token: EndUserToken;
}

/** The request when none is given: httpbin echoes the headers at /headers, which shows X-Forwarded-Client-Cert. */
export const DEFAULT_REQUEST: Readonly<CellRequest> = Object.freeze({ path: "/headers", method: "GET", token: Object.freeze({ kind: "none" as const }) });

/** A client workload: a Deployment (or a bare Pod) that sends the request. */
export interface ClientRef {
  namespace: string;
  /** The Deployment's name, or a bare Pod's. */
  name: string;
  /** Pod template labels: how the probe finds a pod of this workload. */
  labels: Record<string, string>;
  serviceAccount: string;
  sidecar: boolean;
}

/** A Service port that receives the request. */
export interface TargetRef {
  namespace: string;
  service: string;
  /** The Service port the client connects to. */
  port: number;
  /** The workload (container) port behind it, where PeerAuthentication port-level mTLS applies. */
  targetPort: number | string;
  /**
   * How far the probe can check a cell to this port (probe/observe.ts); absent: in full, as for the
   * demo's httpbin, whose answer to the request is known (200, and at /headers an echo that shows
   * the transport). Set by the live prediction (probe/live.ts, probe/port-protocol.ts):
   * - "http": an HTTP port of an application whose answers the model does not know: a cell
   *   that reaches it expects any answer that is not one of Envoy's own;
   * - "connection": a port that does not declare HTTP: only accepted or refused/reset.
   */
  check?: TargetCheck;
}

export type TargetCheck = "http" | "connection";

/**
 * How a failed transport fails (set exactly when code is 0 or one of the client sidecar's 503s):
 * - "reset": the server side drops the connection (plaintext to STRICT, mTLS or client TLS to a
 *   plaintext or DISABLE port). A client without sidecar sees curl exit 52 or 56; a client sidecar
 *   answers 503 "upstream connect error or disconnect/reset before headers" (Envoy flags UC/UF/URX).
 * - "no-endpoint": the Service has no endpoint. A client without sidecar is refused (curl exit 7);
 *   a client sidecar answers 503 "no healthy upstream" (Envoy flag UH).
 */
export type CellFailure = "reset" | "no-endpoint";

/** One cell of the connectivity matrix, predicted or observed. */
export interface Cell {
  /** `<workload>.<namespace>`, e.g. "sleep.foo". */
  from: string;
  /** `<service>.<namespace>:<service port>`, e.g. "httpbin.foo:8000". */
  to: string;
  request: CellRequest;
  /**
   * HTTP status as curl's %{http_code} shows it; 0 for curl's "000" (refused or reset). Predicted:
   * 200 when the request reaches the application (what httpbin answers; to a target of check
   * "http", any answer of the application), 401 or 403 when the server sidecar's
   * RequestAuthentication or AuthorizationPolicy refuses it (Envoy's own answer), else a `failure`.
   */
  code: number;
  /**
   * Whether the request reached the server's workload over Istio mTLS. On an observed cell, what
   * the response showed (X-Forwarded-Client-Cert echoed), meaningful only when `evidence.mtlsShown`.
   */
  mtls: boolean;
  /**
   * Predicted: names the deciding objects, e.g. "plaintext client (no sidecar) → STRICT at port 8080
   * (PeerAuthentication foo/default)". Observed: what the probe saw, e.g. "000 (curl exit 56: connection reset)".
   */
  reason: string;
  /** Predicted: how the transport fails, which the probe must observe to confirm it. Observed: the failure its evidence shows. */
  failure?: CellFailure;
  /**
   * Objects of the input that the model does not read but that could change this cell (a
   * VirtualService routing to the Service, a Sidecar restricting the client...), one reason each,
   * e.g. "not modelled: VirtualService foo/httpbin routes httpbin.foo". Absent when none could:
   * the scope of each kind is in mesh/predict.ts (NOT_MODELLED_KINDS).
   */
  notModelled?: string[];
  /** The client's SPIFFE identity as the server sees it (mTLS only); observed: the URI of X-Forwarded-Client-Cert. */
  clientIdentity?: string;
  /** The server workload's SPIFFE identity (predicted only). */
  serverIdentity?: string;
  client: ClientRef;
  target: TargetRef;
  /** Observed cells only: what the probe saw besides the code. */
  evidence?: Evidence;
}

/** What one request of the probe saw, beyond its status. */
export interface Evidence {
  /** curl's exit status: 0 ok, 7 refused, 28 timeout, 52 empty reply, 56 reset, 6 no DNS… */
  curlExit: number;
  /** Whether the response could show the transport: its body echoed the request's headers (httpbin's /headers), X-Forwarded-Client-Cert among them when the server sidecar saw mTLS. */
  mtlsShown: boolean;
  /** For an HTTP error status: who answered (the Server header) and the body's first line, sanitised: Envoy's own answers are told by it. */
  server?: string;
  body?: string;
  timeSeconds: number;
}

/** The model's table: one cell per (client workload, Service port), clients and ports sorted. */
export interface Prediction {
  probes: Cell[];
}
