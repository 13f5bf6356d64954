/**
 * Syntax checks for the scalar values the stack config holds: Kubernetes names and labels, Go
 * durations, URLs, versions. Each check comes with the text that tells the user what is allowed;
 * the checks that the builders share (names, ports, durations, hosts) live in mesh/.
 */
import { parseGoDuration } from "../mesh/builders/duration";
import { isDnsLabel, isDnsName, isServiceHost } from "../mesh/names";

export { isDnsLabel, isDnsName, isServiceHost, parseGoDuration };

export const DNS_LABEL_ALLOWED = 'a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';
export const DNS_NAME_ALLOWED = 'a DNS-1123 name: dot-separated DNS-1123 labels, at most 253 characters';

/** Kubernetes label keys: `[prefix/]name`, name ≤ 63 alphanumerics with `-_.` inside, prefix a DNS name. */
export const LABEL_KEY_ALLOWED = 'a label key: optional DNS-name prefix and "/", then at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';
export const LABEL_VALUE_ALLOWED = 'a label value: empty, or at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit';

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function isLabelKey(s: string): boolean {
  const slash = s.indexOf("/");
  const prefix = slash >= 0 ? s.slice(0, slash) : undefined;
  const name = slash >= 0 ? s.slice(slash + 1) : s;
  if (prefix !== undefined && !isDnsName(prefix)) return false;
  return name.length <= 63 && LABEL_NAME.test(name);
}

export function isLabelValue(s: string): boolean {
  return s === "" || (s.length <= 63 && LABEL_NAME.test(s));
}

export const PORT_ALLOWED = "1..65535";

// ---- Go durations (time.ParseDuration, as cert-manager reads `duration` and `renewBefore`) ----

export const DURATION_ALLOWED = 'a Go duration such as "87600h", "30m" or "1h30m" (units h, m, s, ms)';

/** Go's own spelling of a duration, for messages: 3_600_000 → "1h0m0s". */
export function formatGoDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m${s % 60}s`;
}

// ---- URLs and versions ---------------------------------------------------------------------

export function isHttpsUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" && u.hostname.length > 0;
  } catch {
    return false;
  }
}

/** A local folder as the config takes one: an absolute path, or one relative to the project folder. */
export function isFolderPath(s: string): boolean {
  return s.startsWith("/") || s.startsWith("./") || s.startsWith("../");
}

export function isOciUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "oci:" && u.hostname.length > 0;
  } catch {
    return false;
  }
}

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$/;
/** Istio's untagged builds carry MAJOR.MINOR and a pre-release, no patch: "1.31-dev", "1.31-alpha.<sha>". */
const ISTIO_BUILD = /^(\d+)\.(\d+)(-[0-9A-Za-z.-]+)$/;

/** [major, minor, patch] of "1.28.1" (or "v1.19.1" with `prefix` "v"); undefined otherwise. */
export function parseSemver(s: string, prefix = ""): [number, number, number] | undefined {
  if (!s.startsWith(prefix)) return undefined;
  const m = SEMVER.exec(s.slice(prefix.length));
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** [major, minor, patch] of an Istio release ("1.28.1", "1.29.0-beta.1") or build ("1.31-dev", patch 0). */
export function parseIstioVersion(s: string): [number, number, number] | undefined {
  const m = ISTIO_BUILD.exec(s);
  return m ? [Number(m[1]), Number(m[2]), 0] : parseSemver(s);
}

// ---- Istio names --------------------------------------------------------------------------------

/** DestinationRule hosts (isServiceHost): Istio rejects a scheme, a port or a "*" anywhere but the start. */
export const HOST_ALLOWED = 'a service host: FQDN ("httpbin.foo.svc.cluster.local"), short name ("httpbin") or leading wildcard ("*.local", "*"); no scheme, no port';

/**
 * AuthorizationPolicy principals: `<trustDomain>/ns/<namespace>/sa/<serviceAccount>`, "*", or
 * Istio's prefix/suffix match with one "*" at the start or the end (e.g. "cluster.local/ns/foo/*").
 */
export const PRINCIPAL_ALLOWED =
  'an Istio principal "<trustDomain>/ns/<namespace>/sa/<serviceAccount>" (no "spiffe://"), "*", or one with a leading or trailing "*"';

export function parsePrincipal(s: string): { trustDomain: string; namespace: string; serviceAccount: string } | undefined {
  const m = /^([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(s);
  if (!m || !isDnsName(m[1]) || !isDnsLabel(m[2]) || !isDnsName(m[3])) return undefined;
  return { trustDomain: m[1], namespace: m[2], serviceAccount: m[3] };
}

export function isPrincipal(s: string): boolean {
  if (s === "*" || parsePrincipal(s) !== undefined) return true;
  const stars = s.split("*").length - 1;
  const rest = s.startsWith("*") ? s.slice(1) : s.endsWith("*") ? s.slice(0, -1) : undefined;
  return stars === 1 && rest !== undefined && rest.length > 0 && !s.includes("://") && /^[A-Za-z0-9._/-]+$/.test(rest);
}
