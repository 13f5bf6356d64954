/**
 * Reads, through the Kubernetes API, the objects the model (mesh/predict.ts) needs to predict a
 * live cluster: the objects the stack applied and everything app teams applied beside them. Used
 * by `istio-mtls predict --kube` / `verify --kube` and by the ConnectivityProbe's provider, whose
 * serialized text captures this module by value: plain functions and values only, client-node
 * required inside functions (as probe/transport.ts, which also loads the kubeconfig).
 *
 * Errors a user can meet are plain Errors named ClusterReadError (the serializer loses Error
 * subclasses) whose message says what failed and the fix: no kubeconfig or context, an unknown
 * context, an unreachable API server, 401, 403 with the RBAC rule that is missing, a namespace
 * that does not exist.
 */
import type * as k8s from "@kubernetes/client-node";
import { ownedByInputController, isWorkloadKind, namespaceOf } from "../mesh/model/workloads";
import { objectRef } from "../mesh/model/errors";
import { parseMeshConfig } from "../mesh/model/mesh-config";
import { DEFAULT_MESH_CONFIG, ISTIOD_NAMESPACE, MESH_CONFIGMAP, type KubeObject } from "../mesh/types";
import { boundedAll } from "./runner";
import { loadKubeConfig, type ClusterAccess } from "./transport";

