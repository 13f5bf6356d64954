/**
 * The probe clients (mesh/probe-clients.ts names them): a curl Deployment and its ServiceAccount
 * in a namespace, idling so the probe can exec its script in the `probe` container, and the
 * namespace of the plaintext client, where nothing injects a sidecar.
 */
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_CONTAINER, PROBE_CLIENT_IMAGE, PROBE_CLIENT_LABELS, PROBE_CLIENT_NAME } from "../probe-clients";
import { RESTRICTED_CONTAINER_SECURITY } from "./httpbin";
import type { Deployment, Namespace, ServiceAccount } from "./kinds";
import { checkDnsLabel, labels } from "./meta";
import { buildNamespace } from "./namespace";

export function buildProbeClient(namespace: string): { serviceAccount: ServiceAccount; deployment: Deployment } {
  checkDnsLabel("namespace name", namespace);
  const serviceAccount: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: PROBE_CLIENT_NAME, namespace } };
  const deployment: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: PROBE_CLIENT_NAME, namespace, labels: labels(PROBE_CLIENT_LABELS) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(PROBE_CLIENT_LABELS) },
      template: {
        metadata: { labels: labels(PROBE_CLIENT_LABELS) },
        spec: {
          // Its own account: the identity an AuthorizationPolicy names (…/ns/<namespace>/sa/istio-mtls-probe).
          serviceAccountName: PROBE_CLIENT_NAME,
          // `sleep` ignores SIGTERM as PID 1: no grace period is worth waiting for on destroy.
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: PROBE_CLIENT_CONTAINER,
              image: PROBE_CLIENT_IMAGE,
              command: ["/bin/sleep", "infinity"],
              resources: { limits: { cpu: "100m", memory: "32Mi" }, requests: { cpu: "5m", memory: "8Mi" } },
              // Read-only root and no volume: the probe script (probe/script.ts) writes no file.
              securityContext: RESTRICTED_CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
  return { serviceAccount, deployment };
}

/** The plaintext client's namespace: `istio-injection: disabled`, so its client has no sidecar whatever the mesh injects. */
export function buildPlaintextProbeNamespace(): Namespace {
  return buildNamespace({ name: PLAINTEXT_PROBE_NAMESPACE, injection: false });
}
