/**
 * Go durations as cert-manager reads `duration` and `renewBefore` (time.ParseDuration), for the
 * stack config and the CA builder alike. Units h, m, s and ms: ns and us make no sense for certificates.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds of a positive Go duration string; undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  if (typeof s !== "string" || s.length === 0) return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  return total > 0 ? total : undefined;
}
