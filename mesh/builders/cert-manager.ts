/**
 * cert-manager from Jetstack's chart, installed by @pulumi/kubernetes-cert-manager's component
 * (its default chart repository) with the chart's own CRDs.
 */
import type { HelmRelease } from "./kinds";
import type { CertManagerSettings } from "../settings";

export const CERT_MANAGER_RELEASE = "cert-manager";

export function buildCertManagerRelease(certManager: CertManagerSettings): HelmRelease {
  return {
    name: CERT_MANAGER_RELEASE,
    namespace: certManager.namespace,
    chart: "cert-manager",
    version: certManager.version,
    // The chart's current CRD switch (`installCRDs` is deprecated since v1.15).
    values: { crds: { enabled: true } },
  };
}
