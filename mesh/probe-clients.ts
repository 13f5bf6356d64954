/**
 * The probe clients: the workloads the post-deploy probes send their requests from when
 * `probe.enabled`. One in each managed namespace, with that namespace's injection (so it is
 * treated as that namespace's workloads are), and one in a namespace of its own with injection
 * disabled: the plaintext client that proves STRICT refuses outsiders. Their names, labels and
 * identities are part of the project's contract (README, "Probe clients"): an AuthorizationPolicy
 * author sees how they are treated, and the model predicts it like any workload's.
 *
 *   Deployment, ServiceAccount, label app: istio-mtls-probe in namespace N
 *   identity spiffe://<trust domain>/ns/N/sa/istio-mtls-probe
 *   plaintext client: the same in namespace istio-mtls-probe (istio-injection: disabled)
 */
import { SLEEP_IMAGE } from "./builders/sleep";

/** Deployment, ServiceAccount and `app` label of every probe client. */
export const PROBE_CLIENT_NAME = "istio-mtls-probe";
/** The namespace of the plaintext probe client (no sidecar). */
export const PLAINTEXT_PROBE_NAMESPACE = "istio-mtls-probe";
/** The pod labels of a probe client: how the probe finds its pods. */
export const PROBE_CLIENT_LABELS: Readonly<Record<string, string>> = { app: PROBE_CLIENT_NAME };
/** The container the probe script runs in. */
export const PROBE_CLIENT_CONTAINER = "probe";
/** The demo's curl image (the probe script needs only sh and curl). */
export const PROBE_CLIENT_IMAGE = SLEEP_IMAGE;
