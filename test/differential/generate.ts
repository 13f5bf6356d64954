/**
 * Seeded generator of valid configurations over the demo (httpbin and sleep in foo, bar, legacy),
 * for the differential test. Weighted so that interactions are common: injection labels against
 * revisions and opt-outs, PeerAuthentication at every level with port-level and UNSET modes and
 * ties, DestinationRules with every host form and exportTo (same-host rules in one namespace),
 * AuthorizationPolicies by principal, namespace and port, and a few objects Istio's validation
 * refuses. Client TLS other than Istio's (SIMPLE, MUTUAL), JWT and `when` conditions are not
 * generated: the oracle does not evaluate them (tools/oracle).
 */
import { buildHttpbin } from "../../mesh/builders/httpbin";
import { buildNamespace } from "../../mesh/builders/namespace";
import { buildSleep } from "../../mesh/builders/sleep";
import type { KubeObject } from "../../mesh/types";

export const NAMESPACES = ["foo", "bar", "legacy"] as const;
export const ROOT_NAMESPACE = "istio-system";
/** Revisions whose injection webhook a scenario may install; "stable" is labelled but never installed. */
export const REVISIONS = ["default", "canary"] as const;

/** The chart's injection webhooks per revision (the oracle renders them: `-render-webhooks`). */
export type Webhooks = Readonly<Record<(typeof REVISIONS)[number], KubeObject>>;

export interface Scenario {
  /** `<seed>#<index>`: `SEED=<seed>` and the index regenerate it. */
  id: string;
  objects: KubeObject[];
}

/** mulberry32: small, fast, and the same sequence on every platform. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  /** Weighted choice: [weight, value] pairs. */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of choices) {
      if ((r -= w) < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }
}

/** The seed of scenario `index` of a run seeded `seed`. */
export function scenarioSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
}

const TIMESTAMPS = ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"];

type Labels = Record<string, string>;

function namespaceLabels(r: Random, ns: string): Labels {
  const demo: Labels = ns === "legacy" ? {} : { "istio-injection": "enabled" };
  return r.weighted<Labels>([
    [14, demo],
    [2, ns === "legacy" ? { "istio-injection": "enabled" } : {}],
    [1, { "istio-injection": "disabled" }],
    [2, { "istio.io/rev": "default" }],
    [3, { "istio.io/rev": "canary" }],
    [1, { "istio-injection": "enabled", "istio.io/rev": "canary" }],
    [1, { "istio.io/rev": "stable" }],
  ]);
}

/** Pod template labels and annotations that decide injection. */
function podInjection(r: Random): { labels: Labels; annotations: Labels } {
  const labels: Labels = {};
  const annotations: Labels = {};
  if (r.chance(0.75)) return { labels, annotations };
  if (r.chance(0.5)) labels["sidecar.istio.io/inject"] = r.pick(["true", "false", "no"]);
  if (r.chance(0.4)) annotations["sidecar.istio.io/inject"] = r.pick(["true", "false", "off"]);
  if (r.chance(0.3)) labels["istio.io/rev"] = r.pick(["canary", "default"]);
  return { labels, annotations };
}

function demoWorkloads(r: Random, ns: string): KubeObject[] {
  const httpbin = buildHttpbin(ns);
  const sleep = buildSleep(ns);
  for (const d of [httpbin.deployment, sleep.deployment]) {
    const inj = podInjection(r);
    d.spec.template.metadata.labels = { ...d.spec.template.metadata.labels, ...inj.labels };
    if (Object.keys(inj.annotations).length > 0) d.spec.template.metadata.annotations = inj.annotations;
  }
  if (r.chance(0.04)) httpbin.deployment.spec.replicas = 0;
  // The Service reaches the container port by its name.
  if (r.chance(0.1)) httpbin.service.spec.ports = httpbin.service.spec.ports.map((p) => ({ ...p, targetPort: "http" }));
  const out: KubeObject[] = [httpbin.service, httpbin.deployment, sleep.deployment];
  // A second httpbin behind the same Service, injected its own way: endpoints that may differ.
  if (r.chance(0.1)) {
    const v2 = structuredClone(httpbin.deployment);
    v2.metadata = { ...v2.metadata, name: "httpbin-v2", labels: { app: "httpbin", version: "v2" } };
    v2.spec.selector = { matchLabels: { app: "httpbin", version: "v2" } };
    const inj = podInjection(r);
    v2.spec.template.metadata = { labels: { app: "httpbin", version: "v2", ...inj.labels }, ...(Object.keys(inj.annotations).length ? { annotations: inj.annotations } : {}) };
    out.push(v2);
  }
  return out;
}

