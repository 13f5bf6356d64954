/** Calendar dates as the stack config and the policy pack both read them (exception expiry). */

/** A calendar date YYYY-MM-DD, as UTC midnight; undefined when it is not one. */
export function parseDay(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const d = new Date(t);
  // Rejects 2026-02-30 and friends, which Date.UTC rolls over.
  if (d.getUTCFullYear() !== Number(m[1]) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3])) return undefined;
  return t;
}
