/** PeerAuthentication at mesh, namespace and workload level (server-side mTLS modes). */
import * as pulumi from "@pulumi/pulumi";
import { buildPeerAuthentications } from "../mesh/builders";
import type { PeerAuthenticationSettings } from "../mesh/settings";
import { childOptions, createKubeObject } from "./kube-object";

export interface MutualTlsPoliciesArgs {
  /** Mesh, namespace and workload policies; the builder validates them before anything is registered. */
  policies: PeerAuthenticationSettings;
  /** The mesh root namespace (MeshConfig `rootNamespace`): where the mesh-level policy lives. */
  rootNamespace: string;
}

/**
 * Created after istiod (pass its release in `dependsOn`): istiod's validating webhook then checks
 * each object, and on `pulumi destroy` the policies go before Istio, as dependents are deleted first.
 */
export class MutualTlsPolicies extends pulumi.ComponentResource {
  declare public readonly resources: pulumi.CustomResource[];

  constructor(name: string, args: MutualTlsPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = buildPeerAuthentications(args.policies, args.rootNamespace);
    super("istio-mtls:mtls:MutualTlsPolicies", name, {}, opts);
    this.resources = manifests.map((m) => createKubeObject(m, childOptions(this, opts)));
    this.registerOutputs({});
  }
}
