/**
 * Workloads (every kind with a pod template, and bare Pods), their sidecars and identities, and the Service ports
 * that select them. Sidecar injection follows the default revision's MutatingWebhookConfiguration
 * (istio/istio manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml) and
 * the injector's own check (pkg/kube/inject/webhook.go injectRequired).
 */
import type { ClientRef, TargetRef } from "../prediction";
import type { KubeObject, Labels } from "../types";
import { collecting, ModelInputError, objectRef, throwAll } from "./errors";
import type { Aged } from "./order";

export const INJECT_LABEL = "sidecar.istio.io/inject";
export const TLS_MODE_LABEL = "security.istio.io/tlsMode";
export const INJECTION_NAMESPACE_LABEL = "istio-injection";
export const REVISION_LABEL = "istio.io/rev";

export interface Workload extends Aged {
  kind: WorkloadKind;
  /** Pod labels, with the `security.istio.io/tlsMode` label the injector adds. */
  labels: Labels;
  serviceAccount: string;
  sidecar: boolean;
  /** Why the workload has (or lacks) a sidecar, for reasons. */
  sidecarWhy: string;
  /** Container port names → numbers, to resolve a Service's named targetPort. */
  namedPorts: Map<string, number>;
  /** `<name>.<namespace>`. */
  id: string;
  /** Istio principal `<trustDomain>/ns/<ns>/sa/<sa>` (authorization `principals` form). */
  principal: string;
  /** `spiffe://` + principal. */
  spiffe: string;
  /** A pod exists to send a probe and to be an endpoint (replicas > 0, not suspended, not finished). */
  running: boolean;
  /** How a Cell names it as the client. */
  probeClient: ClientRef;
}

export interface Endpoint {
  workload: Workload;
  /** The workload (container) port the Service port resolves to. */
  targetPort: number;
}

export interface ServicePort {
  namespace: string;
  service: string;
  port: number;
  portName: string | undefined;
  /** As written in the Service (number or container port name). */
  targetPortSpec: number | string;
  /** `<service>.<namespace>.svc.cluster.local`. */
  hostname: string;
  /** clusterIP: None, which Istio treats as passthrough. */
  headless: boolean;
  /** Workloads the selector matches, with the container port this Service port reaches. */
  endpoints: Endpoint[];
  /** `<service>.<namespace>:<port>`. */
  id: string;
  /** How a Cell names it as the target. */
  probeTarget: TargetRef;
}

/** Kubernetes' cluster DNS suffix, which Istio hostnames use (not the trust domain). */
export const DNS_SUFFIX = "svc.cluster.local";

export function serviceHostname(service: string, namespace: string): string {
  return `${service}.${namespace}.${DNS_SUFFIX}`;
}

