/**
 * What a client observes from a Service port as a whole: with no endpoint, the client sidecar has no
 * healthy upstream (503) and a client without one is refused (000); with several, load balancing
 * picks any of them, so endpoints that disagree make the cell flaky.
 */
import { NO_SIDECAR_CLIENT } from "./client-sends";
import type { Outcome } from "./endpoint-outcome";
import type { Endpoint, ServicePort } from "./workloads";

export function noHealthyUpstream(sp: ServicePort, fromSidecar: boolean): Outcome {
  const why = `Service ${sp.namespace}/${sp.service} selects no running workload with port ${sp.targetPortSpec}`;
  return fromSidecar
    ? { code: 503, mtls: false, reason: `sidecar client → ${why} (no healthy upstream)`, failure: "no-endpoint" }
    : { code: 0, mtls: false, reason: `${NO_SIDECAR_CLIENT} → ${why} (connection refused)`, failure: "no-endpoint" };
}

/**
 * Two endpoints of one Service port, as load balancing may pick either: undefined when they agree
 * on code and mTLS; otherwise the failing one, with a reason that says they differ.
 */
export function endpointsDiffer(first: Outcome, firstEndpoint: Endpoint, other: Outcome, otherEndpoint: Endpoint): Outcome | undefined {
  if (other.code === first.code && other.mtls === first.mtls) return undefined;
  const firstFails = first.code !== 200;
  const bad = firstFails ? first : other;
  const badEndpoint = firstFails ? firstEndpoint : otherEndpoint;
  return { code: bad.code, mtls: bad.mtls, reason: `endpoints differ, ${badEndpoint.workload.id}: ${bad.reason}`, failure: bad.failure };
}
