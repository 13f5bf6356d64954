/** Go durations as cert-manager reads them ("87600h", "1h30m"), to check and compare settings. */
const PART = /(\d+(?:\.\d+)?)(h|ms|m|s)/g;
const WHOLE = /^(\d+(?:\.\d+)?(h|ms|m|s))+$/;
const MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or throws naming the setting. cert-manager accepts h, m, s (and ms). */
export function parseGoDuration(setting: string, value: string): number {
  if (typeof value !== "string" || !WHOLE.test(value)) {
    throw new Error(`${setting}: ${JSON.stringify(value)} is not a duration; allowed: Go durations such as "87600h" or "720h30m"`);
  }
  let total = 0;
  for (const m of value.matchAll(PART)) total += Number(m[1]) * MS[m[2]];
  if (total <= 0) throw new Error(`${setting}: ${JSON.stringify(value)} is zero; allowed: a positive duration`);
  return total;
}
