/**
 * cert-manager from Jetstack's chart with the chart's own CRDs: from the configured repository, or
 * @pulumi/kubernetes-cert-manager's default (Jetstack's) when none is set.
 */
import type { HelmRelease } from "./kinds";
import type { CertManagerSettings } from "../settings";

export const CERT_MANAGER_RELEASE = "cert-manager";
export const CERT_MANAGER_CHART = "cert-manager";

export function buildCertManagerRelease(certManager: CertManagerSettings): HelmRelease {
  return {
    name: CERT_MANAGER_RELEASE,
    namespace: certManager.namespace,
    chart: CERT_MANAGER_CHART,
    version: certManager.version,
    ...(certManager.chartRepository !== undefined ? { repository: certManager.chartRepository } : {}),
    // The chart's current CRD switch (`installCRDs` is deprecated since v1.15).
    values: { crds: { enabled: true } },
  };
}
