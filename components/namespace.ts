/** A namespace owned by the stack, with the sidecar-injection label Istio's webhook selects on. */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildNamespace } from "../mesh/builders";
import type { MtlsException } from "../mesh/settings";
import { childOptions, createKubeObject } from "./kube-object";

export interface MeshNamespaceArgs {
  /** The namespace's name (RFC 1123 label). */
  name: string;
  /** true: `istio-injection: enabled` (or `istio.io/rev` with a revision); false: `disabled`; omitted: no label. */
  injection?: boolean;
  /** Istio revision that injects sidecars; only with `injection: true`. */
  revision?: string;
  /** Why workloads here may go without sidecars, until when: annotations the policy pack checks in production. */
  exception?: MtlsException;
}

export class MeshNamespace extends pulumi.ComponentResource {
  declare public readonly namespace: k8s.core.v1.Namespace;
  declare public readonly namespaceName: string;

  constructor(name: string, args: MeshNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifest = buildNamespace(args);
    super("istio-mtls:namespace:MeshNamespace", name, {}, opts);
    this.namespaceName = manifest.metadata.name;
    this.namespace = createKubeObject(manifest, childOptions(this, opts)) as k8s.core.v1.Namespace;
    this.registerOutputs({ namespaceName: this.namespaceName });
  }
}
