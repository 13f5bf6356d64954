/**
 * Istio from its Helm charts: `base` (CRDs and the default revision's webhooks) and `istiod` with
 * the stack's MeshConfig. Release names are fixed: Helm's generated names would differ on every run.
 */
import type { HelmRelease } from "./kinds";
import type { IstioSettings } from "../settings";
import { meshConfigValues } from "./mesh-config";
import { DEFAULT_REVISION } from "../model/injection-webhooks";

/**
 * The revision the stack installs (or, with istio.install false, expects installed): its pods meet
 * that revision's injection webhooks only (the chart names the default revision "default").
 */
export function installedRevision(istio: Pick<IstioSettings, "revision">): string {
  return istio.revision ?? DEFAULT_REVISION;
}

export function istiodReleaseName(revision: string | undefined): string {
  return revision ? `istiod-${revision}` : "istiod";
}

/** base, then istiod (its values reference base's CRDs). */
export function buildIstioReleases(istio: IstioSettings): { base: HelmRelease; istiod: HelmRelease } {
  const common = { namespace: istio.namespace, version: istio.version, repository: istio.chartRepository };
  return {
    base: { ...common, name: "istio-base", chart: "base", values: istio.revision ? { defaultRevision: istio.revision } : {} },
    istiod: {
      ...common,
      name: istiodReleaseName(istio.revision),
      chart: "istiod",
      values: {
        global: { istioNamespace: istio.namespace },
        meshConfig: meshConfigValues(istio.mesh),
        ...(istio.revision ? { revision: istio.revision } : {}),
      },
    },
  };
}
