/**
 * The stack's composition, in dependency order: istiod's namespace → mesh CA (`cacerts`) →
 * Istio → namespaces → demo workloads and policies (after istiod's webhooks serve) → ingress.
 * A function rather than top-level code so tests can build the program more than once.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import { ClientTlsPolicies } from "./client-tls";
import { DemoWorkloads } from "./demo-workloads";
import { EndUserAuth } from "./end-user-auth";
import { PeerAuthorization } from "./authorization";
import { HttpbinIngress } from "./ingress";
import { Istio } from "./istio";
import { MeshCa } from "./mesh-ca";
import { MutualTlsPolicies } from "./mtls-policies";
import { MeshNamespace } from "./namespace";
import { StackIntent } from "./stack-intent";

export interface DeployedStack {
  istio: Istio;
  ca: MeshCa;
  istioNamespace: MeshNamespace | undefined;
  namespaces: MeshNamespace[];
  demo: DemoWorkloads[];
  mtls: MutualTlsPolicies;
  clientTls: ClientTlsPolicies;
  endUserAuth: EndUserAuth;
  authorization: PeerAuthorization;
  ingress: HttpbinIngress | undefined;
  intent: StackIntent;
}

/** The namespace whose httpbin the ingress exposes: `foo` when the stack has it, else the first injected one. */
export function ingressNamespace(config: Pick<StackConfig, "namespaces" | "demo">): string {
  if (!config.demo.enabled) {
    throw new Error("istio-mtls:ingress.enabled: true exposes the demo's httpbin, but istio-mtls:demo.enabled is false; allowed: enable the demo, or ingress.enabled: false");
  }
  const ns = config.namespaces.find((n) => n.name === "foo" && n.injection) ?? config.namespaces.find((n) => n.injection);
  if (!ns) {
    throw new Error("istio-mtls:ingress.enabled: true needs a namespace with injection: true in istio-mtls:namespaces for the exposed httpbin; none has it");
  }
  return ns.name;
}

export function deployStack(config: StackConfig): DeployedStack {
  const ingressNs = config.ingress.enabled ? ingressNamespace(config) : undefined;

  // The stack owns istiod's namespace only when it installs Istio; cacerts must be written into it first.
  const istioNamespace = config.istio.install ? new MeshNamespace(config.istio.namespace, { name: config.istio.namespace }) : undefined;
  const afterIstioNamespace = istioNamespace ? [istioNamespace] : [];

  const ca = new MeshCa(
    "mesh-ca",
    { certManager: config.certManager, ca: config.ca, istioNamespace: config.istio.namespace },
    { dependsOn: afterIstioNamespace },
  );

  const istio = new Istio(
    "istio",
    { ...config.istio, caReady: ca.caReady, gatewayServiceType: config.ingress.serviceType },
    { dependsOn: afterIstioNamespace },
  );

  const namespaces = config.namespaces.map(
    (ns) => new MeshNamespace(ns.name, { name: ns.name, injection: ns.injection, revision: config.istio.revision, ...(ns.exception ? { exception: ns.exception } : {}) }),
  );
  const byName = new Map(namespaces.map((n) => [n.namespaceName, n] as const));

  // Pods start after istiod: its injection webhook must serve, or they come up without a sidecar.
  const demo = config.demo.enabled
    ? config.namespaces.map((ns) => new DemoWorkloads(`demo-${ns.name}`, { namespace: ns.name }, { dependsOn: [byName.get(ns.name)!, ...istio.ready] }))
    : [];

  // Policies after istiod (its validating webhook checks them) and their namespaces; on destroy
  // they are deleted before Istio. The mesh-level policy lives in the root namespace.
  const policyDeps: pulumi.Resource[] = [...istio.ready, ...afterIstioNamespace, ...namespaces];
  const mtls = new MutualTlsPolicies("mtls", { policies: config.mtls, rootNamespace: config.istio.mesh.rootNamespace }, { dependsOn: policyDeps });
  const clientTls = new ClientTlsPolicies("client-tls", { destinationRules: config.destinationRules }, { dependsOn: policyDeps });
  const endUserAuth = new EndUserAuth("end-user-auth", { policies: config.endUserAuth }, { dependsOn: policyDeps });
  const authorization = new PeerAuthorization("authorization", { policies: config.authorization }, { dependsOn: policyDeps });

  const intent = new StackIntent(
    "intent",
    { mesh: config.istio.mesh, production: config.production, intent: config.intent },
    { dependsOn: afterIstioNamespace },
  );

  let ingress: HttpbinIngress | undefined;
  if (ingressNs !== undefined) {
    const served = demo[config.namespaces.findIndex((n) => n.name === ingressNs)];
    ingress = new HttpbinIngress(
      "ingress",
      {
        namespace: ingressNs,
        gatewayNamespace: config.istio.namespace,
        host: config.ingress.host,
        tls: config.ingress.tls,
        certificateDependsOn: ca.issuerReady,
      },
      { dependsOn: [...istio.ready, ...(istio.ingressGateway ? [istio.ingressGateway] : []), ...(served ? [served] : [])] },
    );
  }

  return { istio, ca, istioNamespace, namespaces, demo, mtls, clientTls, endUserAuth, authorization, ingress, intent };
}
