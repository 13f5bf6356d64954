/** DestinationRules that override client-side TLS (istio-mtls-rules.md §C 9-11). */
import { objectRef } from "../model/errors";
import { isPort, isServiceHost } from "../names";
import type { DestinationRuleSettings } from "../settings";
import { CLIENT_TLS_MODES, type DestinationRule, type PortTrafficPolicy, type TrafficPolicy } from "../types";
import { checkDnsLabel, checkDnsSubdomain } from "./meta";

function checkTlsMode(setting: string, mode: unknown): void {
  if (mode !== undefined && !(CLIENT_TLS_MODES as readonly unknown[]).includes(mode)) {
    throw new Error(`${setting}: unknown TLS mode ${JSON.stringify(mode)}; allowed: ${CLIENT_TLS_MODES.join(", ")}`);
  }
}

export function validateDestinationRules(rules: readonly DestinationRuleSettings[]): void {
  const ids = new Set<string>();
  for (const r of rules) {
    const at = objectRef("DestinationRule", r.namespace, r.name);
    checkDnsLabel(`${at}: metadata.namespace`, r.namespace);
    checkDnsSubdomain(`${at}: metadata.name`, r.name);
    if (!isServiceHost(r.host)) {
      throw new Error(`${at}: spec.host: ${JSON.stringify(r.host)} is not a host; allowed: a short name, an FQDN or a wildcard such as "*.local"`);
    }
    checkTlsMode(`${at}: spec.trafficPolicy.tls.mode`, r.mode);
    const ports = new Set<number>();
    for (const p of r.portLevel ?? []) {
      // Named by port: the builder sorts portLevelSettings by it.
      const setting = `${at}: spec.trafficPolicy.portLevelSettings (port ${JSON.stringify(p.port)})`;
      if (!isPort(p.port)) throw new Error(`${setting}: ${JSON.stringify(p.port)} is not a port; allowed: 1..65535 (Service port)`);
      if (ports.has(p.port)) throw new Error(`${setting}: listed twice; allowed: one entry per port`);
      ports.add(p.port);
      checkTlsMode(`${setting}.tls.mode`, p.mode);
    }
    if (r.mode === undefined && (r.portLevel ?? []).every((p) => p.mode === undefined)) {
      throw new Error(`${at}: spec.trafficPolicy: no tls.mode at the top or on any port; a rule without TLS settings changes nothing`);
    }
    (r.exportTo ?? []).forEach((e, j) => {
      if (e !== "." && e !== "*") checkDnsLabel(`${at}: spec.exportTo[${j}]`, e);
    });
    if (ids.has(at)) throw new Error(`${at}: defined twice; allowed: one per name and namespace`);
    ids.add(at);
  }
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
  validateDestinationRules(rules);
  return rules.map(buildDestinationRule);
}
