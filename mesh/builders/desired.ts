/**
 * Every object of the stack that the model reads, built by the same functions the components
 * deploy with, so a prediction describes exactly what `pulumi up` creates.
 */
import type { DestinationRuleSettings, EndUserAuthSettings, PeerAuthenticationSettings, AuthorizationPolicySettings } from "../settings";
import type { KubeObject, MeshConfig } from "../types";
import { buildAuthorizationPolicies } from "./authorization";
import { buildDestinationRules } from "./destination-rule";
import { buildEndUserAuth } from "./end-user-auth";
import { buildHttpbin } from "./httpbin";
import type { Deployment, Service, ServiceAccount } from "./kinds";
import { buildMeshConfigMap } from "./mesh-config";
import { buildNamespace } from "./namespace";
import { buildPeerAuthentications } from "./peer-authentication";
import { buildSleep } from "./sleep";

/** The part of the stack config the builders read; config.ts's StackConfig satisfies it. */
export interface MeshStackInput {
  istio: { revision?: string; mesh: MeshConfig };
  namespaces: readonly { name: string; injection: boolean }[];
  demo: { enabled: boolean };
  mtls: PeerAuthenticationSettings;
  destinationRules: readonly DestinationRuleSettings[];
  endUserAuth: readonly EndUserAuthSettings[];
  authorization: readonly AuthorizationPolicySettings[];
}

/** httpbin and sleep of one namespace, in apply order (accounts, Service, Deployments). */
export function buildDemoWorkloads(namespace: string): (ServiceAccount | Service | Deployment)[] {
  const httpbin = buildHttpbin(namespace);
  const sleep = buildSleep(namespace);
  return [httpbin.serviceAccount, httpbin.service, httpbin.deployment, sleep.serviceAccount, sleep.deployment];
}

export function desiredMeshObjects(input: MeshStackInput): KubeObject[] {
  const root = input.istio.mesh.rootNamespace;
  const seen = new Set<string>();
  for (const [i, ns] of input.namespaces.entries()) {
    if (seen.has(ns.name)) {
      throw new Error(`istio-mtls:namespaces[${i}].name: ${JSON.stringify(ns.name)} is listed twice; allowed: each namespace once`);
    }
    seen.add(ns.name);
  }
  return [
    buildMeshConfigMap(input.istio.mesh),
    ...input.namespaces.map((ns) => buildNamespace({ name: ns.name, injection: ns.injection, revision: input.istio.revision })),
    ...(input.demo.enabled ? input.namespaces.flatMap((ns) => buildDemoWorkloads(ns.name)) : []),
    ...buildPeerAuthentications(input.mtls, root),
    ...buildDestinationRules(input.destinationRules),
    ...buildEndUserAuth(input.endUserAuth),
    ...buildAuthorizationPolicies(input.authorization),
  ];
}

/**
 * The client workloads whose cells the stack predicts and probes: the demo's sleep pods (they
 * carry curl; httpbin's image does not), as in the seed documents' sleep.X → httpbin.Y matrix.
 */
export function probeClients(input: Pick<MeshStackInput, "namespaces" | "demo">): string[] {
  return input.demo.enabled ? input.namespaces.map((ns) => `sleep.${ns.name}`) : [];
}
