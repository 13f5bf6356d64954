/**
 * Istio from its Helm charts: base (CRDs), istiod (with the stack's MeshConfig), and optionally
 * the ingress gateway. With `install: false` nothing of Istio is registered (a managed or shared
 * Istio), but the component still tells dependents the namespace, version and what to wait for.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_GATEWAY_SERVICE_TYPE,
  gatewayChartValues,
  INGRESS_GATEWAY_RELEASE,
  meshConfigValues,
  validateGatewayServiceType,
  type GatewayServiceType,
} from "../mesh/builders";
import type { IstioSettings } from "../mesh/settings";
import { childOptions } from "./kube-object";

/** The stack's `istio` settings (see mesh/intent.ts), plus what istiod waits for. */
export interface IstioArgs extends IstioSettings {
  /** What istiod waits for before it starts: `cacerts` must exist, or istiod self-signs its own CA. */
  caReady?: pulumi.Resource[];
  /** The ingress gateway's Service type (`istio-mtls:ingress.serviceType`); default LoadBalancer. */
  gatewayServiceType?: GatewayServiceType;
}

const VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const REVISION = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateIstioArgs(args: IstioArgs): void {
  if (!VERSION.test(args.version)) {
    throw new Error(`istio-mtls:istio.version: ${JSON.stringify(args.version)}; allowed: a pinned chart version such as "1.28.1"`);
  }
  if (args.revision !== undefined && !REVISION.test(args.revision)) {
    throw new Error(`istio-mtls:istio.revision: ${JSON.stringify(args.revision)}; allowed: an RFC 1123 label such as "1-28-1"`);
  }
  if (!/^(https?|oci):\/\//.test(args.chartRepository)) {
    throw new Error(`istio-mtls:istio.chartRepository: ${JSON.stringify(args.chartRepository)}; allowed: an https:// or oci:// chart repository`);
  }
  if (args.gatewayServiceType !== undefined) validateGatewayServiceType(args.gatewayServiceType);
}

export class Istio extends pulumi.ComponentResource {
  declare public readonly namespace: string;
  declare public readonly version: string;
  declare public readonly revision: string | undefined;
  declare public readonly base: k8s.helm.v3.Release | undefined;
  declare public readonly istiod: k8s.helm.v3.Release | undefined;
  declare public readonly ingressGateway: k8s.helm.v3.Release | undefined;
  /**
   * What mesh objects wait for: istiod's release, which waits for its pods, so the validating
   * and injection webhooks serve. Empty when Istio is not installed here.
   */
  declare public readonly ready: pulumi.Resource[];

  constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
    validateIstioArgs(args);
    super("istio-mtls:istio:Istio", name, {}, opts);
    this.namespace = args.namespace;
    this.version = args.version;
    this.revision = args.revision;
    this.base = undefined;
    this.istiod = undefined;
    this.ingressGateway = undefined;
    this.ready = [];
    if (!args.install) {
      this.registerOutputs({ namespace: this.namespace, version: this.version });
      return;
    }
    const repositoryOpts = { repo: args.chartRepository };
    const suffix = args.revision ? `-${args.revision}` : "";
    // Release names are fixed: Helm's generated names would differ on every run.
    this.base = new k8s.helm.v3.Release(
      "istio-base",
      {
        name: "istio-base",
        chart: "base",
        version: args.version,
        namespace: args.namespace,
        repositoryOpts,
        values: args.revision ? { defaultRevision: args.revision } : {},
      },
      childOptions(this, opts),
    );
    this.istiod = new k8s.helm.v3.Release(
      `istiod${suffix}`,
      {
        name: `istiod${suffix}`,
        chart: "istiod",
        version: args.version,
        namespace: args.namespace,
        repositoryOpts,
        values: {
          global: { istioNamespace: args.namespace },
          meshConfig: meshConfigValues(args.mesh),
          ...(args.revision ? { revision: args.revision } : {}),
        },
      },
      childOptions(this, opts, [this.base, ...(args.caReady ?? [])]),
    );
    this.ready = [this.istiod];
    if (args.ingressGateway) {
      this.ingressGateway = new k8s.helm.v3.Release(
        INGRESS_GATEWAY_RELEASE,
        {
          name: INGRESS_GATEWAY_RELEASE,
          chart: "gateway",
          version: args.version,
          namespace: args.namespace,
          repositoryOpts,
          values: gatewayChartValues({ revision: args.revision, serviceType: args.gatewayServiceType ?? DEFAULT_GATEWAY_SERVICE_TYPE }),
        },
        childOptions(this, opts, [this.istiod]),
      );
    }
    this.registerOutputs({ namespace: this.namespace, version: this.version });
  }
}
