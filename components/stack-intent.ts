/** The stack's declared posture and connectivity intent, as ConfigMap `istio-mtls-intent` (see mesh/builders/intent.ts). */
import * as pulumi from "@pulumi/pulumi";
import { buildIntentConfigMap, type IntentEntry } from "../mesh/builders";
import type { MeshConfig } from "../mesh/types";
import { childOptions, createKubeObject } from "./kube-object";

export interface StackIntentArgs {
  /** The mesh settings: the ConfigMap lives in their root namespace and records them for the policy pack. */
  mesh: MeshConfig;
  /** A production stack: the policy pack requires a mesh-wide STRICT PeerAuthentication. */
  production: boolean;
  /** Reviewed expectations: these clients must reach these services (over mTLS), or be refused. */
  intent: readonly IntentEntry[];
}

export class StackIntent extends pulumi.ComponentResource {
  constructor(name: string, args: StackIntentArgs, opts?: pulumi.ComponentResourceOptions) {
    const manifest = buildIntentConfigMap(args.mesh, args.production, args.intent);
    super("istio-mtls:intent:StackIntent", name, {}, opts);
    createKubeObject(manifest, childOptions(this, opts));
    this.registerOutputs({});
  }
}