/** The demo as the seed documents have it: what the shrinker resets objects to. */
export function plainDemo(): KubeObject[] {
  const out: KubeObject[] = [];
  for (const ns of NAMESPACES) {
    out.push(buildNamespace({ name: ns, injection: ns === "legacy" ? undefined : true }));
    const h = buildHttpbin(ns);
    out.push(h.service, h.deployment, buildSleep(ns).deployment);
  }
  return out;
}

/** Some objects carry a creationTimestamp (some equal): the others are applied with the scenario, later. */
function meta(r: Random, namespace: string, name: string): KubeObject["metadata"] {
  const m: KubeObject["metadata"] = { name, namespace };
  if (r.chance(0.3)) m.creationTimestamp = r.pick(TIMESTAMPS);
  return m;
}

const MODES = ["DISABLE", "PERMISSIVE", "STRICT"] as const;

function mode(r: Random): Record<string, unknown> | undefined {
  return r.weighted<Record<string, unknown> | undefined>([
    [1, undefined],
    [1, { mode: "UNSET" }],
    [5, { mode: "DISABLE" }],
    [5, { mode: "PERMISSIVE" }],
    [7, { mode: "STRICT" }],
  ]);
}

function peerAuthentication(r: Random): KubeObject {
  const level = r.weighted([
    [5, "mesh"],
    [7, "namespace"],
    [7, "workload"],
    [1, "root-selector"],
  ] as const);
  const namespace = level === "mesh" || level === "root-selector" ? ROOT_NAMESPACE : r.pick(NAMESPACES);
  const name = r.weighted([
    [4, "default"],
    [2, "a"],
    [2, "b"],
    [1, "z"],
  ] as const);
  const spec: Record<string, unknown> = {};
  const m = mode(r);
  if (m) spec.mtls = m;
  if (level === "workload" || level === "root-selector") {
    spec.selector = { matchLabels: { app: r.weighted([[7, "httpbin"], [3, "sleep"]] as const) } };
    if (level === "workload" && r.chance(0.4)) {
      const port = r.weighted([[9, "8080"], [1, "8000"]] as const);
      spec.portLevelMtls = { [port]: { mode: r.weighted([[1, "UNSET"], ...MODES.map((x) => [3, x] as const)]) } };
    }
  }
  return { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: meta(r, namespace, name), spec };
}

function drHost(r: Random, drNamespace: string): string {
  const target = r.weighted([
    [3, drNamespace === ROOT_NAMESPACE ? "foo" : drNamespace],
    [3, r.pick(NAMESPACES)],
  ]);
  return r.weighted([
    [3, "httpbin"],
    [1, `httpbin.${target}`],
    [5, `httpbin.${target}.svc.cluster.local`],
    [2, `*.${target}.svc.cluster.local`],
    [1, "*.svc.cluster.local"],
    [2, "*.local"],
    [1, "*"],
  ]);
}

function exportTo(r: Random, drNamespace: string): string[] | undefined {
  return r.weighted<string[] | undefined>([
    [10, undefined],
    [3, ["."]],
    [2, ["*"]],
    [3, [r.pick(NAMESPACES)]],
    [2, [".", r.pick(NAMESPACES.filter((n) => n !== drNamespace))]],
  ]);
}

function tls(r: Random): Record<string, unknown> | undefined {
  return r.weighted<Record<string, unknown> | undefined>([
    [8, { mode: "ISTIO_MUTUAL" }],
    [7, { mode: "DISABLE" }],
    [2, undefined],
  ]);
}

