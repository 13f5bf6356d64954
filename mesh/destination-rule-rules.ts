/**
 * What Istio's validation rejects in a DestinationRule's spec (istio/istio
 * pkg/config/validation/validation.go ValidateDestinationRule, validateTrafficPolicy,
 * validatePortTrafficPolicies, validateExportTo; pkg/config/validation/agent ValidateWildcardDomain
 * and ValidateTLS). Subsets, load balancer, connection pool and outlier settings are not checked
 * field by field: the model does not read them.
 */
import type { ShapeProblem } from "./shape-problem";
import type { YamlPath } from "./yaml";

type Fields = Record<string, unknown>;

const isMap = (v: unknown): v is Fields => v !== null && typeof v === "object" && !Array.isArray(v);
const set = (m: Fields, f: string) => m[f] !== undefined && m[f] !== null;
/** A repeated proto field is nil when empty: `portLevelSettings: []` counts as unset. */
const setList = (m: Fields, f: string) => Array.isArray(m[f]) && (m[f] as unknown[]).length > 0;

// pkg/config/labels/instance.go: dns1123LabelFmt and wildcardPrefix.
const LABEL = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?";
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const WILDCARD_LABEL = new RegExp(`^(\\*|(\\*|\\*-)?${LABEL})$`);

/** ValidateWildcardDomain: a wildcard only in the first label, then DNS-1123 labels (a trailing dot allowed). */
function hostProblem(host: string): string | undefined {
  if (host.length === 0) return "is empty";
  if (host.length > 255) return "is longer than 255 characters";
  const dot = host.indexOf(".");
  const first = dot < 0 ? host : host.slice(0, dot);
  if (first.length > 63 || !WILDCARD_LABEL.test(first)) return `has an invalid first label ${JSON.stringify(first)}`;
  if (dot < 0) return undefined;
  const rest = host.slice(dot + 1).split(".");
  if (/^\d+$/.test(rest[rest.length - 1]!)) return "has an all-numeric top-level domain";
  for (const [i, label] of rest.entries()) {
    if (i === rest.length - 1 && label === "") break;
    if (label.length > 63 || !DNS1123_LABEL.test(label)) return `has an invalid label ${JSON.stringify(label)}`;
  }
  return undefined;
}

/** ValidateTLS for the modes the model reads: MUTUAL needs a client certificate and key unless credentialName is set. */
function tlsProblems(tls: unknown, at: YamlPath): ShapeProblem[] {
  if (!isMap(tls) || tls.mode !== "MUTUAL" || (typeof tls.credentialName === "string" && tls.credentialName !== "")) return [];
  return ["clientCertificate", "privateKey"]
    .filter((f) => typeof tls[f] !== "string" || tls[f] === "")
    .map((f) => ({ path: [...at, f], problem: "is missing: required for mutual TLS", allowed: "a file path, or credentialName instead" }));
}

/** validateExportTo; a rule with a workloadSelector may be exported to its own namespace only. */
function exportToProblems(exportTo: unknown, namespace: string, withSelector: boolean): ShapeProblem[] {
  if (!Array.isArray(exportTo)) return [];
  const out: ShapeProblem[] = [];
  const seen = new Set<string>();
  exportTo.forEach((e, i) => {
    const at: YamlPath = ["spec", "exportTo", i];
    if (typeof e !== "string") return;
    const key = e === "." ? namespace : e;
    if (seen.has(key)) {
      out.push({ path: at, problem: key !== e ? `repeats the current namespace ${namespace} as "."` : `repeats ${JSON.stringify(e)}`, allowed: "each namespace once" });
      return;
    }
    seen.add(key);
    if (key === "~") out.push({ path: at, problem: 'is "~" (none)', allowed: 'only ServiceEntries may use "~"' });
    else if (key !== "*" && (key.length > 63 || !DNS1123_LABEL.test(key))) out.push({ path: at, problem: `is ${JSON.stringify(e)}`, allowed: '".", "*" or a namespace name' });
  });
  if (withSelector && seen.size > 0 && (!seen.has(namespace) || seen.size > 1)) {
    out.push({ path: ["spec", "exportTo"], problem: "exports a rule with a workloadSelector beyond its namespace", allowed: `"." (or ${namespace}) alone` });
  }
  if (seen.has("*") && exportTo.length > 1) out.push({ path: ["spec", "exportTo"], problem: 'mixes "*" with other entries', allowed: '"*" alone' });
  return out;
}

const TRAFFIC_POLICY_FIELDS = ["outlierDetection", "connectionPool", "loadBalancer", "tls", "tunnel", "proxyProtocol", "retryBudget"];
const PORT_POLICY_FIELDS = ["outlierDetection", "connectionPool", "loadBalancer", "tls"];

/** What Istio's validation rejects in a DestinationRule's spec, as read from YAML (field types are the schema's). */
export function destinationRuleSpecProblems(spec: Fields, namespace: string): ShapeProblem[] {
  const out: ShapeProblem[] = [];
  if (typeof spec.host === "string") {
    const problem = hostProblem(spec.host);
    if (problem) out.push({ path: ["spec", "host"], problem, allowed: 'a DNS name or short name, "*" or "*." only in front' });
  }
  const tp = spec.trafficPolicy;
  if (isMap(tp)) {
    if (!TRAFFIC_POLICY_FIELDS.some((f) => set(tp, f)) && !setList(tp, "portLevelSettings")) {
      out.push({ path: ["spec", "trafficPolicy"], problem: "is empty", allowed: "at least one setting (tls, loadBalancer, portLevelSettings…), or no trafficPolicy" });
    }
    out.push(...tlsProblems(tp.tls, ["spec", "trafficPolicy", "tls"]));
    (Array.isArray(tp.portLevelSettings) ? tp.portLevelSettings : []).forEach((entry, i) => {
      const at: YamlPath = ["spec", "trafficPolicy", "portLevelSettings", i];
      if (!isMap(entry)) return;
      if (!set(entry, "port")) out.push({ path: [...at, "port"], problem: "is missing", allowed: "the Service port: port.number" });
      if (!PORT_POLICY_FIELDS.some((f) => set(entry, f))) {
        out.push({ path: at, problem: "has no setting besides its port", allowed: `at least one of ${PORT_POLICY_FIELDS.join(", ")}` });
      }
      out.push(...tlsProblems(entry.tls, [...at, "tls"]));
    });
  }
  out.push(...exportToProblems(spec.exportTo, namespace, isMap(spec.workloadSelector)));
  return out;
}
