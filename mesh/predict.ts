/**
 * The mesh model: predicts what `curl http://<service>.<namespace>:<port><path>` from each client
 * workload observes, following the mesh rules document (istio-mtls-rules.md) and Istio's source where they differ.
 */
import type { KubeObject } from "./types";
import { DEFAULT_REQUEST, type Cell, type CellRequest, type Prediction } from "./prediction";
import { buildModel, type MeshModel } from "./model/index";
import { objectRef } from "./model/errors";
import { OutcomeEngine } from "./model/outcome";
import type { ServicePort, Workload } from "./model/workloads";

export { MODEL_KINDS, MODEL_API_VERSIONS } from "./model/kinds";
export { ModelInputError } from "./model/errors";

export interface PredictOptions {
  /** The request every cell sends (and carries); unset parts are DEFAULT_REQUEST's. */
  request?: Partial<CellRequest>;
  /** Client workloads as `<name>.<namespace>`; default all. */
  from?: string[];
  /**
   * Mark (Cell.notModelled) the cells that the networking objects of the input which the
   * model does not read (NOT_MODELLED_KINDS) could change. Default false: the cells carry no marks.
   */
  markNotModelled?: boolean;
  /** The installed Istio revisions, when the caller knows them (buildModel's BuildOptions). */
  revisions?: readonly string[];
  /** Told what the model assumed for lack of input (the installed revisions), one line each. */
  notice?: (line: string) => void;
}

export function predict(objects: readonly KubeObject[], options: PredictOptions = {}): Prediction {
  return predictBuilt(buildModel(objects, { revisions: options.revisions }), objects, options);
}

/** predict() with the model of `objects` already built (callers that also query the model: the live probe). */
export function predictBuilt(model: MeshModel, objects: readonly KubeObject[], options: PredictOptions = {}): Prediction {
  for (const n of model.notices) options.notice?.(n);
  const prediction = predictModel(model, options);
  return options.markNotModelled ? markNotModelled(prediction, model, objects) : prediction;
}