/** Istio refuses a trafficPolicy or port entry without any field: one without tls gets a load balancer. */
const LOAD_BALANCER = { simple: "ROUND_ROBIN" };

function trafficPolicy(r: Random): Record<string, unknown> | undefined {
  if (r.chance(0.12)) return undefined;
  const tp: Record<string, unknown> = {};
  const top = tls(r);
  if (top) tp.tls = top;
  if (r.chance(0.25)) {
    const entry: Record<string, unknown> = { port: { number: r.weighted([[8, 8000], [2, 8080]] as const) } };
    const portTls = tls(r);
    if (portTls) entry.tls = portTls;
    else entry.loadBalancer = LOAD_BALANCER;
    tp.portLevelSettings = [entry];
  }
  if (Object.keys(tp).length === 0) tp.loadBalancer = LOAD_BALANCER;
  return tp;
}

function destinationRule(r: Random, namespace: string, name: string, host: string, exported: string[] | undefined): KubeObject {
  const spec: Record<string, unknown> = { host };
  const tp = trafficPolicy(r);
  if (tp) spec.trafficPolicy = tp;
  if (exported) spec.exportTo = exported;
  return { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: meta(r, namespace, name), spec };
}

function destinationRules(r: Random): KubeObject[] {
  const out: KubeObject[] = [];
  const n = r.weighted([[7, 0], [6, 1], [4, 2], [3, 3]] as const);
  for (let i = 0; i < n; i++) {
    const ns = r.weighted([[6, r.pick(NAMESPACES)], [2, ROOT_NAMESPACE]]);
    out.push(destinationRule(r, ns, `dr-${i}`, drHost(r, ns), exportTo(r, ns)));
  }
  // Same host, same namespace, different exportTo: istiod keeps them apart.
  if (r.chance(0.2)) {
    const ns = r.weighted([[6, r.pick(NAMESPACES)], [1, ROOT_NAMESPACE]]);
    const host = drHost(r, ns);
    const first = exportTo(r, ns);
    out.push(destinationRule(r, ns, "same-host-a", host, first));
    out.push(destinationRule(r, ns, "same-host-b", host, r.chance(0.2) ? first : exportTo(r, ns)));
  }
  return out;
}

const PRINCIPALS = [
  "cluster.local/ns/foo/sa/sleep",
  "cluster.local/ns/bar/sa/sleep",
  "cluster.local/ns/legacy/sa/sleep",
  "cluster.local/ns/foo/sa/httpbin",
  "cluster.local/ns/bar/*",
  "*/sa/sleep",
  "*",
];
const SOURCE_NAMESPACES = ["foo", "bar", "legacy", "*", "ba*"];

function some(r: Random, pool: readonly string[]): string[] {
  const first = r.pick(pool);
  if (!r.chance(0.3)) return [first];
  const second = r.pick(pool);
  return second === first ? [first] : [first, second];
}

function rule(r: Random): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const from = r.chance(0.75);
  const to = !from || r.chance(0.35);
  if (from) {
    const field = r.pick(["principals", "notPrincipals", "namespaces", "notNamespaces"] as const);
    out.from = [{ source: { [field]: some(r, field.toLowerCase().includes("principal") ? PRINCIPALS : SOURCE_NAMESPACES) } }];
  }
  if (to) {
    const field = r.weighted([[3, "ports"], [1, "notPorts"]] as const);
    out.to = [{ operation: { [field]: [r.weighted([[3, "8080"], [1, "8000"]] as const)] } }];
  }
  return out;
}

