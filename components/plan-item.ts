/**
 * A plan item as a Pulumi resource: typed classes for core kinds (better previews and await
 * logic), CustomResource for Istio and cert-manager kinds, Helm releases, and cert-manager through
 * its own component. Names and types come from mesh/plan.ts (resourceName, resourceType), which
 * `istio-mtls plan` lists without running this code.
 */
import * as k8s from "@pulumi/kubernetes";
import * as certmanager from "@pulumi/kubernetes-cert-manager";
import * as pulumi from "@pulumi/pulumi";
import { releaseArgs, resourceName, type PlanItem } from "../mesh/plan";
import type { KubeObject } from "../mesh/types";

function createKubeObject(o: KubeObject, name: string, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
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

export function createResource(item: PlanItem, opts: pulumi.CustomResourceOptions): pulumi.Resource {
  const name = resourceName(item);
  if ("object" in item) return createKubeObject(item.object, name, opts);
  const args = releaseArgs(item);
  return item.installer === "cert-manager"
    ? new certmanager.CertManager(name, args as certmanager.CertManagerArgs, opts)
    : new k8s.helm.v3.Release(name, args as unknown as k8s.helm.v3.ReleaseArgs, opts);
}