export function namespaceOf(o: KubeObject): string {
  return o.metadata.namespace || "default";
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function stringMap(ref: string, field: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  const r = asRecord(v);
  if (!r) throw new ModelInputError(ref, `${field} must be a map of strings, found ${JSON.stringify(v)}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(r)) {
    if (typeof val !== "string") throw new ModelInputError(ref, `${field}.${k} must be a string, found ${JSON.stringify(val)}`);
    out[k] = val;
  }
  return out;
}

/**
 * Whether the injector adds a sidecar. Webhook selectors read labels only: a namespace with
 * `istio-injection=enabled` (or an `istio.io/rev` and no `istio-injection` label) injects unless
 * the pod label says "false"; a namespace without either label injects only a pod labelled
 * `sidecar.istio.io/inject: "true"` (or `istio.io/rev`); `istio-injection=disabled` never does.
 * Inside the webhook the annotation `sidecar.istio.io/inject: "false"` still opts a pod out, unless
 * the pod has the label of that name, which wins (istio/istio pkg/kube/inject/inject.go
 * injectRequired); values other than "true"/"false" (`no`, `off`) are ignored there with a warning.
 * The annotation "true" alone never reaches the webhook. hostNetwork pods are never injected.
 */
export function sidecarInjected(
  nsLabels: Labels,
  podLabels: Labels,
  podAnnotations: Record<string, string>,
  hostNetwork: boolean,
): { sidecar: boolean; why: string } {
  const podLabel = podLabels[INJECT_LABEL];
  const nsInjection = nsLabels[INJECTION_NAMESPACE_LABEL];
  const nsRev = nsLabels[REVISION_LABEL];
  if (hostNetwork) return { sidecar: false, why: "hostNetwork pod" };
  let webhook: string | undefined;
  if (nsInjection === "enabled") {
    if (podLabel !== "false") webhook = `namespace label ${INJECTION_NAMESPACE_LABEL}=enabled`;
  } else if (nsInjection === undefined && nsRev !== undefined) {
    if (podLabel !== "false") webhook = `namespace label ${REVISION_LABEL}=${nsRev}`;
  } else if (nsInjection === undefined) {
    if (podLabel === "true") webhook = `pod label ${INJECT_LABEL}=true`;
    else if (podLabels[REVISION_LABEL] !== undefined && podLabel !== "false") webhook = `pod label ${REVISION_LABEL}`;
  }
  if (!webhook) {
    if (podLabel === "false") return { sidecar: false, why: `pod label ${INJECT_LABEL}=false` };
    if (nsInjection === "disabled") return { sidecar: false, why: `namespace label ${INJECTION_NAMESPACE_LABEL}=disabled` };
    return { sidecar: false, why: "no injection label" };
  }
  // Inside the webhook (injectRequired): the pod label, when present, beats the annotation; only
  // "false" opts out, any value but "true" and "false" falls back to the policy, which injects.
  if (podLabel === undefined && podAnnotations[INJECT_LABEL] === "false") {
    return { sidecar: false, why: `pod annotation ${INJECT_LABEL}=false` };
  }
  return { sidecar: true, why: webhook };
}

export interface WorkloadInput {
  object: KubeObject;
  position: number;
}

export function readNamespaceLabels(objects: readonly KubeObject[]): Map<string, Labels> {
  const out = new Map<string, Labels>();
  for (const o of objects) {
    if (o.kind !== "Namespace" || o.apiVersion !== "v1") continue;
    const ref = objectRef("Namespace", undefined, o.metadata.name);
    out.set(o.metadata.name, stringMap(ref, "metadata.labels", o.metadata.labels));
  }
  return out;
}

/**
 * Where each workload kind keeps its pod template (`kubectl explain`'s field paths); a Pod is its
 * own template. One table, so that every kind is read by the same code.
 */
export const POD_TEMPLATE_PATHS = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
  Pod: [],
} as const satisfies Record<string, readonly string[]>;

export type WorkloadKind = keyof typeof POD_TEMPLATE_PATHS;

export function isWorkloadKind(kind: string): kind is WorkloadKind {
  return Object.hasOwn(POD_TEMPLATE_PATHS, kind);
}

/**
 * Whether an object of a workload kind is made by a controller that is itself in the input: its
 * pods are that controller's, and reading both would count them twice (a Pod of a ReplicaSet of a
 * Deployment, a Job of a CronJob, as `kubectl get -A -o yaml` exports them all). An owner absent
 * from the input does not hide the object: an export of Pods alone still has its workloads.
 */
export function ownedByInputController(o: KubeObject, present: ReadonlySet<string>): boolean {
  const owners = (o.metadata as unknown as { ownerReferences?: unknown }).ownerReferences;
  if (!Array.isArray(owners)) return false;
  const namespace = namespaceOf(o);
  for (const ref of owners) {
    const r = asRecord(ref);
    if (!r || r.controller === false || typeof r.kind !== "string" || typeof r.name !== "string") continue;
    if (present.has(objectRef(r.kind, namespace, r.name))) return true;
    // A Pod of a Deployment names its ReplicaSet `<deployment>-<pod-template-hash>`; exports of
    // `pods,deployments` leave that ReplicaSet out.
    const hash = asRecord(o.metadata.labels)?.["pod-template-hash"];
    if (r.kind === "ReplicaSet" && typeof hash === "string" && r.name.endsWith(`-${hash}`)) {
      if (present.has(objectRef("Deployment", namespace, r.name.slice(0, -hash.length - 1)))) return true;
    }
  }
  return false;
}

/** A whole number >= 0 at `field`, or undefined when absent. */
function count(ref: string, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new ModelInputError(ref, `${field} must be a whole number >= 0, found ${JSON.stringify(v)}`);
  return v;
}

/**
 * Whether a pod of the workload exists to send a probe and to be an endpoint. Scaled to 0,
 * suspended (Job, CronJob) or finished (Pod phase Succeeded/Failed) means none; a DaemonSet or a
 * CronJob is taken to have one (the model has no nodes and no clock).
 */
function isRunning(kind: WorkloadKind, ref: string, o: KubeObject, spec: Record<string, unknown>): boolean {
  switch (kind) {
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
    case "ReplicationController":
      return (count(ref, "spec.replicas", spec.replicas) ?? 1) > 0;
    case "Job":
      return spec.suspend !== true && (count(ref, "spec.parallelism", spec.parallelism) ?? 1) > 0;
    case "CronJob":
      return spec.suspend !== true;
    case "DaemonSet":
      return true;
    case "Pod": {
      const phase = asRecord((o as unknown as { status?: unknown }).status)?.phase;
      return phase !== "Succeeded" && phase !== "Failed";
    }
  }
}

/** Builds a workload from any workload kind (the caller skips those owned by a controller in the input). */
export function readWorkload(
  o: KubeObject,
  position: number,
  nsLabels: Map<string, Labels>,
  trustDomain: string,
): Workload {
  if (!isWorkloadKind(o.kind)) throw new Error(`readWorkload: ${o.kind} is not a workload kind`);
  const kind = o.kind;
  const namespace = namespaceOf(o);
  const name = o.metadata.name;
  const ref = objectRef(kind, namespace, name);
  const spec = asRecord(o.spec);
  if (!spec) throw new ModelInputError(ref, "spec is missing");
  const path: readonly string[] = POD_TEMPLATE_PATHS[kind];
  let template: Record<string, unknown> | undefined = o as unknown as Record<string, unknown>;
  for (const seg of path) template = asRecord(template?.[seg]);
  if (!template) throw new ModelInputError(ref, `${path.join(".")} is missing`);
  const podMeta = asRecord(template.metadata) ?? {};
  const podSpec = asRecord(template.spec);
  const running = isRunning(kind, ref, o, spec);
  const prefix = path.length > 0 ? `${path.join(".")}.` : "";
  const labels = stringMap(ref, `${prefix}metadata.labels`, podMeta.labels);
  const annotations = stringMap(ref, `${prefix}metadata.annotations`, podMeta.annotations);
  const sa = podSpec?.serviceAccountName ?? podSpec?.serviceAccount;
  if (sa !== undefined && typeof sa !== "string") {
    throw new ModelInputError(ref, `${prefix}spec.serviceAccountName must be a string, found ${JSON.stringify(sa)}`);
  }
  const serviceAccount = sa || "default";
  const { sidecar, why } = sidecarInjected(nsLabels.get(namespace) ?? {}, labels, annotations, podSpec?.hostNetwork === true);
  const podLabels: Labels = { ...labels };
  // The injector labels injected pods; the endpoint check (mtls_checker.go) reads this label.
  if (sidecar && podLabels[TLS_MODE_LABEL] === undefined) podLabels[TLS_MODE_LABEL] = "istio";

  const namedPorts = new Map<string, number>();
  const containers = podSpec?.containers;
  if (containers !== undefined && !Array.isArray(containers)) {
    throw new ModelInputError(ref, `${prefix}spec.containers must be a list`);
  }
  for (const c of (containers as unknown[] | undefined) ?? []) {
    const ports = asRecord(c)?.ports;
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      const pr = asRecord(p);
      if (pr && typeof pr.name === "string" && typeof pr.containerPort === "number") namedPorts.set(pr.name, pr.containerPort);
    }
  }
  const principal = `${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
  const created = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : undefined;
  return {
    kind,
    name,
    namespace,
    created: created !== undefined && !Number.isNaN(created) ? created : undefined,
    position,
    labels: podLabels,
    serviceAccount,
    sidecar,
    sidecarWhy: why,
    namedPorts,
    id: `${name}.${namespace}`,
    principal,
    spiffe: `spiffe://${principal}`,
    running,
    probeClient: { namespace, name, labels, serviceAccount, sidecar },
  };
}

/** The Service's ports with their endpoints; undefined for Services the model does not route (no selector, ExternalName). */
export function readServicePorts(o: KubeObject, workloadsByNs: Map<string, Workload[]>): ServicePort[] | undefined {
  const namespace = namespaceOf(o);
  const name = o.metadata.name;
  const ref = objectRef("Service", namespace, name);
  const spec = asRecord(o.spec);
  if (!spec) throw new ModelInputError(ref, "spec is missing");
  if (spec.type === "ExternalName") return undefined;
  if (spec.selector === undefined || spec.selector === null) return undefined;
  const selector = stringMap(ref, "spec.selector", spec.selector);
  if (Object.keys(selector).length === 0) return undefined;
  const ports = spec.ports;
  if (!Array.isArray(ports) || ports.length === 0) throw new ModelInputError(ref, "spec.ports must list at least one port");
  const selected = (workloadsByNs.get(namespace) ?? []).filter((w) => {
    if (!w.running) return false;
    for (const k in selector) if (w.labels[k] !== selector[k]) return false;
    return true;
  }).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const hostname = serviceHostname(name, namespace);
  const headless = spec.clusterIP === "None";
  // Each bad port is its own error, as the API server lists every invalid field.
  const errors: ModelInputError[] = [];
  const out = ports.flatMap((p, i) => collecting(errors, (): ServicePort => {
    const pr = asRecord(p);
    const port = pr?.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ModelInputError(ref, `spec.ports[${i}].port must be 1..65535, found ${JSON.stringify(port)}`);
    }
    const tp = pr?.targetPort ?? port;
    if (typeof tp !== "number" && typeof tp !== "string") {
      throw new ModelInputError(ref, `spec.ports[${i}].targetPort must be a number or a port name, found ${JSON.stringify(tp)}`);
    }
    const targetPortSpec: number | string = typeof tp === "string" && /^\d+$/.test(tp) ? Number(tp) : tp;
    const endpoints: Endpoint[] = [];
    for (const w of selected) {
      // A named targetPort the pod does not declare yields no endpoint (EndpointSlice controller).
      const target = typeof targetPortSpec === "number" ? targetPortSpec : w.namedPorts.get(targetPortSpec);
      if (target !== undefined) endpoints.push({ workload: w, targetPort: target });
    }
    const portName = typeof pr?.name === "string" ? pr.name : undefined;
    const resolved =
      endpoints.length > 0 && endpoints.every((e) => e.targetPort === endpoints[0]!.targetPort)
        ? endpoints[0]!.targetPort
        : targetPortSpec;
    return {
      namespace,
      service: name,
      port,
      portName,
      targetPortSpec,
      hostname,
      headless,
      endpoints,
      id: `${name}.${namespace}:${port}`,
      probeTarget: { namespace, service: name, port, targetPort: resolved },
    };
  }) ?? []);
  throwAll(errors);
  return out;
}
