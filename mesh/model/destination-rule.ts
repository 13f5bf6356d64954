/**
 * Which DestinationRule applies to a sidecar client's requests for a host (istio/istio
 * pilot/pkg/model/push_context.go destinationRule, rules §C 10): reading the rules, merging them
 * per host, exportTo visibility. What the client then sends is upstream-tls.ts and client-sends.ts.
 */
import { CLIENT_TLS_MODES, type ClientTlsMode, type KubeObject } from "../types";
import { ModelInputError, objectRef } from "./errors";
import { oldestFirst, type Aged } from "./order";
import { DNS_SUFFIX, namespaceOf } from "./workloads";

export interface PortTls {
  port: number;
  /** undefined: the entry has no `tls` block. */
  tls: ClientTlsMode | undefined;
}

export interface DestinationRuleEntry extends Aged {
  /** `DestinationRule <ns>/<name>`. */
  ref: string;
  /** FQDN or wildcard, short names already resolved in the rule's namespace. */
  host: string;
  exportTo: string[];
  hasTrafficPolicy: boolean;
  /** Top-level `trafficPolicy.tls.mode`; a `tls` block without a mode is DISABLE (the proto default). */
  tls: ClientTlsMode | undefined;
  portLevel: PortTls[];
  /** Rules with a workloadSelector apply only to selected client pods; the model does not apply them. */
  hasWorkloadSelector: boolean;
}

function readTls(ref: string, field: string, v: unknown): ClientTlsMode | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw new ModelInputError(ref, `${field} must be a mapping`);
  const mode = (v as { mode?: unknown }).mode;
  if (mode === undefined || mode === null) return "DISABLE";
  if (typeof mode !== "string" || !(CLIENT_TLS_MODES as readonly string[]).includes(mode)) {
    throw new ModelInputError(ref, `${field}.mode is ${JSON.stringify(mode)}; allowed: ${CLIENT_TLS_MODES.join(", ")}`);
  }
  return mode as ClientTlsMode;
}

/** Short host → `<host>.<rule namespace>.svc.cluster.local` (ResolveShortnameToFQDN); dotted and wildcard hosts stay. */
export function resolveHost(host: string, namespace: string): string {
  if (host.startsWith("*") || host.includes(".")) return host;
  return `${host}.${namespace}.${DNS_SUFFIX}`;
}

export function readDestinationRule(o: KubeObject, position: number): DestinationRuleEntry {
  const namespace = namespaceOf(o);
  const ref = objectRef("DestinationRule", namespace, o.metadata.name);
  const spec = o.spec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== "object") throw new ModelInputError(ref, "spec is missing");
  if (typeof spec.host !== "string" || spec.host === "") {
    throw new ModelInputError(ref, `spec.host must be a host name, found ${JSON.stringify(spec.host)}`);
  }
  const exportTo = spec.exportTo ?? [];
  if (!Array.isArray(exportTo) || exportTo.some((e) => typeof e !== "string")) {
    throw new ModelInputError(ref, `spec.exportTo must be a list of namespaces, ".", or "*", found ${JSON.stringify(exportTo)}`);
  }
  const tp = spec.trafficPolicy as Record<string, unknown> | undefined | null;
  const portLevel: PortTls[] = [];
  const pls = tp?.portLevelSettings;
  if (pls !== undefined && pls !== null) {
    if (!Array.isArray(pls)) throw new ModelInputError(ref, "spec.trafficPolicy.portLevelSettings must be a list");
    pls.forEach((entry, i) => {
      const e = entry as Record<string, unknown>;
      const num = (e?.port as { number?: unknown } | undefined)?.number;
      if (typeof num !== "number" || !Number.isInteger(num) || num < 1 || num > 65535) {
        throw new ModelInputError(ref, `spec.trafficPolicy.portLevelSettings[${i}].port.number must be 1..65535, found ${JSON.stringify(num)}`);
      }
      portLevel.push({ port: num, tls: readTls(ref, `spec.trafficPolicy.portLevelSettings[${i}].tls`, e.tls) });
    });
  }
  const created = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp) : undefined;
  const ws = spec.workloadSelector as { matchLabels?: Record<string, string> } | undefined;
  return {
    name: o.metadata.name,
    namespace,
    created: created !== undefined && !Number.isNaN(created) ? created : undefined,
    position,
    ref: `DestinationRule ${namespace}/${o.metadata.name}`,
    host: resolveHost(spec.host, namespace),
    exportTo: exportTo as string[],
    hasTrafficPolicy: tp !== undefined && tp !== null,
    tls: readTls(ref, "spec.trafficPolicy.tls", tp?.tls),
    portLevel,
    hasWorkloadSelector: !!ws && !!ws.matchLabels && Object.keys(ws.matchLabels).length > 0,
  };
}

