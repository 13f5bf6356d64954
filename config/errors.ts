/**
 * Config errors: one line per problem, `istio-mtls:<path>: <value found> <problem>; allowed: <what>`,
 * all collected and thrown together so one `pulumi up` shows every mistake.
 */
import type { z } from "zod";

export const CONFIG_NAMESPACE = "istio-mtls";

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  /** The key's namespace when it is not `istio-mtls` (a misspelt one). */
  namespace?: string;
  /** Key path below `istio-mtls:`, e.g. ["mtls", "workloads", 0, "portLevelMtls", "80800"]. */
  path: ConfigPath;
  /** Already-formatted "<value> is not …" or "missing"; see `issue()`. */
  found: string;
  allowed: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map(formatIssue);
    super(`invalid stack config (${issues.length} ${issues.length === 1 ? "error" : "errors"}):\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }

  /** The messages, one per issue, as they appear in `message`. */
  get lines(): string[] {
    return this.issues.map(formatIssue);
  }
}

/** An issue about `value` at `path`: "<value> <problem>"; a missing value reads "missing". */
export function issue(path: ConfigPath, value: unknown, problem: string, allowed: string): ConfigIssue {
  return { path, found: value === undefined ? "missing" : `${formatValue(value)} ${problem}`, allowed };
}

export function formatIssue(i: ConfigIssue): string {
  return `${formatKey(i.path, i.namespace)}: ${i.found}; allowed: ${i.allowed}`;
}

/** `istio-mtls:mtls.workloads[0].portLevelMtls.8080`; keys that are not plain words are bracketed. */
export function formatKey(path: ConfigPath, namespace: string = CONFIG_NAMESPACE): string {
  let out = namespace + ":";
  path.forEach((p, i) => {
    if (typeof p === "number") out += `[${p}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(p)) out += i === 0 ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  });
  return out;
}

export function formatValue(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Zod issues carry messages written by `allowedBy()` ("<problem>; allowed: <what>") and the input
 * (parse with `reportInput: true`). Unknown fields become one issue per field.
 */
export function fromZodIssues(prefix: ConfigPath, issues: readonly z.core.$ZodIssue[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const zi of issues) {
    const path = [...prefix, ...zi.path.map((p) => (typeof p === "symbol" ? String(p) : p))];
    const [problem, allowed] = splitMessage(zi.message);
    if (zi.code === "unrecognized_keys") {
      for (const key of zi.keys) {
        out.push({ path: [...path, key], found: `${JSON.stringify(key)} ${problem}${didYouMean(key, allowed.split(", "))}`, allowed });
      }
    } else if (zi.code === "invalid_key") {
      // A refused map key: its own message is on the nested issue; digits read as the port they are.
      const [keyProblem, keyAllowed] = splitMessage(zi.issues[0]?.message ?? zi.message);
      const k = zi.input;
      out.push(issue(path, typeof k === "string" && /^\d+$/.test(k) ? Number(k) : k, keyProblem, keyAllowed));
    } else {
      out.push(issue(path, zi.input, problem, allowed));
    }
  }
  return out;
}

const SEPARATOR = "\u001f";

/** The message a schema gives for a value it refuses; `fromZodIssues` splits it again. */
export function allowedBy(problem: string, allowed: string): string {
  return `${problem}${SEPARATOR}${allowed}`;
}

function splitMessage(message: string): [string, string] {
  const at = message.indexOf(SEPARATOR);
  // A message that did not come from allowedBy() is zod's own; keep it whole rather than lose it.
  return at < 0 ? [message, "see the stack config documentation"] : [message.slice(0, at), message.slice(at + 1)];
}

/** ` (did you mean "mtls"?)` when one candidate is within two edits of `word`, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean ${JSON.stringify(best)}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}
