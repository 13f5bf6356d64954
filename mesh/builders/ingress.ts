/**
 * Ingress to httpbin's `/headers` through the Istio ingress gateway: Gateway + VirtualService,
 * and with TLS a serving Certificate from the mesh root ClusterIssuer. The gateway reads
 * `credentialName` Secrets from its own namespace, so the Certificate goes there.
 */
import { objectRef } from "../model/errors";
import { isServiceHost } from "../names";
import { GATEWAY_SERVICE_TYPES, type GatewayServiceType, type IngressSettings } from "../settings";
import { HTTPBIN_SERVICE_PORT } from "./httpbin";
import type { Certificate, Gateway, VirtualService } from "./kinds";
import { CERT_MANAGER_API_VERSION } from "./kinds";
import { ROOT_CA_NAME } from "./mesh-ca";
import { checkDnsLabel } from "./meta";

/** Helm release name of the gateway chart; the chart labels its pods `istio: ingressgateway`. */
export const INGRESS_GATEWAY_RELEASE = "istio-ingressgateway";
export const INGRESS_GATEWAY_SELECTOR = { istio: "ingressgateway" } as const;
export const INGRESS_GATEWAY_NAME = "httpbin-gateway";
export const INGRESS_TLS_SECRET = "httpbin-ingress-tls";
export const INGRESS_PATH = "/headers";


export function validateGatewayServiceType(serviceType: unknown): asserts serviceType is GatewayServiceType {
  if (!(GATEWAY_SERVICE_TYPES as readonly unknown[]).includes(serviceType)) {
    throw new Error(
      `Helm release ${INGRESS_GATEWAY_RELEASE}: values.service.type: ${JSON.stringify(serviceType)} is not a gateway Service type; allowed: ${GATEWAY_SERVICE_TYPES.join(", ")}`,
    );
  }
}

/** Values of Istio's `gateway` chart: the revision whose istiod configures it, and its Service type. */
export function gatewayChartValues(input: { revision?: string; serviceType: GatewayServiceType }): Record<string, unknown> {
  validateGatewayServiceType(input.serviceType);
  return { ...(input.revision ? { revision: input.revision } : {}), service: { type: input.serviceType } };
}

export interface IngressInput extends Pick<IngressSettings, "tls" | "host"> {
  /** Namespace of httpbin (and of the Gateway and VirtualService). */
  namespace: string;
  /** Namespace of the ingress gateway pods, where the TLS Secret must be. */
  gatewayNamespace: string;
}

export function validateIngress(input: IngressInput): void {
  checkDnsLabel("ingress namespace", input.namespace);
  checkDnsLabel("gateway namespace", input.gatewayNamespace);
  const at = `${objectRef("Gateway", input.namespace, INGRESS_GATEWAY_NAME)}: spec.servers[0].hosts[0]`;
  if (!isServiceHost(input.host)) {
    throw new Error(`${at}: ${JSON.stringify(input.host)} is not a host; allowed: a DNS name or "*"`);
  }
  if (input.tls && input.host.includes("*")) {
    throw new Error(`${at}: ${JSON.stringify(input.host)} on an HTTPS server; allowed: a DNS name without "*", which the serving certificate names`);
  }
}

export interface IngressObjects {
  gateway: Gateway;
  virtualService: VirtualService;
  certificate?: Certificate;
}

export function buildIngress(input: IngressInput): IngressObjects {
  validateIngress(input);
  const server = input.tls
    ? {
        hosts: [input.host],
        port: { name: "https", number: 443, protocol: "HTTPS" },
        tls: { credentialName: INGRESS_TLS_SECRET, mode: "SIMPLE" },
      }
    : { hosts: [input.host], port: { name: "http", number: 80, protocol: "HTTP" } };
  const gateway: Gateway = {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: INGRESS_GATEWAY_NAME, namespace: input.namespace },
    spec: { selector: { ...INGRESS_GATEWAY_SELECTOR }, servers: [server] },
  };
  const virtualService: VirtualService = {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: "httpbin", namespace: input.namespace },
    spec: {
      gateways: [INGRESS_GATEWAY_NAME],
      hosts: [input.host],
      http: [
        {
          match: [{ uri: { exact: INGRESS_PATH } }],
          route: [{ destination: { host: `httpbin.${input.namespace}.svc.cluster.local`, port: { number: HTTPBIN_SERVICE_PORT } } }],
        },
      ],
    },
  };
  if (!input.tls) return { gateway, virtualService };
  const certificate: Certificate = {
    apiVersion: CERT_MANAGER_API_VERSION,
    kind: "Certificate",
    metadata: { name: "httpbin-ingress", namespace: input.gatewayNamespace },
    spec: {
      dnsNames: [input.host],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: ROOT_CA_NAME },
      secretName: INGRESS_TLS_SECRET,
      usages: ["digital signature", "key encipherment", "server auth"],
    },
  };
  return { gateway, virtualService, certificate };
}
