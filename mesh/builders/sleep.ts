/** The demo client: a curl image that idles so probes can `kubectl exec` curl from it. */
import { RESTRICTED_CONTAINER_SECURITY } from "./httpbin";
import type { Deployment, ServiceAccount } from "./kinds";
import { checkDnsLabel, labels } from "./meta";

/** The image Istio's own samples/curl/curl.yaml and samples/sleep/sleep.yaml run (same Istio commit as httpbin's). */
export const SLEEP_IMAGE = "docker.io/curlimages/curl:8.16.0";
const NAME = "sleep";

export function buildSleep(namespace: string): { serviceAccount: ServiceAccount; deployment: Deployment } {
  checkDnsLabel("namespace name", namespace);
  const serviceAccount: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NAME, namespace } };
  const deployment: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: NAME, namespace, labels: labels({ app: NAME }) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels({ app: NAME }) },
      template: {
        metadata: { labels: labels({ app: NAME }) },
        spec: {
          serviceAccountName: NAME,
          // A quick stop: `sleep` ignores SIGTERM as PID 1, so no grace period is worth waiting for.
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: NAME,
              image: SLEEP_IMAGE,
              command: ["/bin/sleep", "infinity"],
              resources: { limits: { cpu: "100m", memory: "32Mi" }, requests: { cpu: "5m", memory: "8Mi" } },
              // Read-only root and no writable volume: the probe script keeps everything in memory.
              securityContext: RESTRICTED_CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
  return { serviceAccount, deployment };
}
