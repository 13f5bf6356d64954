/**
 * Builder manifests as Pulumi resources: typed classes for core kinds (better previews and
 * await logic), CustomResource for Istio and cert-manager kinds. Resource names are
 * `<namespace>/<name>` (or `<name>` when cluster-scoped), unique per type as Pulumi requires.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubeObject } from "../mesh/types";

export function resourceName(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/**
 * Children do not inherit a component's `dependsOn`; a component passes it on to each child it
 * creates so that "after X" holds for everything inside it.
 */
export function childOptions(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  after: pulumi.Input<pulumi.Resource>[] = [],
): pulumi.CustomResourceOptions {
  const inherited = opts?.dependsOn === undefined ? [] : Array.isArray(opts.dependsOn) ? opts.dependsOn : [opts.dependsOn];
  const dependsOn = [...(inherited as pulumi.Input<pulumi.Resource>[]), ...after];
  return dependsOn.length > 0 ? { parent, dependsOn } : { parent };
}

export function createKubeObject(o: KubeObject, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
  const name = resourceName(o);
  const args = o as unknown;
  switch (`${o.apiVersion}/${o.kind}`) {
    case "v1/Namespace":
      return new k8s.core.v1.Namespace(name, args as k8s.core.v1.NamespaceArgs, opts);
    case "v1/ServiceAccount":
      return new k8s.core.v1.ServiceAccount(name, args as k8s.core.v1.ServiceAccountArgs, opts);
    case "v1/Service":
      return new k8s.core.v1.Service(name, args as k8s.core.v1.ServiceArgs, opts);
    case "v1/ConfigMap":
      return new k8s.core.v1.ConfigMap(name, args as k8s.core.v1.ConfigMapArgs, opts);
    case "apps/v1/Deployment":
      return new k8s.apps.v1.Deployment(name, args as k8s.apps.v1.DeploymentArgs, opts);
    default:
      if (o.apiVersion === "v1" || o.apiVersion.startsWith("apps/")) {
        throw new Error(`${o.apiVersion} ${o.kind} ${name}: no typed resource mapped for this core kind`);
      }
      return new k8s.apiextensions.CustomResource(name, args as k8s.apiextensions.CustomResourceArgs, opts);
  }
}
