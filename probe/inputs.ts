/**
 * The probe's inputs as the stack passes them: cells grouped by client, built from the model's
 * Prediction, each with what the model expects, including how a predicted failure fails (the
 * evidence the runner requires). Validation and the change hash live here (no Pulumi), so both
 * the component and its serialized provider use the same code.
 */
import type { ProbeOutcome, ProbeRequest, Prediction } from "../mesh/prediction";
import { isProbeFailure, type ProbeCell } from "./runner";
import { validateTarget } from "./script";

export interface ProbeTargetInput {
  /** `<service>.<namespace>:<port>` */
  to: string;
  service: string;
  namespace: string;
  port: number;
  /** Default "/headers". */
  path?: string;
  /** A bearer token (the bytes); the component passes it as a secret. */
  token?: string;
  expected: ProbeCell["expected"];
}

export interface ProbeClientInput {
  /** `<workload>.<namespace>` */
  from: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  sidecar: boolean;
  targets: ProbeTargetInput[];
}

/** A ProbeOutcome that also carries its request (path, token claims), when the model sets one. */
export type OutcomeWithRequest = ProbeOutcome & { request?: ProbeRequest };

/**
 * Groups a prediction's cells by client, in order of first appearance.
 * `tokenFor` returns the token bytes for a cell whose request carries a token.
 */
export function probeClientsFromPrediction<T = string>(
  prediction: Prediction,
  tokenFor?: (outcome: OutcomeWithRequest) => T | undefined,
): (Omit<ProbeClientInput, "targets"> & { targets: (Omit<ProbeTargetInput, "token"> & { token?: T })[] })[] {
  type Client = Omit<ProbeClientInput, "targets"> & { targets: (Omit<ProbeTargetInput, "token"> & { token?: T })[] };
  const clients = new Map<string, Client>();
  for (const o of prediction.probes as OutcomeWithRequest[]) {
    const key = `${o.client.namespace}/${o.client.name}`;
    let c = clients.get(key);
    if (!c) {
      c = { from: o.from, namespace: o.client.namespace, name: o.client.name, labels: { ...o.client.labels }, sidecar: o.client.sidecar, targets: [] };
      clients.set(key, c);
    }
    const needsToken = o.request?.token !== undefined && o.request.token.kind !== "none";
    const token = needsToken ? tokenFor?.(o) : undefined;
    if (needsToken && token === undefined) {
      throw new Error(`probe ${o.from} to ${o.to}: the prediction's request carries a ${o.request!.token!.kind} token but no token bytes were given (tokenFor)`);
    }
    c.targets.push({
      to: o.to,
      service: o.target.service,
      namespace: o.target.namespace,
      port: o.target.port,
      ...(o.request?.path !== undefined ? { path: o.request.path } : {}),
      ...(token !== undefined ? { token } : {}),
      expected: {
        code: o.code,
        mtls: o.mtls,
        ...(o.clientIdentity !== undefined ? { clientIdentity: o.clientIdentity } : {}),
        reason: o.reason,
        ...(o.failure !== undefined ? { failure: o.failure } : {}),
      },
    });
  }
  return [...clients.values()];
}

export function cellsFromClients(clients: ProbeClientInput[]): ProbeCell[] {
  return clients.flatMap((c) =>
    c.targets.map((t) => ({
      from: c.from,
      to: t.to,
      client: { namespace: c.namespace, name: c.name, labels: c.labels, sidecar: c.sidecar },
      target: { service: t.service, namespace: t.namespace, port: t.port },
      ...(t.path !== undefined ? { path: t.path } : {}),
      ...(t.token !== undefined ? { token: t.token } : {}),
      expected: t.expected,
    })),
  );
}

export interface ProbeSettingsInput {
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  concurrency: number;
}

/** Every problem with the inputs, as (property, reason) pairs; empty when valid. */
/** The probe's settings when none are given: the one home of these defaults, for the stack config and the component. */
export const PROBE_DEFAULTS = { requestTimeoutSeconds: 5, deadlineSeconds: 180, concurrency: 4 } as const;
/** The largest settings the probe takes; the stack config rejects larger ones with the key, before anything is registered. */
export const PROBE_MAXIMA = { requestTimeoutSeconds: 300, deadlineSeconds: 3600, concurrency: 100 } as const;

