/**
 * The probe clients (mesh/probe-clients.ts names them): a curl Deployment and its ServiceAccount
 * in a namespace, idling so the probe can exec its script in the `probe` container, and the
 * namespace of the plaintext client, where nothing injects a sidecar.
 */
import { PLAINTEXT_PROBE_NAMESPACE, PROBE_CLIENT_CONTAINER, PROBE_CLIENT_NAME } from "../probe-clients";
import type { Deployment, Namespace, ServiceAccount } from "./kinds";
import { buildNamespace } from "./namespace";
import { buildCurlClient } from "./sleep";

/** Its own ServiceAccount: the identity an AuthorizationPolicy names (…/ns/<namespace>/sa/istio-mtls-probe). */
export function buildProbeClient(namespace: string): { serviceAccount: ServiceAccount; deployment: Deployment } {
  return buildCurlClient(namespace, PROBE_CLIENT_NAME, PROBE_CLIENT_CONTAINER);
}

/** The plaintext client's namespace: `istio-injection: disabled`, so its client has no sidecar whatever the mesh injects. */
export function buildPlaintextProbeNamespace(): Namespace {
  return buildNamespace({ name: PLAINTEXT_PROBE_NAMESPACE, injection: false });
}