/** Rules for one host in one namespace, merged as Istio does: oldest first, first trafficPolicy wins. */
interface Consolidated {
  host: string;
  /** The rule whose trafficPolicy applies (undefined: none of them has one). */
  applied: DestinationRuleEntry | undefined;
  refs: string[];
  /** Union of exportTo; empty means the mesh default "*". */
  exportTo: Set<string>;
}

interface HostIndex {
  exact: Map<string, Consolidated>;
  /** Longest (most specific) first. */
  wildcards: Consolidated[];
}

function hostMatches(wildcard: string, hostname: string): boolean {
  if (wildcard === "*") return true;
  return hostname.endsWith(wildcard.slice(1));
}

function mostSpecific(index: HostIndex | undefined, hostname: string): Consolidated | undefined {
  if (!index) return undefined;
  const exact = index.exact.get(hostname);
  if (exact) return exact;
  for (const w of index.wildcards) if (hostMatches(w.host, hostname)) return w;
  return undefined;
}

function buildIndex(rules: DestinationRuleEntry[]): HostIndex {
  const byHost = new Map<string, Consolidated>();
  for (const r of rules) {
    let c = byHost.get(r.host);
    if (!c) {
      c = { host: r.host, applied: undefined, refs: [], exportTo: new Set() };
      byHost.set(r.host, c);
    }
    c.refs.push(r.ref);
    if (!c.applied && r.hasTrafficPolicy) c.applied = r;
    for (const e of r.exportTo.length ? r.exportTo : ["*"]) c.exportTo.add(e === "." ? r.namespace : e);
  }
  const exact = new Map<string, Consolidated>();
  const wildcards: Consolidated[] = [];
  for (const c of byHost.values()) (c.host.startsWith("*") ? wildcards.push(c) : exact.set(c.host, c));
  wildcards.sort((a, b) => b.host.length - a.host.length);
  return { exact, wildcards };
}

export class DestinationRuleIndex {
  private readonly local = new Map<string, HostIndex>();
  private readonly exported = new Map<string, HostIndex>();
  readonly ignored: { ref: string; why: string }[] = [];

  constructor(rules: readonly DestinationRuleEntry[], private readonly rootNamespace: string) {
    const localByNs = new Map<string, DestinationRuleEntry[]>();
    const exportedByNs = new Map<string, DestinationRuleEntry[]>();
    for (const r of oldestFirst(rules)) {
      if (r.hasWorkloadSelector) {
        this.ignored.push({ ref: r.ref, why: "workloadSelector DestinationRules are not modelled" });
        continue;
      }
      const ex = r.exportTo.length ? r.exportTo : ["*"];
      // Visible in its own namespace when exported to ".", "*" or its own name (push_context.go SetDestinationRules).
      if (ex.some((e) => e === "." || e === "*" || e === r.namespace)) push(localByNs, r.namespace, r);
      if (!ex.every((e) => e === "." || e === r.namespace)) push(exportedByNs, r.namespace, r);
    }
    for (const [ns, list] of localByNs) this.local.set(ns, buildIndex(list));
    for (const [ns, list] of exportedByNs) this.exported.set(ns, buildIndex(list));
  }

  /** Client namespace, then the service's namespace (exported rules), then the root namespace (exported rules). */
  lookup(clientNamespace: string, hostname: string, serviceNamespace: string): Consolidated | undefined {
    const own = mostSpecific(this.local.get(clientNamespace), hostname);
    if (own) return own;
    for (const ns of [serviceNamespace, this.rootNamespace]) {
      const c = mostSpecific(this.exported.get(ns), hostname);
      // The most specific host in that namespace decides; if it is not exported here, the namespace yields nothing.
      if (c && (c.exportTo.has("*") || c.exportTo.has(clientNamespace))) return c;
    }
    return undefined;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
