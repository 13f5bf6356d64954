/**
 * A local Kubernetes API server (127.0.0.1 only) serving a fixed set of objects as the real one
 * does for GET: lists (cluster-wide or per namespace, paged by limit/continue, items without
 * apiVersion/kind, with managedFields), single objects, 404 for kinds not served, 401 for a wrong
 * bearer token, 403 with the API server's Status message for denied requests. For the live reader
 * (probe/cluster-read.ts), the CLI's --kube commands and the bench.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeObject } from "../../mesh/types";

/** kind → [apiVersion, plural, namespaced], for every kind the reader lists. */
const KINDS: Record<string, [string, string, boolean]> = {
  Namespace: ["v1", "namespaces", false],
  ConfigMap: ["v1", "configmaps", true],
  Service: ["v1", "services", true],
  Pod: ["v1", "pods", true],
  ReplicationController: ["v1", "replicationcontrollers", true],
  Deployment: ["apps/v1", "deployments", true],
  StatefulSet: ["apps/v1", "statefulsets", true],
  DaemonSet: ["apps/v1", "daemonsets", true],
  ReplicaSet: ["apps/v1", "replicasets", true],
  Job: ["batch/v1", "jobs", true],
  CronJob: ["batch/v1", "cronjobs", true],
  MutatingWebhookConfiguration: ["admissionregistration.k8s.io/v1", "mutatingwebhookconfigurations", false],
  PeerAuthentication: ["security.istio.io/v1", "peerauthentications", true],
  RequestAuthentication: ["security.istio.io/v1", "requestauthentications", true],
  AuthorizationPolicy: ["security.istio.io/v1", "authorizationpolicies", true],
  DestinationRule: ["networking.istio.io/v1", "destinationrules", true],
  VirtualService: ["networking.istio.io/v1", "virtualservices", true],
  ServiceEntry: ["networking.istio.io/v1", "serviceentries", true],
  Sidecar: ["networking.istio.io/v1", "sidecars", true],
  EnvoyFilter: ["networking.istio.io/v1alpha3", "envoyfilters", true],
  Gateway: ["networking.istio.io/v1", "gateways", true],
};

export interface FakeApiWorld {
  objects: KubeObject[];
  /** API groups not served (their CRDs absent): every path under them is 404. */
  unservedGroups?: string[];
  /** Denied requests: `<verb> <plural> <namespace or "">`, e.g. "list deployments foo", "list mutatingwebhookconfigurations ". */
  forbid?: string[];
  /** Items per page at most (the reader asks for 500). */
  pageSize?: number;
}

export interface FakeApiServer {
  url: string;
  token: string;
  requests: string[];
  world: FakeApiWorld;
  kubeconfig(options?: { token?: string; namespace?: string; contexts?: string[]; current?: string; server?: string }): string;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });

