/** The demo's httpbin (server) and sleep (client) in one namespace. */
import * as pulumi from "@pulumi/pulumi";
import { buildDemoWorkloads } from "../mesh/builders";
import { childOptions, createKubeObject } from "./kube-object";

export interface DemoWorkloadsArgs {
  /** The namespace to deploy into; it must exist first (pass it, and istiod, in `dependsOn`). */
  namespace: string;
}

export class DemoWorkloads extends pulumi.ComponentResource {
  /** Every child, in apply order: ServiceAccounts, Service, Deployments. */
  declare public readonly resources: pulumi.CustomResource[];

  /**
   * `opts.dependsOn` should hold istiod: its injection webhook must serve before the pods are
   * created, or pods in an injected namespace start without a sidecar.
   */
  constructor(name: string, args: DemoWorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifests = buildDemoWorkloads(args.namespace);
    super("istio-mtls:demo:DemoWorkloads", name, {}, opts);
    this.resources = manifests.map((m) => createKubeObject(m, childOptions(this, opts)));
    this.registerOutputs({});
  }
}
