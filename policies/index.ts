/**
 * The CrossGuard pack: `pulumi preview --policy-pack policies`. Levels per policy come from
 * `--policy-pack-config <file>` ({"<policy>": "advisory" | "mandatory" | "disabled"}).
 */
import { PolicyPack } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT_LEVEL, PACK_NAME, istioMtlsPolicies } from "./pack";

new PolicyPack(PACK_NAME, {
  description: "mTLS review for the istio-mtls stack, with outcomes from its Istio model.",
  enforcementLevel: DEFAULT_ENFORCEMENT_LEVEL,
  policies: istioMtlsPolicies(),
});

// For checking the published bundle (dist/index.js) without the engine: the same policies, run in-process.
export { istioMtlsPolicies } from "./pack";
export { runPolicies } from "./run";
