/** Small shared pieces: deterministic key order and Kubernetes name checks. */
import { isDnsLabel, isDnsName } from "../names";
import type { Labels } from "../types";

/** A copy with keys in code-point order, so serialized inputs never depend on insertion order. */
export function sortedRecord<V>(r: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}

export function labels(r: Readonly<Labels>): Labels {
  return sortedRecord(r);
}

export function checkDnsLabel(setting: string, value: string): void {
  if (!isDnsLabel(value)) {
    throw new Error(
      `${setting}: ${JSON.stringify(value)} is not a valid name; allowed: lower-case letters, digits and "-", ` +
        `starting and ending with a letter or digit, at most 63 characters`,
    );
  }
}

export function checkDnsSubdomain(setting: string, value: string): void {
  if (!isDnsName(value)) {
    throw new Error(
      `${setting}: ${JSON.stringify(value)} is not a valid name; allowed: lower-case RFC 1123 subdomain ` +
        `(letters, digits, "-" and "."), at most 253 characters`,
    );
  }
}

/** Namespace, name and a non-empty selector of a policy (`at`: `Kind namespace/name`); `why` says what an empty selector would mean. */
export function checkWorkloadPolicyMeta(at: string, p: { namespace: string; name: string; selector?: Readonly<Labels> }, why: string): void {
  checkDnsLabel(`${at}: metadata.namespace`, p.namespace);
  checkDnsSubdomain(`${at}: metadata.name`, p.name);
  if (!p.selector || Object.keys(p.selector).length === 0) throw new Error(`${at}: spec.selector: empty; allowed: ${why}`);
}
