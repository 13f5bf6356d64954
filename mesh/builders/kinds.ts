/**
 * Plain types for the objects the builders emit beyond mesh/types.ts: core workload objects,
 * Istio networking ingress objects and cert-manager objects. Only the fields the builders set.
 */
import type { KubeObject, Labels } from "../types";

export interface Namespace extends KubeObject {
  apiVersion: "v1";
  kind: "Namespace";
}

export interface ServiceAccount extends KubeObject {
  apiVersion: "v1";
  kind: "ServiceAccount";
}

export interface ServicePortSpec {
  name: string;
  port: number;
  targetPort: number | string;
  protocol?: "TCP" | "UDP";
}

export interface Service extends KubeObject {
  apiVersion: "v1";
  kind: "Service";
  spec: { selector: Labels; ports: ServicePortSpec[] };
}

export interface Deployment extends KubeObject {
  apiVersion: "apps/v1";
  kind: "Deployment";
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: { metadata: { labels: Labels; annotations?: Record<string, string> }; spec: Record<string, unknown> };
  };
}

export interface ConfigMap extends KubeObject {
  apiVersion: "v1";
  kind: "ConfigMap";
  data: Record<string, string>;
}

export interface Gateway extends KubeObject {
  apiVersion: "networking.istio.io/v1";
  kind: "Gateway";
  spec: Record<string, unknown>;
}

export interface VirtualService extends KubeObject {
  apiVersion: "networking.istio.io/v1";
  kind: "VirtualService";
  spec: Record<string, unknown>;
}

export const CERT_MANAGER_API_VERSION = "cert-manager.io/v1";

export interface IssuerRef {
  name: string;
  kind: "Issuer" | "ClusterIssuer";
  group: "cert-manager.io";
}

export interface Issuer extends KubeObject {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: "Issuer" | "ClusterIssuer";
  spec: { selfSigned: Record<string, never> } | { ca: { secretName: string } };
}

export interface Certificate extends KubeObject {
  apiVersion: typeof CERT_MANAGER_API_VERSION;
  kind: "Certificate";
  spec: Record<string, unknown> & { secretName: string; issuerRef: IssuerRef };
}

/** A Helm release as Pulumi's `helm.v3.Release` (or the cert-manager component) installs it. */
export interface HelmRelease {
  /** Fixed: Helm's generated names would differ on every run. */
  name: string;
  namespace: string;
  chart: string;
  version: string;
  /** Chart repository URL; omitted: the installer's default. */
  repository?: string;
  values: Record<string, unknown>;
}
