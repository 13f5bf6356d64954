/** httpbin's `/headers` through the Istio ingress gateway, optionally HTTPS-only. */
import * as pulumi from "@pulumi/pulumi";
import { buildIngress, type IngressInput } from "../mesh/builders";
import { childOptions, createKubeObject } from "./kube-object";

export interface HttpbinIngressArgs extends IngressInput {
  /** Resources the TLS Certificate needs: cert-manager and its CA issuer (MeshCa.issuerReady). */
  certificateDependsOn?: pulumi.Resource[];
}

export class HttpbinIngress extends pulumi.ComponentResource {
  declare public readonly resources: pulumi.CustomResource[];
  /** The host clients use; with TLS, the serving certificate's DNS name. */
  declare public readonly host: string;

  constructor(name: string, args: HttpbinIngressArgs, opts?: pulumi.ComponentResourceOptions) {
    const objects = buildIngress(args);
    super("istio-mtls:ingress:HttpbinIngress", name, {}, opts);
    this.host = args.host;
    const resources: pulumi.CustomResource[] = [];
    if (objects.certificate) {
      // The gateway serves HTTPS only once its credential Secret exists.
      const cert = objects.certificate;
      cert.metadata = { ...cert.metadata, annotations: { "pulumi.com/waitFor": "condition=Ready" } };
      resources.push(createKubeObject(cert, childOptions(this, opts, args.certificateDependsOn ?? [])));
    }
    const gateway = createKubeObject(objects.gateway, childOptions(this, opts, resources));
    resources.push(gateway, createKubeObject(objects.virtualService, childOptions(this, opts, [gateway])));
    this.resources = resources;
    this.registerOutputs({ host: this.host });
  }
}
