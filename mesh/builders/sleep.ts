/** The demo client: a curl image that idles so probes can `kubectl exec` curl from it. */
import { RESTRICTED_CONTAINER_SECURITY } from "./httpbin";
import type { Deployment, ServiceAccount } from "./kinds";
import { checkDnsLabel, labels } from "./meta";

/** The image Istio's own samples/curl/curl.yaml and samples/sleep/sleep.yaml run (same Istio commit as httpbin's). */
export const SLEEP_IMAGE = "docker.io/curlimages/curl:8.16.0";
const NAME = "sleep";

export function buildSleep(namespace: string): { serviceAccount: ServiceAccount; deployment: Deployment } {
  return buildCurlClient(namespace, NAME, NAME);
}

/**
 * A curl client that idles so the probe can exec its script in it: the demo's sleep and the
 * probe clients (mesh/builders/probe-client.ts). Its own ServiceAccount `name`, so its identity is
 * spiffe://<trust domain>/ns/<namespace>/sa/<name>; pods labelled `app: <name>`.
 */
export function buildCurlClient(namespace: string, name: string, container: string): { serviceAccount: ServiceAccount; deployment: Deployment } {
  checkDnsLabel("namespace name", namespace);
  const serviceAccount: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } };
  const deployment: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace, labels: labels({ app: name }) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels({ app: name }) },
      template: {
        metadata: { labels: labels({ app: name }) },
        spec: {
          serviceAccountName: name,
          // A quick stop: `sleep` ignores SIGTERM as PID 1, so no grace period is worth waiting for.
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: container,
              image: SLEEP_IMAGE,
              command: ["/bin/sleep", "infinity"],
              resources: { limits: { cpu: "100m", memory: "32Mi" }, requests: { cpu: "5m", memory: "8Mi" } },
              // Read-only root and no writable volume: the probe script (probe/script.ts) writes no file.
              securityContext: RESTRICTED_CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
  return { serviceAccount, deployment };
}
