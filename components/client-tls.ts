/** DestinationRules that override the TLS a sidecar client originates (auto mTLS does the rest). */
import * as pulumi from "@pulumi/pulumi";
import { buildDestinationRules } from "../mesh/builders";
import type { DestinationRuleSettings } from "../mesh/settings";
import { childOptions, createKubeObject } from "./kube-object";

export interface ClientTlsPoliciesArgs {
  /** One DestinationRule each; the builder validates them before anything is registered. */
  destinationRules: DestinationRuleSettings[];
}

export class ClientTlsPolicies extends pulumi.ComponentResource {
  declare public readonly resources: pulumi.CustomResource[];

  constructor(name: string, args: ClientTlsPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = buildDestinationRules(args.destinationRules);
    super("istio-mtls:client-tls:ClientTlsPolicies", name, {}, opts);
    this.resources = manifests.map((m) => createKubeObject(m, childOptions(this, opts)));
    this.registerOutputs({});
  }
}