export interface ReadScope {
  /** Namespaces whose Services, workloads and policies are read; empty: the context's namespace, else `default`. */
  namespaces?: readonly string[];
  /** Every namespace (overrides `namespaces`). */
  allNamespaces?: boolean;
  /** Also read when they exist (a notice when not), e.g. the plaintext probe client's namespace. */
  optionalNamespaces?: readonly string[];
  /** istiod's namespace, where the mesh ConfigMap `istio` is (default istio-system). */
  istioNamespace?: string;
  /** Lists in flight at once (default 8). */
  concurrency?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export interface ClusterRead {
  /** The model's input: apiVersion and kind set, metadata.managedFields dropped, each running workload once. */
  objects: KubeObject[];
  /** One line each: kinds not served (Istio CRDs absent), optional namespaces missing, mesh defaults taken. */
  notices: string[];
  /** The namespaces read (scope and the optional ones that exist), sorted; ["*"] for all. */
  namespaces: string[];
  /** The namespaces of the scope itself, sorted (all namespaces of the cluster with allNamespaces). */
  scope: string[];
  /** The kubeconfig context read from. */
  context: string;
  /** The mesh root namespace (the mesh ConfigMap's rootNamespace), whose policies were read too. */
  rootNamespace: string;
}

/** What the user can fix, as opposed to a defect: the CLI prints its message alone (exit 2). */
export type ClusterReadError = Error & { name: "ClusterReadError" };

export function clusterReadError(message: string): ClusterReadError {
  return Object.assign(new Error(message), { name: "ClusterReadError" as const });
}

export function isClusterReadError(e: unknown): e is ClusterReadError {
  return e instanceof Error && e.name === "ClusterReadError";
}

/**
 * A resource the reader lists. `istio`: served only when Istio's CRDs are installed (404 there
 * is "none of that kind", with a notice); `root`: also read from the mesh root namespace, where
 * Istio applies it mesh-wide.
 */
interface Resource {
  kind: string;
  apiVersion: string;
  plural: string;
  istio?: boolean;
  root?: boolean;
}

/**
 * The model's kinds (mesh/model/kinds.ts) and the networking kinds it marks instead of reading
 * (mesh/predict.ts NOT_MODELLED_KINDS), at the versions a cluster serves: Istio 1.22+ serves
 * security.istio.io/v1 and networking.istio.io/v1, EnvoyFilter only v1alpha3. ServiceAccounts are
 * not read: a workload's identity is its pod template's serviceAccountName.
 */
const NAMESPACED: readonly Resource[] = [
  { kind: "Service", apiVersion: "v1", plural: "services" },
  { kind: "Deployment", apiVersion: "apps/v1", plural: "deployments" },
  { kind: "StatefulSet", apiVersion: "apps/v1", plural: "statefulsets" },
  { kind: "DaemonSet", apiVersion: "apps/v1", plural: "daemonsets" },
  { kind: "ReplicaSet", apiVersion: "apps/v1", plural: "replicasets" },
  { kind: "ReplicationController", apiVersion: "v1", plural: "replicationcontrollers" },
  { kind: "Job", apiVersion: "batch/v1", plural: "jobs" },
  { kind: "CronJob", apiVersion: "batch/v1", plural: "cronjobs" },
  { kind: "Pod", apiVersion: "v1", plural: "pods" },
  { kind: "PeerAuthentication", apiVersion: "security.istio.io/v1", plural: "peerauthentications", istio: true, root: true },
  { kind: "RequestAuthentication", apiVersion: "security.istio.io/v1", plural: "requestauthentications", istio: true, root: true },
  { kind: "AuthorizationPolicy", apiVersion: "security.istio.io/v1", plural: "authorizationpolicies", istio: true, root: true },
  { kind: "DestinationRule", apiVersion: "networking.istio.io/v1", plural: "destinationrules", istio: true, root: true },
  { kind: "VirtualService", apiVersion: "networking.istio.io/v1", plural: "virtualservices", istio: true, root: true },
  { kind: "ServiceEntry", apiVersion: "networking.istio.io/v1", plural: "serviceentries", istio: true, root: true },
  { kind: "Sidecar", apiVersion: "networking.istio.io/v1", plural: "sidecars", istio: true, root: true },
  { kind: "EnvoyFilter", apiVersion: "networking.istio.io/v1alpha3", plural: "envoyfilters", istio: true, root: true },
  { kind: "Gateway", apiVersion: "networking.istio.io/v1", plural: "gateways", istio: true },
];

/** The injection webhooks: the model takes the installed revisions from them (mesh/model/injection-webhooks.ts). */
const WEBHOOKS: Resource = { kind: "MutatingWebhookConfiguration", apiVersion: "admissionregistration.k8s.io/v1", plural: "mutatingwebhookconfigurations" };

/** `/api/v1` or `/apis/<group>/<version>`. */
function groupPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

/** The RBAC rule that grants `verb` on `plural` of `apiVersion`'s group, as a Role's YAML flow. */
export function rbacRule(verb: string, apiVersion: string, plural: string): string {
  return `{apiGroups: ["${groupOf(apiVersion)}"], resources: ["${plural}"], verbs: ["${verb}"]}`;
}

interface ApiResponse {
  status: number;
  body: string;
}

/** One GET through the kubeconfig's credentials and TLS settings (client-node's own agent). */
async function get(kc: k8s.KubeConfig, path: string, timeoutMs: number): Promise<ApiResponse> {
  const http = require("node:http") as typeof import("node:http");
  const https = require("node:https") as typeof import("node:https");
  const server = kc.getCurrentCluster()!.server.replace(/\/+$/, "");
  const opts: import("node:https").RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(server + path);
  return new Promise<ApiResponse>((resolve, reject) => {
    const req = (url.protocol === "http:" ? http : https).request(url, { ...opts, method: "GET", headers: { ...opts.headers, accept: "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end();
  });
}

/** The API server's own message of a Status body, when it sent one. */
function statusMessage(body: string): string | undefined {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    return s.kind === "Status" && typeof s.message === "string" ? s.message : undefined;
  } catch {
    return undefined;
  }
}

interface Where {
  kc: k8s.KubeConfig;
  timeoutMs: number;
}

/** What a user needs to fix for a response that is not 200, or for a request that got none. */
function failure(w: Where, verb: string, r: Resource, namespace: string | undefined, res: ApiResponse | Error, name?: string): ClusterReadError {
  const context = w.kc.getCurrentContext();
  const server = w.kc.getCurrentCluster()!.server;
  // A Namespace by name: the API server authorizes GET /api/v1/namespaces/N as a request in
  // namespace N, so a Role there grants it (as for any namespaced object).
  const namespaceByName = r.kind === "Namespace" && name !== undefined;
  const what = namespaceByName
    ? `${verb} namespace ${name}`
    : `${verb} ${r.plural}${groupOf(r.apiVersion) ? `.${groupOf(r.apiVersion)}` : ""}${namespace ? ` in namespace ${namespace}` : ""}`;
  if (namespaceByName) namespace = name;
  if (res instanceof Error) {
    const code = (res as { code?: string }).code;
    // Reached, but its certificate does not verify: another fix than for a server that is down.
    if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code)) {
      return clusterReadError(
        `the API server ${server} of context ${JSON.stringify(context)} presented a certificate that does not verify (${code}: ${res.message}); ` +
          `check the cluster's certificate-authority(-data) in the kubeconfig`,
      );
    }
    return clusterReadError(
      `cannot reach the API server ${server} of context ${JSON.stringify(context)} (${code ? `${code}: ` : ""}${res.message}); ` +
        `is the cluster running and is this the right context (--context, --kubeconfig)?`,
    );
  }
  const said = statusMessage(res.body);
  if (res.status === 401) {
    return clusterReadError(
      `the API server ${server} of context ${JSON.stringify(context)} rejected the credentials of user ${JSON.stringify(w.kc.getCurrentUser()?.name ?? "")} (401 Unauthorized${said ? `: ${said}` : ""}); ` +
        `log in again or renew the token or client certificate in the kubeconfig`,
    );
  }
  if (res.status === 403) {
    const scope = namespace
      ? `a Role in namespace ${namespace} (or a ClusterRole, bound in that namespace)`
      : `a ClusterRole bound by a ClusterRoleBinding (the resource has no namespace, or all namespaces were asked for)`;
    return clusterReadError(
      `forbidden: cannot ${what}${said ? ` (the API server says: ${said})` : ""}; ` +
        `the identity of context ${JSON.stringify(context)} needs the RBAC rule ${rbacRule(verb, r.apiVersion, r.plural)} in ${scope}`,
    );
  }
  return clusterReadError(`cannot ${what}: the API server ${server} answered ${res.status}${said ? `: ${said}` : ` ${res.body.slice(0, 200)}`}`);
}

/** Every object of `r` (in `namespace`, or cluster-wide), page by page; undefined when the kind is not served (404). */
async function list(w: Where, r: Resource, namespace: string | undefined): Promise<KubeObject[] | undefined> {
  const base = `${groupPath(r.apiVersion)}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${r.plural}`;
  const out: KubeObject[] = [];
  let next: string | undefined;
  do {
    const path = `${base}?limit=500${next ? `&continue=${encodeURIComponent(next)}` : ""}`;
    let res: ApiResponse;
    try {
      res = await get(w.kc, path, w.timeoutMs);
    } catch (e) {
      throw failure(w, "list", r, namespace, e as Error);
    }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw failure(w, "list", r, namespace, res);
    const page = JSON.parse(res.body) as { items?: Record<string, unknown>[]; metadata?: { continue?: string } };
    for (const item of page.items ?? []) out.push(asModelInput(item, r));
    next = page.metadata?.continue || undefined;
  } while (next);
  return out;
}

/** One object by name; undefined when it does not exist. */
async function read(w: Where, r: Resource, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  const path = `${groupPath(r.apiVersion)}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${r.plural}/${encodeURIComponent(name)}`;
  let res: ApiResponse;
  try {
    res = await get(w.kc, path, w.timeoutMs);
  } catch (e) {
    throw failure(w, "get", r, namespace, e as Error, name);
  }
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw failure(w, "get", r, namespace, res, name);
  return asModelInput(JSON.parse(res.body) as Record<string, unknown>, r);
}

/** As the model reads files: apiVersion and kind set (list items lack them), managedFields dropped. */
function asModelInput(item: Record<string, unknown>, r: Resource): KubeObject {
  const { managedFields: _dropped, ...metadata } = (item.metadata ?? {}) as Record<string, unknown>;
  return { ...item, apiVersion: r.apiVersion, kind: r.kind, metadata } as unknown as KubeObject;
}

const NAMESPACE: Resource = { kind: "Namespace", apiVersion: "v1", plural: "namespaces" };
const CONFIGMAP: Resource = { kind: "ConfigMap", apiVersion: "v1", plural: "configmaps" };

/**
 * Each running workload once. A live cluster holds a Deployment, its ReplicaSets (the current one
 * and old ones scaled to 0) and their Pods; a CronJob, its Jobs and their Pods. The rule is the
 * model's own (ownedByInputController): an object whose controller ownerReference names an object
 * that was read is that controller's, and is dropped. A controller the reader does not list (an
 * operator's custom resource, an Argo Rollout) hides nothing: its top-most read object stands for
 * it. Dropping "everything with a controller" instead would lose those workloads entirely.
 */
export function topLevelWorkloads(objects: readonly KubeObject[]): KubeObject[] {
  const present = new Set(objects.filter((o) => isWorkloadKind(o.kind)).map((o) => objectRef(o.kind, namespaceOf(o), o.metadata.name)));
  return objects.filter((o) => !isWorkloadKind(o.kind) || !ownedByInputController(o, present));
}

/** Reads the model's input from the cluster of `access` for `scope`. */
export async function readCluster(access: ClusterAccess, scope: ReadScope = {}): Promise<ClusterRead> {
  const lib = require("@kubernetes/client-node") as typeof k8s;
  let kc: k8s.KubeConfig;
  try {
    kc = loadKubeConfig(lib, access);
  } catch (e) {
    throw clusterReadError((e as Error).message);
  }
  const w: Where = { kc, timeoutMs: scope.timeoutMs ?? 30_000 };
  const concurrency = scope.concurrency ?? 8;
  const context = kc.getCurrentContext();
  const notices: string[] = [];
  const istioNamespace = scope.istioNamespace ?? ISTIOD_NAMESPACE;

  // The scope's Namespaces first: their labels decide injection, and a missing one is the user's error.
  let namespaceObjects: KubeObject[];
  let scopeNames: string[];
  let readNames: string[] | undefined;
  if (scope.allNamespaces) {
    namespaceObjects = (await list(w, NAMESPACE, undefined)) ?? [];
    scopeNames = namespaceObjects.map((n) => n.metadata.name).sort();
  } else {
    const contextNamespace = kc.getContextObject(context)?.namespace;
    scopeNames = [...new Set(scope.namespaces && scope.namespaces.length > 0 ? scope.namespaces : [contextNamespace || "default"])].sort();
    const optional = [...new Set(scope.optionalNamespaces ?? [])].filter((n) => !scopeNames.includes(n));
    const found = await boundedAll([...scopeNames, ...optional].map((n) => () => read(w, NAMESPACE, undefined, n)), concurrency);
    const missing = scopeNames.filter((_, i) => !found[i]);
    if (missing.length > 0) {
      throw clusterReadError(`namespace${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not found in context ${JSON.stringify(context)} (check the name, or list them: kubectl get namespaces --context ${context})`);
    }
    optional.forEach((n, i) => {
      if (!found[scopeNames.length + i]) notices.push(`namespace ${n} does not exist in context ${JSON.stringify(context)}; nothing read from it`);
    });
    namespaceObjects = found.filter((n): n is KubeObject => n !== undefined);
    readNames = namespaceObjects.map((n) => n.metadata.name).sort();
  }

  // The mesh ConfigMap names the root namespace, whose Istio objects apply mesh-wide.
  const meshConfigMap = await read(w, CONFIGMAP, istioNamespace, MESH_CONFIGMAP);
  if (!meshConfigMap) notices.push(`no ConfigMap ${istioNamespace}/${MESH_CONFIGMAP}: predicting with Istio's mesh defaults (root namespace ${DEFAULT_MESH_CONFIG.rootNamespace}, trust domain ${DEFAULT_MESH_CONFIG.trustDomain})`);
  let rootNamespace = DEFAULT_MESH_CONFIG.rootNamespace;
  try {
    if (meshConfigMap) rootNamespace = parseMeshConfig(meshConfigMap).rootNamespace;
  } catch {
    // The model reports a broken mesh config itself, naming the ConfigMap.
  }

  // Cluster-wide lists for all namespaces (one request per kind); per namespace otherwise.
  const jobs: { r: Resource; namespace: string | undefined }[] = [{ r: WEBHOOKS, namespace: undefined }];
  for (const r of NAMESPACED) {
    if (readNames === undefined) {
      jobs.push({ r, namespace: undefined });
      continue;
    }
    const namespaces = new Set(readNames);
    if (r.root) namespaces.add(rootNamespace);
    for (const n of [...namespaces].sort()) jobs.push({ r, namespace: n });
  }
  const lists = await boundedAll(jobs.map((j) => () => list(w, j.r, j.namespace)), concurrency);
  const unserved = new Set<string>();
  const objects: KubeObject[] = [...namespaceObjects, ...(meshConfigMap ? [meshConfigMap] : [])];
  lists.forEach((items, i) => {
    const { r } = jobs[i]!;
    if (items) objects.push(...items);
    else if (r.istio) unserved.add(`${r.kind} (${r.apiVersion})`);
    else throw clusterReadError(`the API server of context ${JSON.stringify(context)} does not serve ${r.plural} (${r.apiVersion}): 404 on list`);
  });
  if (unserved.size > 0) {
    notices.push(`not served by the API server, read as none: ${[...unserved].join(", ")} (are Istio's CRDs installed, at Istio 1.22 or later?)`);
  }
  return {
    objects: topLevelWorkloads(objects),
    notices,
    namespaces: readNames ?? ["*"],
    scope: scopeNames,
    context,
    rootNamespace,
  };
}