function authorizationPolicy(r: Random, i: number): KubeObject {
  const ns = r.weighted([[6, r.pick(NAMESPACES)], [1, ROOT_NAMESPACE]]);
  const action = r.pick(["ALLOW", "DENY"] as const);
  const spec: Record<string, unknown> = {};
  if (action === "DENY" || r.chance(0.5)) spec.action = action;
  const sel = r.weighted<string | undefined>([[5, undefined], [4, "httpbin"], [1, "sleep"]]);
  if (sel) spec.selector = { matchLabels: { app: sel } };
  const shape = r.weighted([
    [1, "allow-all"],
    [action === "ALLOW" ? 1 : 0, "no-rules"],
    [8, "rules"],
  ] as const);
  if (shape === "allow-all") spec.rules = [{}];
  else if (shape === "rules") spec.rules = Array.from({ length: r.chance(0.25) ? 2 : 1 }, () => rule(r));
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: meta(r, ns, `ap-${i}`), spec };
}

/** Objects istiod's validation refuses: both sides must refuse the scenario. */
function invalidObject(r: Random): KubeObject {
  return r.pick([
    { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "deny-without-rules", namespace: "foo" }, spec: { action: "DENY" } },
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "ports-without-selector", namespace: "foo" },
      spec: { portLevelMtls: { "8080": { mode: "DISABLE" } } },
    },
    {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "empty-source", namespace: "bar" },
      spec: { rules: [{ from: [{ source: {} }] }] },
    },
    {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "empty-port-entry", namespace: "foo" },
      spec: { host: "httpbin", trafficPolicy: { portLevelSettings: [{ port: { number: 8000 } }] } },
    },
    { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "empty-policy", namespace: "bar" }, spec: { host: "httpbin", trafficPolicy: {} } },
    {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: { name: "public-and-more", namespace: "legacy" },
      spec: { host: "httpbin", exportTo: ["*", "foo"], trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } },
    },
  ]);
}

function meshConfig(r: Random): KubeObject[] {
  const enable = r.weighted<boolean | undefined>([[14, undefined], [4, false], [2, true]]);
  // Another trust domain: identities change, and policies naming cluster.local meet them.
  const trustDomain = r.chance(0.06) ? "example.org" : undefined;
  if (enable === undefined && trustDomain === undefined) return [];
  const mesh = `${enable !== undefined ? `enableAutoMtls: ${enable}\n` : ""}${trustDomain ? `trustDomain: ${trustDomain}\n` : ""}`;
  return [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: ROOT_NAMESPACE }, data: { mesh } }];
}

function installedWebhooks(r: Random, webhooks: Webhooks | undefined): KubeObject[] {
  if (!webhooks) return [];
  const installed = r.weighted<readonly (keyof Webhooks)[]>([
    [11, []],
    [3, ["default"]],
    [3, ["canary"]],
    [3, ["default", "canary"]],
  ]);
  return installed.map((rev) => structuredClone(webhooks[rev]));
}

/** Kind, namespace and name are unique, as in a cluster: a later duplicate is renamed. */
function uniqueNames(objects: KubeObject[]): KubeObject[] {
  const seen = new Set<string>();
  for (const o of objects) {
    let key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    for (let n = 2; seen.has(key); n++) {
      o.metadata = { ...o.metadata, name: `${o.metadata.name.replace(/-\d+$/, "")}-${n}` };
      key = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    }
    seen.add(key);
  }
  return objects;
}

export function generateScenario(seed: number, index: number, webhooks?: Webhooks): Scenario {
  const r = new Random(scenarioSeed(seed, index));
  const objects: KubeObject[] = [];
  for (const ns of NAMESPACES) {
    const l = namespaceLabels(r, ns);
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: Object.keys(l).length ? { name: ns, labels: l } : { name: ns } });
    objects.push(...demoWorkloads(r, ns));
  }
  objects.push(...installedWebhooks(r, webhooks));
  objects.push(...meshConfig(r));
  const pas = r.weighted([[3, 0], [6, 1], [6, 2], [3, 3], [2, 4]] as const);
  for (let i = 0; i < pas; i++) objects.push(peerAuthentication(r));
  objects.push(...destinationRules(r));
  const aps = r.weighted([[8, 0], [6, 1], [4, 2], [2, 3]] as const);
  for (let i = 0; i < aps; i++) objects.push(authorizationPolicy(r, i));
  if (r.chance(0.03)) objects.push(invalidObject(r));
  return { id: `${seed}#${index}`, objects: uniqueNames(objects) };
}
