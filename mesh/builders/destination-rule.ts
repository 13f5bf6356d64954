/** DestinationRules that override client-side TLS (istio-mtls-rules.md §C 9-11). */
import type { DestinationRuleSettings } from "../settings";
import { CLIENT_TLS_MODES, type DestinationRule, type PortTrafficPolicy, type TrafficPolicy } from "../types";
import { checkDnsLabel, checkDnsSubdomain } from "./meta";

const KEY = "istio-mtls:destinationRules";
const HOST = /^(\*|\*\.[a-z0-9.-]+|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/;

function checkTlsMode(setting: string, mode: unknown): void {
  if (mode !== undefined && !(CLIENT_TLS_MODES as readonly unknown[]).includes(mode)) {
    throw new Error(`${setting}: unknown TLS mode ${JSON.stringify(mode)}; allowed: ${CLIENT_TLS_MODES.join(", ")}`);
  }
}

export function validateClientTlsPolicies(rules: readonly DestinationRuleSettings[]): void {
  const ids = new Set<string>();
  rules.forEach((r, i) => {
    const at = `${KEY}[${i}]`;
    checkDnsLabel(`${at}.namespace`, r.namespace);
    checkDnsSubdomain(`${at}.name`, r.name);
    if (typeof r.host !== "string" || !HOST.test(r.host)) {
      throw new Error(`${at}.host: ${JSON.stringify(r.host)} is not a host; allowed: a short name, an FQDN or a wildcard such as "*.local"`);
    }
    checkTlsMode(`${at}.mode`, r.mode);
    const ports = new Set<number>();
    (r.portLevel ?? []).forEach((p, j) => {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
        throw new Error(`${at}.portLevel[${j}].port: ${JSON.stringify(p.port)} is not a port; allowed: 1..65535 (Service port)`);
      }
      if (ports.has(p.port)) throw new Error(`${at}.portLevel[${j}].port: ${p.port} is listed twice; allowed: one entry per port`);
      ports.add(p.port);
      checkTlsMode(`${at}.portLevel[${j}].mode`, p.mode);
    });
    if (r.mode === undefined && (r.portLevel ?? []).every((p) => p.mode === undefined)) {
      throw new Error(`${at}: neither mode nor any portLevel[].mode is set; a rule without TLS settings changes nothing`);
    }
    (r.exportTo ?? []).forEach((e, j) => {
      if (e !== "." && e !== "*") checkDnsLabel(`${at}.exportTo[${j}]`, e);
    });
    const id = `${r.namespace}/${r.name}`;
    if (ids.has(id)) throw new Error(`${at}.name: DestinationRule ${id} is defined twice; allowed: one per name and namespace`);
    ids.add(id);
  });
}

export function buildDestinationRule(r: DestinationRuleSettings): DestinationRule {
  const trafficPolicy: TrafficPolicy = {};
  if (r.mode !== undefined) trafficPolicy.tls = { mode: r.mode };
  if (r.portLevel && r.portLevel.length > 0) {
    trafficPolicy.portLevelSettings = [...r.portLevel]
      .sort((a, b) => a.port - b.port)
      // A port entry without `tls` still replaces the top-level policy for that port (auto mTLS).
      .map((p): PortTrafficPolicy => (p.mode === undefined ? { port: { number: p.port } } : { port: { number: p.port }, tls: { mode: p.mode } }));
  }
  const spec: DestinationRule["spec"] = { host: r.host, trafficPolicy };
  if (r.exportTo !== undefined) spec.exportTo = [...r.exportTo];
  return { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: r.name, namespace: r.namespace }, spec };
}

export function buildDestinationRules(rules: readonly DestinationRuleSettings[]): DestinationRule[] {
  validateClientTlsPolicies(rules);
  return rules.map(buildDestinationRule);
}
