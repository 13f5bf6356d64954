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
 * `outcomeAt(i)`: what endpoint i gives, asked only as far as needed. Endpoints that differ in code
 * or mTLS: the failing one is reported, and the reason says they differ.
 */
export function loadBalanced(endpoints: readonly Endpoint[], outcomeAt: (i: number) => Outcome): Outcome {
  const first = outcomeAt(0);
  for (let i = 1; i < endpoints.length; i++) {
    const other = outcomeAt(i);
    if (other.code !== first.code || other.mtls !== first.mtls) {
      const firstFails = first.code !== 200;
      const bad = firstFails ? first : other;
      const badEndpoint = firstFails ? endpoints[0]! : endpoints[i]!;
      return { code: bad.code, mtls: bad.mtls, reason: `endpoints differ, ${badEndpoint.workload.id}: ${bad.reason}`, failure: bad.failure };
    }
  }
  return first;
}
