/**
 * A production stack (ConfigMap istio-mtls-intent, data.production "true", or the pack config's
 * `production: true`, see production.ts) must have a mesh-wide
 * STRICT PeerAuthentication: a PeerAuthentication in the root namespace without a selector, and
 * the one Istio picks (the oldest) must say STRICT. The violation lists the requests the model
 * predicts to succeed in plaintext, which is what STRICT would refuse.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { analyzeStack, listCells, modelErrorMessage, succeeded } from "./analysis";
import { PRODUCTION_CONFIG_PROPERTY, productionOf, type ProductionConfig } from "./production";

export const PRODUCTION_MESH_STRICT = "production-mesh-strict";

export function productionMeshStrict(): StackValidationPolicy {
  return {
    name: PRODUCTION_MESH_STRICT,
    description: "A production stack has a mesh-wide STRICT PeerAuthentication in the root namespace.",
    severity: "critical",
    configSchema: { properties: { ...PRODUCTION_CONFIG_PROPERTY } },
    validateStack: (args, reportViolation) => {
      const a = analyzeStack(args.resources);
      const p = productionOf(a, args.getConfig<ProductionConfig>());
      if (p.production === undefined) return reportViolation(p.error);
      if (!p.production) return args.notApplicable(p.notApplicable);
      if (!a.model || !a.prediction) {
        reportViolation(modelErrorMessage(a), p.urn);
        return;
      }
      const mesh = a.model.peerAuthn.mesh;
      if (mesh && mesh.mode === "STRICT") return;
      const root = a.mesh.rootNamespace;
      const found = mesh
        ? `the mesh-level policy is ${mesh.ref} with mode ${mesh.mode}`
        : `there is no PeerAuthentication without a selector in root namespace ${root}`;
      // Only servers with a sidecar enforce PeerAuthentication: those are the requests STRICT would refuse.
      const enforcing = new Set(a.model.servicePorts.filter((sp) => sp.endpoints.some((e) => e.workload.sidecar)).map((sp) => sp.id));
      const plaintext = a.prediction.probes.filter((p) => succeeded(p) && !p.mtls && enforcing.has(p.to));
      const evidence = plaintext.length
        ? ` ${plaintext.length} request(s) to sidecar servers are predicted to succeed in plaintext: ${listCells(plaintext)}.`
        : "";
      const urn = mesh ? a.urnOf("PeerAuthentication", mesh.namespace, mesh.name) : p.urn;
      reportViolation(
        `${p.by}, so the mesh needs PeerAuthentication ${root}/default ` +
          `with spec.mtls.mode STRICT and no selector; ${found}.${evidence}`,
        urn,
      );
    },
  };
}
