/**
 * Workloads (every kind with a pod template, and bare Pods), their sidecars and identities, and the Service ports
 * that select them. Sidecar injection follows the installed revisions' webhooks
 * (injection-webhooks.ts) and the injector's own check (pkg/kube/inject/inject.go injectRequired).
 */
import type { ClientRef, TargetRef } from "../prediction";
import type { KubeObject, Labels } from "../types";
import { collecting, ModelInputError, objectRef, throwAll } from "./errors";
import {
  DEFAULT_REVISION,
  INJECT_LABEL,
  INJECTION_NAMESPACE_LABEL,
  REVISION_LABEL,
  selectingWebhook,
  type InjectionWebhook,
  type InstalledRevisions,
} from "./injection-webhooks";
import type { Aged } from "./order";

export const TLS_MODE_LABEL = "security.istio.io/tlsMode";
export { INJECT_LABEL, INJECTION_NAMESPACE_LABEL, REVISION_LABEL };

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

/** Namespaces the injector never injects (istio/istio pkg/kube/inject/initializer.go IgnoredNamespaces). */
// A list, not a Set: the probe's serialized provider captures this module, and Pulumi's serializer rebuilds a Set as a plain object, whose .has then throws.
const IGNORED_NAMESPACES: readonly string[] = ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"];

/** The chart's webhook names say which label selected the pod (injection-webhooks.ts chartWebhooks). */
function selectedBy(w: InjectionWebhook, nsLabels: Labels, podLabels: Labels): string {
  const hook = w.name.slice(w.name.indexOf("/") + 1);
  if (hook === "namespace.sidecar-injector.istio.io") return `namespace label ${INJECTION_NAMESPACE_LABEL}=enabled`;
  if (hook === "rev.namespace.sidecar-injector.istio.io") return `namespace label ${REVISION_LABEL}=${nsLabels[REVISION_LABEL]}`;
  if (hook === "object.sidecar-injector.istio.io") return `pod label ${INJECT_LABEL}=true`;
  if (hook === "rev.object.sidecar-injector.istio.io") return `pod label ${REVISION_LABEL}=${podLabels[REVISION_LABEL]}`;
  return `webhook ${w.name}`;
}

/** Why no webhook selects the pod, in the terms of the labels that decided it. */
function notSelected(installed: InstalledRevisions, nsLabels: Labels, podLabels: Labels): string {
  const podLabel = podLabels[INJECT_LABEL];
  const nsInjection = nsLabels[INJECTION_NAMESPACE_LABEL];
  const notInstalled = (rev: string) => !installed.revisions.includes(rev);
  const list = installed.revisions.join(", ");
  if (podLabel === "false") return `pod label ${INJECT_LABEL}=false`;
  if (nsInjection === "disabled") return `namespace label ${INJECTION_NAMESPACE_LABEL}=disabled`;
  if (nsInjection === "enabled" && notInstalled(DEFAULT_REVISION)) {
    return `namespace label ${INJECTION_NAMESPACE_LABEL}=enabled, but the default revision is not installed (installed: ${list})`;
  }
  for (const [where, l] of [["namespace", nsLabels], ["pod", podLabels]] as const) {
    const rev = l[REVISION_LABEL];
    if (rev !== undefined && notInstalled(rev)) return `${where} label ${REVISION_LABEL}=${rev}, a revision not installed (installed: ${list})`;
  }
  const labelled = [nsLabels[INJECTION_NAMESPACE_LABEL], nsLabels[REVISION_LABEL], podLabel, podLabels[REVISION_LABEL]].some((v) => v !== undefined);
  return labelled ? "no injection webhook selects it" : "no injection label";
}

/**
 * Whether the injector adds a sidecar. The API server calls an injector only when one of the
 * installed revisions' webhooks selects the pod by namespace and pod labels (an annotation alone
 * never reaches it). Inside the injector (istio/istio pkg/kube/inject/inject.go injectRequired)
 * the pod label `sidecar.istio.io/inject`, when present, beats the annotation of that name; only
 * "false" opts out, other values (`no`, `off`) fall back to the policy, which injects; hostNetwork
 * pods and the ignored system namespaces are never injected.
 */
export function sidecarInjected(
  installed: InstalledRevisions,
  namespace: string,
  nsLabels: Labels,
  podLabels: Labels,
  podAnnotations: Record<string, string>,
  hostNetwork: boolean,
): { sidecar: boolean; why: string } {
  if (hostNetwork) return { sidecar: false, why: "hostNetwork pod" };
  const webhook = selectingWebhook(installed, namespace, nsLabels, podLabels);
  if (!webhook) return { sidecar: false, why: notSelected(installed, nsLabels, podLabels) };
  if (IGNORED_NAMESPACES.includes(namespace)) return { sidecar: false, why: `namespace ${namespace} is never injected` };
  const decision = podLabels[INJECT_LABEL] ?? podAnnotations[INJECT_LABEL];
  if (decision === "false") {
    return { sidecar: false, why: `pod ${podLabels[INJECT_LABEL] !== undefined ? "label" : "annotation"} ${INJECT_LABEL}=false` };
  }
  return { sidecar: true, why: selectedBy(webhook, nsLabels, podLabels) };
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
  installed: InstalledRevisions,
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
  const { sidecar, why } = sidecarInjected(installed, namespace, nsLabels.get(namespace) ?? {}, labels, annotations, podSpec?.hostNetwork === true);
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
