/**
 * Which TLS a client sidecar uses toward a Service port (istio/istio
 * pilot/pkg/networking/core/cluster_tls.go buildUpstreamTLSSettings, rules §C 9 and 11): the
 * applying DestinationRule's tls after util.MergeTrafficPolicy, else plaintext or auto mTLS.
 */
import type { ClientTlsMode } from "../types";
import type { DestinationRuleEntry } from "./destination-rule";
import type { PeerAuthnIndex } from "./peer-authentication";
import { TLS_MODE_LABEL, type ServicePort } from "./workloads";

export type UpstreamTls =
  /** Istio's userSupplied settings: the DestinationRule's tls mode, for every endpoint. */
  | { kind: "destination-rule"; tls: ClientTlsMode; source: string }
  | { kind: "plaintext"; why: string }
  /**
   * Istio's autoDetected settings: decided per endpoint (clientSends). `checkerTls`: the top-level
   * DestinationRule mode that mtls_checker.go still reads when the port entry has no tls.
   */
  | { kind: "auto"; checkerTls: ClientTlsMode | undefined; source: string | undefined };

/** `rule`: the DestinationRule whose trafficPolicy applies to this client and Service port, if any. */
export function upstreamTls(
  rule: Pick<DestinationRuleEntry, "ref" | "tls" | "portLevel"> | undefined,
  sp: ServicePort,
  enableAutoMtls: boolean,
  peerAuthn: Pick<PeerAuthnIndex, "namespaceMode">,
): UpstreamTls {
  let mergedTls: ClientTlsMode | undefined;
  let checkerTls: ClientTlsMode | undefined;
  let source: string | undefined;
  if (rule) {
    const entry = rule.portLevel.find((e) => e.port === sp.port);
    // util.MergeTrafficPolicy: a matching port entry replaces the top-level tls, even with none.
    mergedTls = entry ? entry.tls : rule.tls;
    // mtls_checker.go trafficPolicyTLSModeForPort: a port entry counts only when it has tls.
    checkerTls = entry && entry.tls !== undefined ? entry.tls : rule.tls;
    source = entry
      ? `${rule.ref} portLevelSettings ${sp.port}${entry.tls ? ` ${entry.tls}` : " (no tls)"}`
      : `${rule.ref}${rule.tls ? ` ${rule.tls}` : " (no tls)"}`;
  }
  if (mergedTls !== undefined) return { kind: "destination-rule", tls: mergedTls, source: source! };
  if (!enableAutoMtls) return { kind: "plaintext", why: `enableAutoMtls false${source ? `, ${source}` : ""}` };
  if (sp.headless && (sp.endpoints.length === 0 || sp.endpoints.some((e) => e.workload.labels[TLS_MODE_LABEL] !== "istio"))) {
    return { kind: "plaintext", why: "headless Service with an endpoint without sidecar (passthrough auto mTLS)" };
  }
  const inferred = peerAuthn.namespaceMode(sp.namespace);
  if (inferred.mode === "DISABLE") {
    return { kind: "plaintext", why: `auto mTLS off: namespace ${sp.namespace} is DISABLE (${inferred.source})` };
  }
  return { kind: "auto", checkerTls, source };
}
