/**
 * Kubernetes names and ports as the API server accepts them: the one check behind the stack
 * config, the manifest builders and the policy pack.
 */

/** RFC 1123 label: namespaces and most object names. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(s: string): boolean {
  return typeof s === "string" && s.length <= 63 && DNS_LABEL.test(s);
}

/** RFC 1123 subdomain: dot-separated labels, at most 253 characters (ConfigMap, Certificate and policy names). */
export function isDnsName(s: string): boolean {
  return typeof s === "string" && s.length > 0 && s.length <= 253 && s.split(".").every(isDnsLabel);
}

export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** A port written as a map key ("8080"), as YAML and JSON give PeerAuthentication's portLevelMtls keys. */
export function isPortKey(k: string): boolean {
  return /^\d+$/.test(k) && isPort(Number(k));
}

/**
 * A service host as Istio takes it in DestinationRules and Gateways: a DNS name or short name,
 * optionally with a leading "*." wildcard, or "*"; no scheme, no port, no "*" elsewhere.
 */
export function isServiceHost(s: string): boolean {
  if (s === "*") return true;
  return typeof s === "string" && isDnsName(s.startsWith("*.") ? s.slice(2) : s);
}
