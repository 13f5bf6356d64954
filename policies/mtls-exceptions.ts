/**
 * Every PeerAuthentication that lets plaintext in (PERMISSIVE or DISABLE, at workload or port
 * level) is an exception: it carries a reason and an expiry date, and it fails once that date has
 * passed, so that exceptions are reviewed instead of forgotten.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { EXCEPTION_EXPIRES_ANNOTATION, EXCEPTION_REASON_ANNOTATION } from "../mesh/builders/peer-authentication";
import { parseDay } from "../mesh/day";
import { objectRef } from "../mesh/model/errors";
import type { PolicyClock } from "./options";

export const MTLS_EXCEPTIONS = "mtls-exception-annotations";
export { EXCEPTION_EXPIRES_ANNOTATION, EXCEPTION_REASON_ANNOTATION };
export const DEFAULT_MAX_EXCEPTION_DAYS = 90;

const PEER_AUTHENTICATION_TYPES = new Set([
  "kubernetes:security.istio.io/v1:PeerAuthentication",
  "kubernetes:security.istio.io/v1beta1:PeerAuthentication",
]);
const DAY_MS = 24 * 60 * 60 * 1000;

export interface MtlsExceptionsConfig {
  /** How far in the future an expiry may be, in days. */
  maxExceptionDays?: number;
}

/** Where the policy lets plaintext in: "spec.mtls.mode PERMISSIVE", "spec.portLevelMtls[8080].mode DISABLE". */
export function plaintextSettings(spec: Record<string, unknown> | undefined): string[] {
  const out: string[] = [];
  const mode = (spec?.mtls as { mode?: unknown } | undefined)?.mode;
  if (mode === "PERMISSIVE" || mode === "DISABLE") out.push(`spec.mtls.mode ${mode}`);
  const ports = spec?.portLevelMtls as Record<string, { mode?: unknown } | undefined> | undefined;
  for (const [port, entry] of Object.entries(ports ?? {})) {
    if (entry?.mode === "PERMISSIVE" || entry?.mode === "DISABLE") out.push(`spec.portLevelMtls[${port}].mode ${entry.mode}`);
  }
  return out;
}

function today(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
}

function isoDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * What is wrong with the exception annotations of an object that lets plaintext in (`what`), one
 * message per problem; `fix` says how to do without an exception. The one home of the rule for
 * PeerAuthentications and for namespaces without sidecars alike.
 */
export function exceptionProblems(
  what: string,
  annotations: Record<string, unknown> | undefined,
  now: Date,
  maxDays: number,
  fix: string,
): string[] {
  const out: string[] = [];
  const reason = annotations?.[EXCEPTION_REASON_ANNOTATION];
  const expires = annotations?.[EXCEPTION_EXPIRES_ANNOTATION];
  if (typeof reason !== "string" || reason.trim() === "") {
    out.push(`${what} but has no metadata.annotations["${EXCEPTION_REASON_ANNOTATION}"]; add why the exception is needed, or ${fix}.`);
  }
  if (typeof expires !== "string" || expires.trim() === "") {
    out.push(`${what} but has no metadata.annotations["${EXCEPTION_EXPIRES_ANNOTATION}"]; add the last day it is allowed, as YYYY-MM-DD.`);
    return out;
  }
  const until = parseDay(expires.trim());
  if (until === undefined) {
    out.push(`${what}: ${EXCEPTION_EXPIRES_ANNOTATION} is ${JSON.stringify(expires)}; allowed: a date YYYY-MM-DD, e.g. 2026-03-31.`);
    return out;
  }
  const day = today(now);
  if (day > until) {
    out.push(`${what}: the exception expired on ${isoDay(until)} (today is ${isoDay(day)}); ${fix} or renew ${EXCEPTION_EXPIRES_ANNOTATION} after review.`);
    return out;
  }
  if (until - day > maxDays * DAY_MS) {
    out.push(`${what}: ${EXCEPTION_EXPIRES_ANNOTATION} ${isoDay(until)} is more than ${maxDays} days away (latest allowed: ${isoDay(day + maxDays * DAY_MS)}).`);
  }
  return out;
}

/** The configSchema property of every policy that checks exception annotations. */
export const MAX_EXCEPTION_DAYS_PROPERTY = { maxExceptionDays: { type: "integer", minimum: 1, default: DEFAULT_MAX_EXCEPTION_DAYS } } as const;

export function mtlsExceptions(clock: PolicyClock): ResourceValidationPolicy {
  return {
    name: MTLS_EXCEPTIONS,
    description: `A PERMISSIVE or DISABLE PeerAuthentication carries ${EXCEPTION_REASON_ANNOTATION} and an unexpired ${EXCEPTION_EXPIRES_ANNOTATION} (YYYY-MM-DD).`,
    severity: "high",
    configSchema: { properties: { ...MAX_EXCEPTION_DAYS_PROPERTY } },
    validateResource: (args, reportViolation) => {
      if (!PEER_AUTHENTICATION_TYPES.has(args.type)) return;
      const props = args.props as { metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
      const settings = plaintextSettings(props.spec);
      if (settings.length === 0) return;
      const ref = objectRef("PeerAuthentication", props.metadata?.namespace ?? "default", props.metadata?.name ?? args.name);
      const maxDays = args.getConfig<MtlsExceptionsConfig>().maxExceptionDays ?? DEFAULT_MAX_EXCEPTION_DAYS;
      for (const m of exceptionProblems(`${ref} lets plaintext in (${settings.join(", ")})`, props.metadata?.annotations, clock(), maxDays, "make it STRICT")) {
        reportViolation(m);
      }
    },
  };
}
