/**
 * The probe's inputs as the stack passes them: the predicted cells themselves (each with its
 * request) and the bytes of the end-user tokens they carry. Validation and the change hash live
 * here (no Pulumi), so both the component and its serialized provider use the same code.
 */
import { PROBE_MAXIMA } from "../mesh/settings";
import type { Cell, EndUserToken } from "../mesh/prediction";
import { cellKey, isCellFailure, requestText } from "./observe";
import { validateTarget, type ScriptTarget } from "./script";

/**
 * The bytes of an end-user token that cells carry (the model knows only its claims): the probe
 * sends them as the bearer of every request whose token has these claims.
 */
export interface BearerToken<T = string> {
  token: EndUserToken;
  bearer: T;
}

function unsendable(cell: Cell): string {
  return (
    `${cell.from} to ${requestText(cell)}: the request carries ${cell.request.token.kind === "invalid" ? "an" : "a"} ${cell.request.token.kind} token but no token bytes were given (tokenFor); ` +
    `the probe cannot send a token it does not have, and without it would check another request`
  );
}

/**
 * The bytes for each distinct token of `cells` (kind "none" needs none), from `tokenFor`.
 * Throws, naming the first cell, when `tokenFor` has none for a token.
 */
export function bearerTokens<T>(cells: readonly Cell[], tokenFor: (token: EndUserToken) => T | undefined): BearerToken<T>[] {
  const found = new Map<string, BearerToken<T>>();
  for (const cell of cells) {
    const { token } = cell.request;
    const key = canonicalJson(token);
    if (token.kind === "none" || found.has(key)) continue;
    const bearer = tokenFor(token);
    if (bearer === undefined) throw new Error(unsendable(cell));
    found.set(key, { token, bearer });
  }
  return [...found.values()];
}

/** The bearer to send for `cell`: none for kind "none"; throws when `tokens` lack its token's bytes. */
export function bearerOf(cell: Cell, tokens: readonly BearerToken[]): string | undefined {
  const { token } = cell.request;
  if (token.kind === "none") return undefined;
  const key = canonicalJson(token);
  const found = tokens.find((t) => canonicalJson(t.token) === key);
  if (!found) throw new Error(unsendable(cell));
  return found.bearer;
}

/** `cell`'s request as the probe script sends it, validated; throws naming the cell. */
export function scriptTarget(cell: Cell, id: string, bearer: string | undefined): ScriptTarget {
  const { path, method } = cell.request;
  const target: ScriptTarget = { id, host: `${cell.target.service}.${cell.target.namespace}`, port: cell.target.port, path, method, ...(bearer !== undefined ? { token: bearer } : {}) };
  try {
    validateTarget(target);
  } catch (e) {
    throw new Error(`${cell.from} to ${requestText(cell)}: ${(e as Error).message.replace(`probe target ${id}: `, "")}`);
  }
  return target;
}

/**
 * Live mode (probe/provider.ts): the stack's managed namespaces (the read's scope), istiod's
 * namespace (its mesh ConfigMap names the root namespace) and the probe clients, whose cells are
 * predicted at probe time: `<workload>.<namespace>`, one per managed namespace and the plaintext one.
 */
export interface LiveInput {
  namespaces: string[];
  istioNamespace: string;
  clients: string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Every problem with a live input, as (property, reason) pairs; live mode reads the exceptions from the cluster, so none may be given. */
export function validateLiveInput(live: unknown, exceptions: unknown): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  if (Array.isArray(exceptions) && exceptions.length > 0) failures.push({ property: "exceptions", reason: "exceptions are read from the cluster in live mode: omit them" });
  const l = live as Partial<LiveInput> | null;
  const labels = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && DNS_LABEL.test(x));
  if (typeof l !== "object" || l === null) return [...failures, { property: "live", reason: `live is ${JSON.stringify(live)}: expected { namespaces, istioNamespace, clients }` }];
  if (!labels(l.namespaces)) failures.push({ property: "live.namespaces", reason: `live.namespaces is ${JSON.stringify(l.namespaces)}: expected the managed namespaces, at least one` });
  if (typeof l.istioNamespace !== "string" || !DNS_LABEL.test(l.istioNamespace)) failures.push({ property: "live.istioNamespace", reason: `live.istioNamespace is ${JSON.stringify(l.istioNamespace)}: expected istiod's namespace` });
  const client = (x: unknown) => typeof x === "string" && x.split(".").length === 2 && x.split(".").every((p) => DNS_LABEL.test(p));
  if (!Array.isArray(l.clients) || l.clients.length === 0 || !l.clients.every(client)) {
    failures.push({ property: "live.clients", reason: `live.clients is ${JSON.stringify(l.clients)}: expected the probe clients, <workload>.<namespace>, at least one` });
  }
  return failures;
}