export async function startFakeApiServer(world: FakeApiWorld): Promise<FakeApiServer> {
  const token = "fake-api-token";
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader("content-type", "application/json");
    const send = (code: number, body: string) => {
      res.statusCode = code;
      res.end(body);
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, "Unauthorized", "Unauthorized"));
    const url = new URL(req.url ?? "/", "http://x");
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return send(404, status(404, "NotFound", "the server could not find the requested resource"));
    const [, core, group, version, namespace, plural, name] = m;
    const apiVersion = core ? "v1" : `${group}/${version}`;
    // /api/v1/namespaces/<name>: the Namespace itself, not a list in it.
    const isNamespaceGet = core && namespace === undefined && plural === "namespaces" && name !== undefined;
    const kind = Object.keys(KINDS).find((k) => KINDS[k]![0] === apiVersion && KINDS[k]![1] === plural);
    if (!kind || (group && world.unservedGroups?.includes(group))) return send(404, status(404, "NotFound", "the server could not find the requested resource"));
    const verb = name !== undefined || isNamespaceGet ? "get" : "list";
    if (world.forbid?.includes(`${verb} ${plural} ${namespace ?? ""}`)) {
      const where = namespace ? ` in the namespace "${namespace}"` : " at the cluster scope";
      return send(403, status(403, "Forbidden", `${plural}${group ? `.${group}` : ""} is forbidden: User "alice" cannot ${verb} resource "${plural}" in API group "${group ?? ""}"${where}`));
    }
    const ofKind = world.objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
    const shown = (o: KubeObject) => {
      // As the API server sends them: list items without apiVersion/kind, managedFields present.
      const { apiVersion: _a, kind: _k, ...rest } = o;
      return { ...rest, metadata: { ...o.metadata, managedFields: [{ manager: "kubectl", operation: "Apply" }] } };
    };
    if (verb === "get") {
      const o = ofKind.find((x) => x.metadata.name === name);
      return o ? send(200, JSON.stringify({ apiVersion, kind, ...shown(o) })) : send(404, status(404, "NotFound", `${plural} "${name}" not found`));
    }
    const limit = Math.min(Number(url.searchParams.get("limit") ?? "0") || Infinity, world.pageSize ?? Infinity);
    const start = Number(url.searchParams.get("continue") ?? "0");
    const page = ofKind.slice(start, start + limit);
    const more = start + limit < ofKind.length;
    send(200, JSON.stringify({ apiVersion, kind: `${kind}List`, metadata: more ? { continue: String(start + limit) } : {}, items: page.map(shown) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    token,
    requests,
    world,
    kubeconfig(o = {}) {
      const contexts = o.contexts ?? ["local"];
      return [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: local",
        "  cluster:",
        `    server: ${o.server ?? url}`,
        // client-node refuses plain HTTP otherwise; the local fake API server has no TLS.
        "    insecure-skip-tls-verify: true",
        "users:",
        "- name: alice",
        "  user:",
        `    token: ${o.token ?? token}`,
        "contexts:",
        ...contexts.flatMap((c) => [`- name: ${c}`, "  context:", "    cluster: local", "    user: alice", ...(o.namespace ? [`    namespace: ${o.namespace}`] : [])]),
        `current-context: ${o.current ?? contexts[0]}`,
        "",
      ].join("\n");
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * `objects` as a live cluster holds them: each Deployment with its ReplicaSet (and an old one
 * scaled to 0) and a Running Pod owned by the ReplicaSet, each CronJob with a Job and its Pod;
 * creation timestamps set. What the reader must count once.
 */
export function asLiveCluster(objects: readonly KubeObject[]): KubeObject[] {
  const out: KubeObject[] = [];
  const owner = (kind: string, name: string) => ({ ownerReferences: [{ apiVersion: KINDS[kind]![0], kind, name, uid: `uid-${name}`, controller: true }] });
  for (const o of objects) {
    out.push({ ...o, metadata: { ...o.metadata, creationTimestamp: "2026-01-01T00:00:00Z" } });
    const spec = (o as { spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: unknown }; replicas?: number } }).spec;
    if (o.kind !== "Deployment" || !spec?.template) continue;
    const ns = o.metadata.namespace;
    for (const [hash, replicas] of [["5d4f8c7b9", spec.replicas ?? 1], ["old1234", 0]] as const) {
      const rs = `${o.metadata.name}-${hash}`;
      const labels = { ...(spec.template.metadata?.labels ?? {}), "pod-template-hash": hash };
      out.push({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: rs, namespace: ns, labels, ...owner("Deployment", o.metadata.name) }, spec: { replicas, template: { ...spec.template, metadata: { labels } } } } as KubeObject);
      if (replicas > 0) {
        out.push({ apiVersion: "v1", kind: "Pod", metadata: { name: `${rs}-x7k2p`, namespace: ns, labels, ...owner("ReplicaSet", rs) }, spec: spec.template.spec, status: { phase: "Running" } } as KubeObject);
      }
    }
  }
  return out;
}
