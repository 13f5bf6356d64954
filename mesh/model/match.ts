import type { Labels } from "../types";

/** Whether every selector label is present with the same value (an empty selector selects all). */
export function selectorMatches(selector: Labels | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const key in selector) {
    if (labels[key] !== selector[key]) return false;
  }
  return true;
}

export function isEmptySelector(selector: Labels | undefined): boolean {
  if (!selector) return true;
  for (const _ in selector) return false;
  return true;
}

/**
 * Istio's string match for authorization values: "*" matches any non-empty value, "abc*" is a
 * prefix, "*abc" a suffix, anything else exact (istio/api authorization_policy.proto).
 */
export function istioValueMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined || value === "") return false;
  if (pattern === "*") return true;
  if (pattern.length > 1 && pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.length > 1 && pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

export function anyMatches(patterns: readonly string[], value: string | undefined): boolean {
  for (const p of patterns) if (istioValueMatches(p, value)) return true;
  return false;
}

/** A value pattern parsed once: same semantics as istioValueMatches, no allocation per match. */
export interface CompiledPattern {
  kind: "any" | "prefix" | "suffix" | "exact";
  text: string;
}

export function compilePattern(pattern: string): CompiledPattern {
  if (pattern === "*") return { kind: "any", text: "" };
  if (pattern.length > 1 && pattern.endsWith("*")) return { kind: "prefix", text: pattern.slice(0, -1) };
  if (pattern.length > 1 && pattern.startsWith("*")) return { kind: "suffix", text: pattern.slice(1) };
  return { kind: "exact", text: pattern };
}

export function compiledMatches(p: CompiledPattern, value: string): boolean {
  if (value === "") return false;
  switch (p.kind) {
    case "any":
      return true;
    case "prefix":
      return value.startsWith(p.text);
    case "suffix":
      return value.endsWith(p.text);
    case "exact":
      return value === p.text;
  }
}
