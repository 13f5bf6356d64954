/**
 * What a sidecar client sends to a Service port: which DestinationRule applies
 * (istio/istio pilot/pkg/model/push_context.go destinationRule), the cluster's TLS settings
 * (pilot/pkg/networking/core/cluster_tls.go, util.MergeTrafficPolicy) and, under auto mTLS, the
 * per-endpoint decision (pilot/pkg/xds/endpoints/mtls_checker.go).
 */
import { CLIENT_TLS_MODES, type ClientTlsMode, type KubeObject } from "../types";
import { ModelInputError, objectRef } from "./errors";
import { oldestFirst, type Aged } from "./order";
import type { PeerAuthnIndex } from "./peer-authentication";
import { DNS_SUFFIX, namespaceOf, TLS_MODE_LABEL, type Endpoint, type ServicePort } from "./workloads";

export interface PortTls {
  port: number;
  /** undefined: the entry has no `tls` block. */
  mode: ClientTlsMode | undefined;
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
      portLevel.push({ port: num, mode: readTls(ref, `spec.trafficPolicy.portLevelSettings[${i}].tls`, e.tls) });
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
  policy: DestinationRuleEntry | undefined;
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
      c = { host: r.host, policy: undefined, refs: [], exportTo: new Set() };
      byHost.set(r.host, c);
    }
    c.refs.push(r.ref);
    if (!c.policy && r.hasTrafficPolicy) c.policy = r;
    for (const e of r.exportTo.length ? r.exportTo : ["*"]) c.exportTo.add(e === "." ? r.namespace : e);
  }
  const exact = new Map<string, Consolidated>();
  const wildcards: Consolidated[] = [];
  for (const c of byHost.values()) (c.host.startsWith("*") ? wildcards.push(c) : exact.set(c.host, c));
  wildcards.sort((a, b) => b.host.length - a.host.length);
  return { exact, wildcards };
}

/** What the client sidecar's cluster for this Service port does. */
export type ClientTlsPlan =
  | { kind: "destination-rule"; mode: ClientTlsMode; source: string }
  | { kind: "plaintext"; why: string }
  /** Auto mTLS: per endpoint. `checkerMode`: the top-level DR mode mtls_checker.go still reads when a port entry has no tls. */
  | { kind: "auto"; checkerMode: ClientTlsMode | undefined; source: string | undefined };

/** What the client sends to one endpoint. */
export interface Send {
  mtls: boolean;
  /** Non-Istio TLS (DR SIMPLE/MUTUAL): the model treats it as a failed handshake. */
  userTls: ClientTlsMode | undefined;
  /** Client side of the reason. */
  why: string;
  /** "sidecar client, <why>": built once, shared by every pair that sends this way. */
  clientPart: string;
}

function send(mtls: boolean, userTls: ClientTlsMode | undefined, why: string): Send {
  return { mtls, userTls, why, clientPart: `sidecar client, ${why}` };
}

export class DestinationRuleIndex {
  private readonly local = new Map<string, HostIndex>();
  private readonly exported = new Map<string, HostIndex>();
  private readonly plans = new Map<ServicePort, Map<string, Send[]>>();
  readonly ignored: { ref: string; why: string }[] = [];

  constructor(
    rules: readonly DestinationRuleEntry[],
    private readonly rootNamespace: string,
    private readonly enableAutoMtls: boolean,
    private readonly peerAuthn: PeerAuthnIndex,
  ) {
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

  plan(clientNamespace: string, sp: ServicePort): ClientTlsPlan {
    const c = this.lookup(clientNamespace, sp.hostname, sp.namespace);
    const p = c?.policy;
    let clusterTls: ClientTlsMode | undefined;
    let checkerMode: ClientTlsMode | undefined;
    let source: string | undefined;
    if (p) {
      const entry = p.portLevel.find((e) => e.port === sp.port);
      // util.MergeTrafficPolicy: a matching port entry replaces the top-level tls, even with none.
      clusterTls = entry ? entry.mode : p.tls;
      // mtls_checker.go trafficPolicyTLSModeForPort: a port entry counts only when it has tls.
      checkerMode = entry && entry.mode !== undefined ? entry.mode : p.tls;
      source = entry
        ? `${p.ref} portLevelSettings ${sp.port}${entry.mode ? ` ${entry.mode}` : " (no tls)"}`
        : `${p.ref}${p.tls ? ` ${p.tls}` : " (no tls)"}`;
    }
    if (clusterTls !== undefined) return { kind: "destination-rule", mode: clusterTls, source: source! };
    if (!this.enableAutoMtls) return { kind: "plaintext", why: `enableAutoMtls false${source ? `, ${source}` : ""}` };
    if (sp.headless && (sp.endpoints.length === 0 || sp.endpoints.some((e) => e.workload.labels[TLS_MODE_LABEL] !== "istio"))) {
      return { kind: "plaintext", why: "headless Service with an endpoint without sidecar (passthrough auto mTLS)" };
    }
    const inferred = this.peerAuthn.namespaceMode(sp.namespace);
    if (inferred.mode === "DISABLE") {
      return { kind: "plaintext", why: `auto mTLS off: namespace ${sp.namespace} is DISABLE (${inferred.source})` };
    }
    return { kind: "auto", checkerMode, source };
  }

  /** Per endpoint of the Service port, what a sidecar client in `clientNamespace` sends; cached. */
  sends(clientNamespace: string, sp: ServicePort): Send[] {
    let byNs = this.plans.get(sp);
    if (!byNs) this.plans.set(sp, (byNs = new Map()));
    let s = byNs.get(clientNamespace);
    if (!s) {
      const plan = this.plan(clientNamespace, sp);
      s = sp.endpoints.map((e) => this.sendTo(plan, e));
      byNs.set(clientNamespace, s);
    }
    return s;
  }

  private sendTo(plan: ClientTlsPlan, e: Endpoint): Send {
    switch (plan.kind) {
      case "destination-rule":
        if (plan.mode === "ISTIO_MUTUAL") return send(true, undefined, `mTLS (${plan.source})`);
        if (plan.mode === "DISABLE") return send(false, undefined, `plaintext (${plan.source})`);
        return send(false, plan.mode, `${plan.mode} TLS (${plan.source})`);
      case "plaintext":
        return send(false, undefined, `plaintext (${plan.why})`);
      case "auto": {
        const via = plan.source ? `auto mTLS, ${plan.source}` : "auto mTLS";
        if (e.workload.labels[TLS_MODE_LABEL] !== "istio") {
          return send(false, undefined, `plaintext (${via}: endpoint ${e.workload.id} has no sidecar)`);
        }
        if (plan.checkerMode !== undefined) {
          return plan.checkerMode === "ISTIO_MUTUAL"
            ? send(true, undefined, `mTLS (${via})`)
            : send(false, undefined, `plaintext (${via}: top-level ${plan.checkerMode} read by the endpoint check)`);
        }
        const m = this.peerAuthn.modeAt(e.workload, e.targetPort);
        if (m.mode === "DISABLE") {
          return send(false, undefined, `plaintext (${via}: endpoint DISABLE at port ${e.targetPort}, ${m.source})`);
        }
        return send(true, undefined, `mTLS (${via})`);
      }
    }
  }
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
