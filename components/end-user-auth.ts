/** End-user JWT: RequestAuthentication, plus the AuthorizationPolicy that requires a token when asked. */
import * as pulumi from "@pulumi/pulumi";
import { buildEndUserAuth } from "../mesh/builders";
import type { EndUserAuthSettings } from "../mesh/settings";
import { childOptions, createKubeObject } from "./kube-object";

export interface EndUserAuthArgs {
  /** Validated here (https JWKS, non-empty selector) before anything is registered. */
  policies: EndUserAuthSettings[];
}

export class EndUserAuth extends pulumi.ComponentResource {
  declare public readonly resources: pulumi.CustomResource[];

  constructor(name: string, args: EndUserAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = buildEndUserAuth(args.policies);
    super("istio-mtls:end-user-auth:EndUserAuth", name, {}, opts);
    this.resources = manifests.map((m) => createKubeObject(m, childOptions(this, opts)));
    this.registerOutputs({});
  }
}