/** The same prediction from a model already built (callers that also query the model itself). */
export function predictModel(model: MeshModel, options: PredictOptions = {}): Prediction {
  const req = options.request ?? {};
  const engine = new OutcomeEngine(model, {
    path: req.path ?? DEFAULT_REQUEST.path,
    method: req.method ?? DEFAULT_REQUEST.method,
    token: req.token ?? DEFAULT_REQUEST.token,
  });
  const wanted = options.from ? new Set(options.from) : undefined;
  const clients = model.workloads
    .filter((w) => w.running && (!wanted || wanted.has(w.id)))
    .sort((a, b) => (a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const probes: Cell[] = new Array(clients.length * model.servicePorts.length);
  let i = 0;
  for (const c of clients) {
    for (const sp of model.servicePorts) probes[i++] = engine.outcome(c, sp, c.id);
  }
  return { probes };
}

// ---- networking objects the model does not read ---------------------------------------------

/**
 * networking.istio.io kinds that the model does not read but that a cluster export routinely
 * holds. Instead of refusing the input, the prediction marks each cell such an object could change
 * (Cell.notModelled), conservatively, by this scope:
 *
 * - Sidecar in namespace N: may restrict the egress of sidecar clients and the ingress of sidecar
 *   servers in N: cells whose client has a sidecar and is in N, or whose Service has a sidecar
 *   endpoint in N. With spec.workloadSelector, only the selected workloads of N. In the mesh root
 *   namespace (istio-system) without selector: every sidecar workload of any namespace.
 * - EnvoyFilter in namespace N: may patch the proxies: the same scope as a Sidecar (selector
 *   honoured; in the root namespace, any namespace).
 * - VirtualService with hosts H: cells from sidecar clients to a Service port whose host matches
 *   one of H. A short name (no dot) means `<name>.<VirtualService's namespace>.svc.cluster.local`;
 *   a host matches the Service's `<svc>.<ns>.svc.cluster.local`, `<svc>.<ns>.svc` or `<svc>.<ns>`;
 *   `*` matches every Service and `*.suffix` every name ending in `.suffix`. A VirtualService whose
 *   spec.gateways does not include `mesh` binds only to gateways: a notice, no marks.
 * - ServiceEntry with hosts H: cells from any client to a Service port whose host matches one of H
 *   (as for a VirtualService).
 * - Gateway: configures only Istio ingress/egress gateways, whose traffic the matrix does not
 *   predict: a notice, no marks.
 *
 * exportTo, ports and route details are not read: a matching object marks every port of the Service.
 */
// A list, not a Set: the probe's serialized provider captures this module, and Pulumi's serializer rebuilds a Set as a plain object, whose .has then throws.
export const NOT_MODELLED_KINDS: readonly string[] = ["VirtualService", "Gateway", "Sidecar", "ServiceEntry", "EnvoyFilter"];

const NETWORKING_GROUP = "networking.istio.io";

/** A networking.istio.io object (any API version) of NOT_MODELLED_KINDS. */
export function isNotModelledKind(o: Pick<KubeObject, "apiVersion" | "kind">): boolean {
  return o.apiVersion.startsWith(`${NETWORKING_GROUP}/`) && NOT_MODELLED_KINDS.includes(o.kind);
}

function ref(o: KubeObject): string {
  return objectRef(o.kind, o.metadata.namespace ?? "default", o.metadata.name);
}

function specOf(o: KubeObject): Record<string, unknown> {
  const spec = (o as { spec?: unknown }).spec;
  return spec !== null && typeof spec === "object" && !Array.isArray(spec) ? (spec as Record<string, unknown>) : {};
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : [];
}

/** A VirtualService that lists gateways without `mesh` binds only to those gateways. */
function gatewayOnly(o: KubeObject): boolean {
  const gateways = strings(specOf(o).gateways);
  return o.kind === "VirtualService" && gateways.length > 0 && !gateways.includes("mesh");
}

/** For an object of NOT_MODELLED_KINDS that marks no cell: why (a line for stderr). */
export function notModelledNotice(o: KubeObject): string | undefined {
  if (!isNotModelledKind(o)) return undefined;
  if (o.kind === "Gateway") return `${ref(o)} configures only Istio gateways; the predicted mesh-internal cells do not depend on it`;
  if (gatewayOnly(o)) {
    return `${ref(o)} binds only to gateways (${strings(specOf(o).gateways).join(", ")}); the predicted mesh-internal cells do not depend on it`;
  }
  return undefined;
}

/** Whether `host` (as written in an object of namespace `ns`) names the Service port's host. */
export function hostMatches(host: string, ns: string, sp: Pick<ServicePort, "service" | "namespace">): boolean {
  const h = host.toLowerCase();
  if (h === "*") return true;
  const full = h.includes(".") ? h : `${h}.${ns}.svc.cluster.local`;
  const names = [`${sp.service}.${sp.namespace}.svc.cluster.local`, `${sp.service}.${sp.namespace}.svc`, `${sp.service}.${sp.namespace}`];
  if (full.startsWith("*.")) return names.some((n) => n.endsWith(full.slice(1)));
  return names.includes(full);
}

interface MarkScope {
  /** The mark of a cell it applies to. */
  reason(sp: ServicePort): string;
  applies(client: Workload, sp: ServicePort): boolean;
}

function scopeOf(o: KubeObject, rootNamespace: string): MarkScope | undefined {
  const ns = o.metadata.namespace ?? "default";
  const spec = specOf(o);
  switch (o.kind) {
    case "Sidecar":
    case "EnvoyFilter": {
      const ws = spec.workloadSelector;
      const labels = ws !== null && typeof ws === "object" ? (ws as { labels?: unknown }).labels : undefined;
      const selector = labels !== null && typeof labels === "object" ? Object.entries(labels as Record<string, unknown>) : [];
      const anyNamespace = ns === rootNamespace;
      const selected = (w: Workload): boolean =>
        w.sidecar && (anyNamespace || w.namespace === ns) && selector.every(([k, v]) => w.labels[k] === v);
      return {
        reason: () => (o.kind === "Sidecar" ? `not modelled: ${ref(o)} may restrict this traffic` : `not modelled: ${ref(o)} may patch the proxies of this traffic`),
        applies: (client, sp) => selected(client) || sp.endpoints.some((e) => selected(e.workload)),
      };
    }
    case "VirtualService":
    case "ServiceEntry": {
      if (gatewayOnly(o)) return undefined;
      const hosts = strings(spec.hosts);
      const sidecarOnly = o.kind === "VirtualService";
      const verb = o.kind === "VirtualService" ? "routes" : "redefines";
      return {
        reason: (sp) => `not modelled: ${ref(o)} ${verb} ${sp.service}.${sp.namespace}`,
        applies: (client, sp) => (!sidecarOnly || client.sidecar) && hosts.some((h) => hostMatches(h, ns, sp)),
      };
    }
    default:
      return undefined;
  }
}

/** Adds Cell.notModelled to the cells the objects of NOT_MODELLED_KINDS could change. */
export function markNotModelled(prediction: Prediction, model: MeshModel, objects: readonly KubeObject[]): Prediction {
  const scopes = objects
    .filter((o) => o && typeof o === "object" && typeof o.kind === "string" && typeof o.apiVersion === "string" && isNotModelledKind(o))
    .map((o) => ({ o, scope: scopeOf(o, model.mesh.rootNamespace) }))
    .filter((x): x is { o: KubeObject; scope: MarkScope } => x.scope !== undefined);
  if (scopes.length === 0) return prediction;
  const workloads = new Map(model.workloads.map((w) => [w.id, w]));
  const ports = new Map(model.servicePorts.map((sp) => [sp.id, sp]));
  const probes = prediction.probes.map((p) => {
    const client = workloads.get(p.from);
    const sp = ports.get(p.to);
    if (!client || !sp) return p;
    const marks = scopes
      .filter(({ scope }) => scope.applies(client, sp))
      .map(({ scope }) => scope.reason(sp));
    return marks.length > 0 ? { ...p, notModelled: [...new Set(marks)] } : p;
  });
  return { probes };
}
