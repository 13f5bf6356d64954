/**
 * From the command line's FILE_OR_DIR arguments to the objects the model reads: YAML reading,
 * structural validation of the Istio specs, and the decision about kinds the model does not read.
 */
import { isNotModelledKind, MODEL_API_VERSIONS, MODEL_KINDS, notModelledNotice } from "../mesh/predict";
import { validateSourceObjects } from "../mesh/schema";
import { readYamlPaths, SourceError, SourceErrors, type SourceObject } from "../mesh/yaml";
import type { KubeObject } from "../mesh/types";

/**
 * API groups whose objects change request outcomes. An object of these groups that the model
 * does not read (an old `v1alpha1` PeerAuthentication, a WorkloadEntry...) would make the
 * prediction silently wrong, so it is an error unless the user says to skip it.
 * `authentication.istio.io` and `rbac.istio.io` hold the pre-1.5 APIs of the seed documents.
 * Exception: the networking kinds of NOT_MODELLED_KINDS (VirtualService, Gateway, Sidecar,
 * ServiceEntry, EnvoyFilter) are kept, and the prediction marks the cells they could change.
 */
export const OUTCOME_GROUPS: ReadonlySet<string> = new Set([
  "security.istio.io",
  "networking.istio.io",
  "authentication.istio.io",
  "rbac.istio.io",
]);

export interface LoadOptions {
  /** Skip (and list on stderr) objects of Istio kinds the model does not read, instead of failing. */
  ignoreUnknownKinds?: boolean;
  readStdin?: () => string;
}

export interface LoadedInput {
  /** Every object read (the model ignores kinds it does not know), with those of NOT_MODELLED_KINDS. */
  objects: SourceObject[];
  /** One line per notice for stderr: skipped objects, objects of NOT_MODELLED_KINDS that mark no cell. */
  notices: string[];
}

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

export function objectRef(o: KubeObject): string {
  return o.metadata.namespace ? `${o.kind} ${o.metadata.namespace}/${o.metadata.name}` : `${o.kind} ${o.metadata.name}`;
}

function isRead(o: KubeObject): boolean {
  const versions = (MODEL_API_VERSIONS as Readonly<Record<string, readonly string[] | undefined>>)[o.kind];
  return versions !== undefined && versions.includes(o.apiVersion);
}

/** Why the model cannot read an object of an outcome-changing group. */
function unreadReason(o: KubeObject): string {
  const versions = (MODEL_API_VERSIONS as Readonly<Record<string, readonly string[] | undefined>>)[o.kind];
  if (versions) return `the model reads ${o.kind} as ${versions.join(" or ")}, not ${o.apiVersion}`;
  const read = MODEL_KINDS.filter((k) => OUTCOME_GROUPS.has(groupOf(MODEL_API_VERSIONS[k][0]!)));
  return `the model does not read ${o.kind} (${o.apiVersion}), which can change request outcomes (it reads ${read.join(", ")})`;
}

/**
 * Reads, validates and sorts the input. Throws SourceErrors listing every problem found: unreadable
 * files, YAML syntax, documents that are not objects, schema violations, unread Istio kinds.
 */
export function loadInput(paths: readonly string[], options: LoadOptions = {}): LoadedInput {
  const read = readYamlPaths(paths, options.readStdin);
  const errors: SourceError[] = validateSourceObjects(read);
  const notices: string[] = [];
  const objects = lastWins(read, notices);
  const skippedByKind = new Map<string, number>();
  const kept: SourceObject[] = [];
  for (const so of objects) {
    const o = so.object;
    if (isRead(o)) {
      kept.push(so);
      continue;
    }
    if (isNotModelledKind(o)) {
      kept.push(so);
      const notice = notModelledNotice(o);
      if (notice) notices.push(`${fmt(so)}: ${notice}`);
      continue;
    }
    if (OUTCOME_GROUPS.has(groupOf(o.apiVersion))) {
      if (options.ignoreUnknownKinds) {
        notices.push(`${fmt(so)}: skipped ${objectRef(o)} (${o.apiVersion}): the prediction ignores it`);
      } else {
        errors.push(SourceError.at(so.position, `${objectRef(o)}: ${unreadReason(o)}; remove it or pass --ignore-unknown-kinds to predict without it`));
      }
      continue;
    }
    const kind = `${o.kind} (${o.apiVersion})`;
    skippedByKind.set(kind, (skippedByKind.get(kind) ?? 0) + 1);
  }
  if (errors.length > 0) throw new SourceErrors(errors);
  if (skippedByKind.size > 0) {
    const total = [...skippedByKind.values()].reduce((a, b) => a + b, 0);
    const kinds = [...skippedByKind].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
    notices.push(`skipped ${total} object${total === 1 ? "" : "s"} of kinds the model does not read: ${kinds.join(", ")}`);
  }
  return { objects: kept, notices };
}

/**
 * The same object (API group, kind, namespace, name) given twice: `kubectl apply` of the files in
 * order creates it from the first and updates it to the last, so the last copy is kept, in the
 * place of the first (input order stands for creation order, which breaks policy ties).
 */
function lastWins(objects: readonly SourceObject[], notices: string[]): SourceObject[] {
  const slot = new Map<string, number>();
  const out: SourceObject[] = [];
  for (const so of objects) {
    const key = `${groupOf(so.object.apiVersion)} ${objectRef(so.object)}`;
    const i = slot.get(key);
    if (i === undefined) {
      slot.set(key, out.length);
      out.push(so);
    } else {
      notices.push(`${fmt(so)}: ${objectRef(so.object)} replaces the one at ${fmt(out[i]!)} (the last one wins, as with kubectl apply)`);
      out[i] = so;
    }
  }
  return out;
}

function fmt(so: SourceObject): string {
  return `${so.position.file}:${so.position.line}:${so.position.col}`;
}

/**
 * Where the object named `Kind namespace/name` (as ModelInputError names it) came from; the last
 * one of that name, since "appears twice" is about the second copy.
 */
export function findSource(objects: readonly SourceObject[], ref: string): SourceObject | undefined {
  for (let i = objects.length - 1; i >= 0; i--) if (objectRef(objects[i]!.object) === ref) return objects[i];
  return undefined;
}
