/**
 * Which DestinationRule applies to a sidecar client's requests for a host (istio/istio
 * pilot/pkg/model/push_context.go destinationRule, rules §C 10): reading the rules, merging them
 * per host as istiod does (same-host rules with different exportTo stay apart, and the last one
 * visible to the client wins), exportTo visibility. What the client then sends is upstream-tls.ts
 * and client-sends.ts.
 */
import { destinationRuleSpecProblems } from "../destination-rule-rules";
import { describeProblem } from "../shape-problem";
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
  // What istiod's validating webhook refuses never reaches the cluster: the model refuses it too.
  const [problem] = destinationRuleSpecProblems(spec, namespace);
  if (problem) throw new ModelInputError(ref, `Istio's validation rejects it: ${describeProblem(problem)}`);
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

/**
 * One entry of Istio's per-namespace index (ConsolidatedDestRule): a rule, and the later rules
 * with the same host merged into it (istio/istio pilot/pkg/model/destination_rule.go
 * mergeDestinationRule). The oldest rule's trafficPolicy wins; exportTo stays the first rule's.
 */
export interface ConsolidatedRule {
  host: string;
  /** exportTo as written by the first rule (empty: the mesh default "*"). */
  exportTo: ReadonlySet<string>;
  /** The rule whose trafficPolicy applies (undefined: none of them has one). */
  applied: DestinationRuleEntry | undefined;
  refs: string[];
}

interface HostIndex {
  exact: Map<string, ConsolidatedRule[]>;
  /** Longest (most specific) first once built. */
  wildcards: [string, ConsolidatedRule[]][];
}

function hostMatches(wildcard: string, hostname: string): boolean {
  return hostname.endsWith(wildcard.slice(1));
}

/** MostSpecificHostMatch (pilot/pkg/model/config.go): the exact host, else the longest matching wildcard. */
function mostSpecific(index: HostIndex | undefined, hostname: string): ConsolidatedRule[] | undefined {
  if (!index) return undefined;
  const exact = index.exact.get(hostname);
  if (exact) return exact;
  for (const [host, list] of index.wildcards) if (hostMatches(host, hostname)) return list;
  return undefined;
}

const setsEqual = (a: ReadonlySet<string>, b: ReadonlySet<string>) => a.size === b.size && [...a].every((x) => b.has(x));
const isSuperset = (a: ReadonlySet<string>, b: ReadonlySet<string>) => [...b].every((x) => a.has(x));

/**
 * mergeDestinationRule with ENABLE_ENHANCED_DESTINATIONRULE_MERGE (on by default,
 * pilot/pkg/features/experimental.go): a rule merges into each earlier entry of its host whose
 * exportTo equals its own, or is a non-empty subset of it; it is also kept as an entry of its own
 * when the last entry looked at could not take it. exportTo sets compare as written ("." is not
 * the namespace's name). Rules with a workloadSelector are not modelled, so every rule here has none.
 */
function merge(index: HostIndex, rule: DestinationRuleEntry): void {
  const exportTo = new Set(rule.exportTo);
  const own = (): ConsolidatedRule => ({ host: rule.host, exportTo, applied: rule.hasTrafficPolicy ? rule : undefined, refs: [rule.ref] });
  const wildcard = rule.host.startsWith("*");
  const list = wildcard ? index.wildcards.find(([h]) => h === rule.host)?.[1] : index.exact.get(rule.host);
  if (!list) {
    if (wildcard) index.wildcards.push([rule.host, [own()]]);
    else index.exact.set(rule.host, [own()]);
    return;
  }
  let appendSeparately = true;
  for (const mdr of list) {
    if (!setsEqual(exportTo, mdr.exportTo) && !(mdr.exportTo.size > 0 && isSuperset(exportTo, mdr.exportTo))) {
      appendSeparately = true;
      continue;
    }
    // Both without workloadSelector: merged.
    appendSeparately = false;
    mdr.refs.push(rule.ref);
    if (!mdr.applied && rule.hasTrafficPolicy) mdr.applied = rule;
  }
  if (appendSeparately) list.push(own());
}

function buildIndex(rules: DestinationRuleEntry[]): HostIndex {
  const index: HostIndex = { exact: new Map(), wildcards: [] };
  for (const r of rules) merge(index, r);
  index.wildcards.sort((a, b) => b[0].length - a[0].length);
  return index;
}

export class DestinationRuleIndex {
  private readonly local = new Map<string, HostIndex>();
  private readonly exported = new Map<string, HostIndex>();
  private readonly rootLocal: HostIndex;
  readonly ignored: { ref: string; why: string }[] = [];

  /**
   * push_context.go setDestinationRules: oldest first, each rule into its namespace's local index
   * when visible there (exportTo empty, ".", "*" or the namespace), and into the exported index
   * unless it is private (only "." or the namespace); a private rule of the root namespace into
   * the root's own index.
   */
  constructor(rules: readonly DestinationRuleEntry[], private readonly rootNamespace: string) {
    const localByNs = new Map<string, DestinationRuleEntry[]>();
    const exportedByNs = new Map<string, DestinationRuleEntry[]>();
    const rootLocal: DestinationRuleEntry[] = [];
    for (const r of oldestFirst(rules)) {
      if (r.hasWorkloadSelector) {
        this.ignored.push({ ref: r.ref, why: "workloadSelector DestinationRules are not modelled" });
        continue;
      }
      const ex = r.exportTo;
      if (ex.length === 0 || ex.some((e) => e === "." || e === "*" || e === r.namespace)) push(localByNs, r.namespace, r);
      const privateOnly = ex.length === 1 && (ex[0] === "." || ex[0] === r.namespace);
      if (!privateOnly) push(exportedByNs, r.namespace, r);
      else if (r.namespace === rootNamespace) rootLocal.push(r);
    }
    for (const [ns, list] of localByNs) this.local.set(ns, buildIndex(list));
    for (const [ns, list] of exportedByNs) this.exported.set(ns, buildIndex(list));
    this.rootLocal = buildIndex(rootLocal);
  }

  /**
   * push_context.go destinationRule: the client's namespace first (the root namespace's clients
   * read only its private rules there), then the service's namespace and the root namespace, each
   * yielding the entries of its most specific host that are exported to the client. Of the entries
   * found, the sidecar applies the last one (sidecar.go SidecarScope.DestinationRule).
   */
  lookup(clientNamespace: string, hostname: string, serviceNamespace: string): ConsolidatedRule | undefined {
    const own = mostSpecific(clientNamespace === this.rootNamespace ? this.rootLocal : this.local.get(clientNamespace), hostname);
    if (own) return own[own.length - 1];
    for (const ns of [serviceNamespace, this.rootNamespace]) {
      const found = (mostSpecific(this.exported.get(ns), hostname) ?? []).filter(
        (c) => c.exportTo.size === 0 || c.exportTo.has("*") || c.exportTo.has(clientNamespace),
      );
      if (found.length > 0) return found[found.length - 1];
    }
    return undefined;
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