export function validateProbeInputs(clients: unknown, settings: ProbeSettingsInput, revision: unknown): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  const add = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof revision !== "string" || revision === "") add("revision", `revision is ${JSON.stringify(revision)}: expected a non-empty hash of the deployed policy objects`);
  const { requestTimeoutSeconds: rt, deadlineSeconds: dl, concurrency: cc } = settings;
  const max = PROBE_MAXIMA;
  if (typeof rt !== "number" || !(rt > 0 && rt <= max.requestTimeoutSeconds)) add("requestTimeoutSeconds", `requestTimeoutSeconds is ${rt}: allowed a number in (0, ${max.requestTimeoutSeconds}]`);
  if (typeof dl !== "number" || !(dl >= 0 && dl <= max.deadlineSeconds)) add("deadlineSeconds", `deadlineSeconds is ${dl}: allowed a number in [0, ${max.deadlineSeconds}]`);
  if (!Number.isInteger(cc) || cc < 1 || cc > max.concurrency) add("concurrency", `concurrency is ${cc}: allowed an integer in 1..${max.concurrency}`);
  if (!Array.isArray(clients)) {
    add("clients", `clients is ${typeof clients}: expected a list of probe clients`);
    return failures;
  }
  const seen = new Set<string>();
  clients.forEach((c: ProbeClientInput, i) => {
    const at = `clients[${i}]`;
    if (typeof c?.namespace !== "string" || typeof c?.name !== "string" || c.namespace === "" || c.name === "") {
      add(at, `${at}: namespace and name are required`);
      return;
    }
    if (typeof c.labels !== "object" || c.labels === null || Object.keys(c.labels).length === 0) add(`${at}.labels`, `${at} (${c.from}): labels must select the client's pods, found ${JSON.stringify(c.labels)}`);
    if (typeof c.sidecar !== "boolean") add(`${at}.sidecar`, `${at} (${c.from}): sidecar must be true or false`);
    if (!Array.isArray(c.targets) || c.targets.length === 0) {
      add(`${at}.targets`, `${at} (${c.from}): at least one target is required`);
      return;
    }
    c.targets.forEach((t, j) => {
      const tat = `${at}.targets[${j}]`;
      const key = `${c.namespace}/${c.name}|${t.namespace}/${t.service}:${t.port}${t.path ?? "/headers"}|${t.token === undefined ? "" : "token"}`;
      if (seen.has(key)) add(tat, `${tat}: ${c.from} to ${t.to}${t.path ?? "/headers"} appears twice`);
      seen.add(key);
      try {
        validateTarget({ id: "c0", host: `${t.service}.${t.namespace}`, port: t.port, ...(t.path !== undefined ? { path: t.path } : {}), ...(t.token !== undefined ? { token: t.token } : {}) });
      } catch (e) {
        add(tat, `${tat} (${c.from} to ${t.to}): ${(e as Error).message.replace(/^probe target c0: /, "")}`);
      }
      const e = t.expected;
      if (!e || !Number.isInteger(e.code) || e.code < 0 || e.code > 599) add(`${tat}.expected.code`, `${tat}: expected.code is ${JSON.stringify(e?.code)}: allowed 0 (refused) or an HTTP status`);
      else if (typeof e.mtls !== "boolean" || typeof e.reason !== "string") add(`${tat}.expected`, `${tat}: expected needs mtls (boolean) and reason (string)`);
      else if (e.clientIdentity !== undefined && !/^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(e.clientIdentity)) {
        add(`${tat}.expected.clientIdentity`, `${tat}: clientIdentity ${e.clientIdentity} is not spiffe://<trust domain>/ns/<ns>/sa/<sa>`);
      } else if (e.failure !== undefined ? !isProbeFailure(e.failure) || (e.code !== 0 && e.code !== 503) : e.code === 0) {
        // Without its kind a failure cannot be confirmed (see ProbeOutcome.failure), so 000 needs one.
        add(`${tat}.expected.failure`, `${tat}: expected.failure is ${JSON.stringify(e.failure)} with code ${e.code}: allowed "reset" or "no-endpoint", with code 0 or 503 only, and required with code 0`);
      }
    });
  });
  return failures;
}

/** Canonical JSON (sorted keys) for hashing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the probe set (tokens included, so a new token runs the probes again; only the hash is stored). */
export function probesHash(clients: ProbeClientInput[]): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(canonicalJson(clients)).digest("hex");
}

/**
 * A `revision` for ConnectivityProbe: sha256 of the deployed policy objects, independent of
 * their order and key order, so the probes run again exactly when one of them changes.
 */
export function policyRevision(objects: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }[]): string {
  const key = (o: (typeof objects)[number]) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  const sorted = [...objects].sort((a, b) => key(a).localeCompare(key(b)));
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(canonicalJson(sorted)).digest("hex");
}
