/**
 * The pack's policies, separate from index.ts so that tests and `istio-mtls plan` can run them
 * in-process (constructing a PolicyPack starts the analyzer server).
 */
import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { authorizationNeedsStrict } from "./authorization-needs-strict";
import { connectivityIntent } from "./connectivity-intent";
import { destinationRuleTls } from "./destination-rule-tls";
import { mtlsExceptions } from "./mtls-exceptions";
import type { PackOptions } from "./options";
import { peerAuthenticationShapes } from "./peer-authentication-shapes";
import { productionMeshStrict } from "./production-mesh-strict";
import { productionSidecarExceptions } from "./production-sidecar-exceptions";
import { requestAuthentication } from "./request-authentication";

export const PACK_NAME = "istio-mtls";
/** Each policy's level can be changed per stack with `--policy-pack-config` (see policies/README). */
export const DEFAULT_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export function istioMtlsPolicies(options: PackOptions = {}): Policies {
  const now = options.now ?? (() => new Date());
  return [
    productionMeshStrict(),
    mtlsExceptions(now),
    productionSidecarExceptions(now),
    destinationRuleTls(),
    peerAuthenticationShapes(),
    authorizationNeedsStrict(),
    requestAuthentication(),
    connectivityIntent(),
  ];
}
