/** AuthorizationPolicy ALLOW by peer principal or namespace (needs mTLS to match). */
import * as pulumi from "@pulumi/pulumi";
import { buildAuthorizationPolicies } from "../mesh/builders";
import type { AuthorizationPolicySettings } from "../mesh/settings";
import { childOptions, createKubeObject } from "./kube-object";

export interface PeerAuthorizationArgs {
  /** Validated here before anything is registered. */
  policies: AuthorizationPolicySettings[];
}

export class PeerAuthorization extends pulumi.ComponentResource {
  declare public readonly resources: pulumi.CustomResource[];

  constructor(name: string, args: PeerAuthorizationArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = buildAuthorizationPolicies(args.policies);
    super("istio-mtls:authorization:PeerAuthorization", name, {}, opts);
    this.resources = manifests.map((m) => createKubeObject(m, childOptions(this, opts)));
    this.registerOutputs({});
  }
}
