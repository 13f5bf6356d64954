/**
 * The object kinds the model reads. Anything else in the input is ignored (a cluster export holds
 * many kinds that do not change request outcomes).
 */
export const MODEL_KINDS = [
  "Namespace",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "ReplicationController",
  "Job",
  "CronJob",
  "Pod",
  "Service",
  "ServiceAccount",
  "ConfigMap",
  "PeerAuthentication",
  "RequestAuthentication",
  "AuthorizationPolicy",
  "DestinationRule",
  "MutatingWebhookConfiguration",
] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** apiVersions accepted per kind; an object of a known kind with another apiVersion is not ours. */
export const MODEL_API_VERSIONS: Readonly<Record<ModelKind, readonly string[]>> = {
  Namespace: ["v1"],
  Deployment: ["apps/v1"],
  StatefulSet: ["apps/v1"],
  DaemonSet: ["apps/v1"],
  ReplicaSet: ["apps/v1"],
  ReplicationController: ["v1"],
  Job: ["batch/v1"],
  CronJob: ["batch/v1", "batch/v1beta1"],
  Pod: ["v1"],
  Service: ["v1"],
  ServiceAccount: ["v1"],
  ConfigMap: ["v1"],
  PeerAuthentication: ["security.istio.io/v1", "security.istio.io/v1beta1"],
  RequestAuthentication: ["security.istio.io/v1", "security.istio.io/v1beta1"],
  AuthorizationPolicy: ["security.istio.io/v1", "security.istio.io/v1beta1"],
  DestinationRule: ["networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"],
  MutatingWebhookConfiguration: ["admissionregistration.k8s.io/v1"],
};

export function isModelKind(kind: string, apiVersion: string): kind is ModelKind {
  const versions = (MODEL_API_VERSIONS as Record<string, readonly string[] | undefined>)[kind];
  return versions !== undefined && versions.includes(apiVersion);
}