export interface ProbeSettingsInput {
  requestTimeoutSeconds: number;
  deadlineSeconds: number;
  concurrency: number;
}


/**
 * Every problem with the inputs, as (property, reason) pairs; empty when valid. `tokens`
 * undefined: not known yet (secrets computed by other resources), their bytes are not checked.
 */
export function validateProbeInputs(predicted: unknown, tokens: unknown, settings: ProbeSettingsInput, revision: unknown): { property: string; reason: string }[] {
  const failures: { property: string; reason: string }[] = [];
  const add = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof revision !== "string" || revision === "") add("revision", `revision is ${JSON.stringify(revision)}: expected a non-empty hash of the deployed policy objects`);
  const { requestTimeoutSeconds: rt, deadlineSeconds: dl, concurrency: cc } = settings;
  const max = PROBE_MAXIMA;
  if (typeof rt !== "number" || !(rt > 0 && rt <= max.requestTimeoutSeconds)) add("requestTimeoutSeconds", `requestTimeoutSeconds is ${rt}: allowed a number in (0, ${max.requestTimeoutSeconds}]`);
  if (typeof dl !== "number" || !(dl >= 0 && dl <= max.deadlineSeconds)) add("deadlineSeconds", `deadlineSeconds is ${dl}: allowed a number in [0, ${max.deadlineSeconds}]`);
  if (!Number.isInteger(cc) || cc < 1 || cc > max.concurrency) add("concurrency", `concurrency is ${cc}: allowed an integer in 1..${max.concurrency}`);
  if (tokens !== undefined && !Array.isArray(tokens)) add("tokens", `tokens is ${typeof tokens}: expected a list of { token, bearer }`);
  if (!Array.isArray(predicted)) {
    add("predicted", `predicted is ${typeof predicted}: expected the predicted cells`);
    return failures;
  }
  const seen = new Set<string>();
  predicted.forEach((c: Cell, i) => {
    const at = `predicted[${i}]`;
    const r = c?.request;
    if (typeof c?.client?.namespace !== "string" || typeof c.client.name !== "string" || c.client.namespace === "" || c.client.name === "" || typeof c.target !== "object" || c.target === null) {
      add(at, `${at}: client (namespace and name) and target are required`);
      return;
    }
    if (typeof r?.path !== "string" || typeof r.method !== "string" || typeof r.token?.kind !== "string") {
      add(`${at}.request`, `${at} (${c.from} to ${c.to}): request needs path, method and token`);
      return;
    }
    const labels = c.client.labels;
    if (typeof labels !== "object" || labels === null || Object.keys(labels).length === 0) add(`${at}.client.labels`, `${at} (${c.from}): labels must select the client's pods, found ${JSON.stringify(labels)}`);
    if (typeof c.client.sidecar !== "boolean") add(`${at}.client.sidecar`, `${at} (${c.from}): sidecar must be true or false`);
    const key = cellKey(c);
    if (seen.has(key)) add(at, `${at}: ${c.from} to ${requestText(c)} appears twice`);
    seen.add(key);
    try {
      scriptTarget(c, "c0", Array.isArray(tokens) ? bearerOf(c, tokens) : undefined);
    } catch (e) {
      add(`${at}.request`, `${at}: ${(e as Error).message}`);
    }
    if (!Number.isInteger(c.code) || c.code < 0 || c.code > 599) add(`${at}.code`, `${at}: code is ${JSON.stringify(c.code)}: allowed 0 (refused) or an HTTP status`);
    else if (typeof c.mtls !== "boolean" || typeof c.reason !== "string") add(at, `${at}: a cell needs mtls (boolean) and reason (string)`);
    else if (c.clientIdentity !== undefined && !/^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/[^/]+$/.test(c.clientIdentity)) {
      add(`${at}.clientIdentity`, `${at}: clientIdentity ${c.clientIdentity} is not spiffe://<trust domain>/ns/<ns>/sa/<sa>`);
    } else if (c.failure !== undefined ? !isCellFailure(c.failure) || (c.code !== 0 && c.code !== 503) : c.code === 0) {
      // Without its kind a failure cannot be confirmed (see Cell.failure), so 000 needs one.
      add(`${at}.failure`, `${at}: failure is ${JSON.stringify(c.failure)} with code ${c.code}: allowed "reset" or "no-endpoint", with code 0 or 503 only, and required with code 0`);
    }
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

/**
 * sha256 of the probe set (token bytes included, so a new token runs the probes again; only the
 * hash is stored). The live input is part of it; absent, the hash is what it was without live mode.
 */
export function probesHash(predicted: readonly Cell[], tokens: readonly BearerToken[], live?: LiveInput): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(canonicalJson({ predicted, tokens, live })).digest("hex");
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
