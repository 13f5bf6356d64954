/** The demo server: go-httpbin behind Service `httpbin` port 8000 → container port 8080. */
import type { Deployment, Service, ServiceAccount } from "./kinds";
import { checkDnsLabel, labels } from "./meta";

/**
 * The image Istio's own samples/httpbin/httpbin.yaml runs, container port 8080 (istio.io/istio at
 * the commit tools/istioctl/go.mod pins): a tag that is published and that Istio tests against.
 */
export const HTTPBIN_IMAGE = "docker.io/mccutchen/go-httpbin:v2.15.0";
/**
 * go-httpbin's Dockerfile has `CMD ["/bin/go-httpbin"]` and no ENTRYPOINT: `args` alone would
 * replace that CMD and Kubernetes would run "-port" as the program. The command is set explicitly.
 */
export const HTTPBIN_COMMAND = ["/bin/go-httpbin"];
export const HTTPBIN_SERVICE_PORT = 8000;
export const HTTPBIN_CONTAINER_PORT = 8080;
const NAME = "httpbin";
const APP_LABELS = { app: NAME, version: "v1" };

/** Non-root, no privilege escalation: set per container so Istio's own containers keep theirs. */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsGroup: 65532,
  runAsNonRoot: true,
  runAsUser: 65532,
  seccompProfile: { type: "RuntimeDefault" },
};

export interface DemoWorkloadObjects {
  serviceAccount: ServiceAccount;
  service?: Service;
  deployment: Deployment;
}

export function buildHttpbin(namespace: string): Required<DemoWorkloadObjects> {
  checkDnsLabel("namespace name", namespace);
  const serviceAccount: ServiceAccount = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: NAME, namespace } };
  const service: Service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: NAME, namespace, labels: labels({ app: NAME, service: NAME }) },
    spec: {
      selector: { app: NAME },
      ports: [{ name: "http", port: HTTPBIN_SERVICE_PORT, protocol: "TCP", targetPort: HTTPBIN_CONTAINER_PORT }],
    },
  };
  // HTTP probes on the app port keep working under STRICT: Istio's injector rewrites HTTP
  // readiness/liveness probes to the sidecar's port 15020, which forwards them to the app in
  // plaintext from inside the pod (sidecar.istio.io/rewriteAppHTTPProbers, on by default).
  const probe = (initialDelaySeconds: number) => ({
    httpGet: { path: "/status/200", port: HTTPBIN_CONTAINER_PORT },
    initialDelaySeconds,
    periodSeconds: 10,
  });
  const deployment: Deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: NAME, namespace, labels: labels(APP_LABELS) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(APP_LABELS) },
      template: {
        metadata: { labels: labels(APP_LABELS) },
        spec: {
          serviceAccountName: NAME,
          containers: [
            {
              name: NAME,
              image: HTTPBIN_IMAGE,
              command: [...HTTPBIN_COMMAND],
              args: ["-port", String(HTTPBIN_CONTAINER_PORT)],
              ports: [{ containerPort: HTTPBIN_CONTAINER_PORT, name: "http", protocol: "TCP" }],
              readinessProbe: probe(2),
              livenessProbe: probe(5),
              resources: { limits: { cpu: "200m", memory: "128Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
              securityContext: RESTRICTED_CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
  return { serviceAccount, service, deployment };
}
