/**
 * Reads Kubernetes objects from multi-document YAML (files, directories, `kind: List`), keeping
 * where each object came from so that every later error can say file:line:col.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node, type YAMLError } from "yaml";
import type { KubeObject } from "./types";

/** 1-based, as editors and compilers print them. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export type YamlPath = readonly (string | number)[];

/** One object read from YAML, with the means to locate any of its fields in the source. */
export interface SourceObject {
  object: KubeObject;
  /** Where the object starts (the document, or its entry under `items:`). */
  position: SourcePosition;
  /**
   * Position of `path` inside the object (e.g. ["spec", "mtls", "mod"]): the key of the last
   * segment (or its value, with `"value"`), or the deepest part of the path that exists.
   */
  locate(path: YamlPath, target?: "key" | "value"): SourcePosition;
}

/** An input problem tied to a place in a file (or to a whole file when line is absent). */
export class SourceError extends Error {
  constructor(
    public readonly file: string,
    public readonly detail: string,
    public readonly line?: number,
    public readonly col?: number,
  ) {
    // A safety net under the excerpts' own caps: no message quotes a whole file.
    const shown = detail.length > 10 * EXCERPT_MAX ? `${detail.slice(0, 10 * EXCERPT_MAX - 1)}…` : detail;
    super(line === undefined ? `${file}: ${shown}` : `${file}:${line}:${col ?? 1}: ${shown}`);
    this.name = "SourceError";
  }

  static at(position: SourcePosition, detail: string): SourceError {
    return new SourceError(position.file, detail, position.line, position.col);
  }
}

/** Several input problems, reported together (like `kubectl apply` lists every invalid object). */
export class SourceErrors extends Error {
  constructor(public readonly errors: readonly SourceError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "SourceErrors";
  }
}

/**
 * Kinds without a namespace. Everything else is namespaced: without `metadata.namespace` it goes
 * to "default", as `kubectl apply` does when no `-n` is given. A list, not a Set: the probe's
 * serialized provider captures this module, and Pulumi's serializer rebuilds a Set as a plain object, whose .has then throws.
 */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "PriorityClass",
  "RuntimeClass",
  "IngressClass",
  "CertificateSigningRequest",
  "ComponentStatus",
  "FlowSchema",
  "PriorityLevelConfiguration",
  "ClusterIssuer",
];

const LIST_KIND = /List$/;

/**
 * Parses one YAML text (possibly many documents) into objects. `kind: List` (and `*List` with an
 * `items` sequence, as `kubectl get -o yaml` prints) yields its items. Empty documents are skipped.
 * Throws SourceErrors with every syntax error of the text, or every document that is not an object.
 */
export function readYamlText(text: string, file: string): SourceObject[] {
  const lineCounter = new LineCounter();
  // YAML 1.2 core schema (only true/false are booleans, so `namespace: y` stays a string), with the
  // `<<` merge keys that manifests written for Kubernetes' YAML 1.1 reader use.
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true });
  const pos = (offset: number): SourcePosition => ({ file, ...lineCounter.linePos(offset) });
  if (!Array.isArray(docs)) {
    // EmptyStream: only comments or directives. Its errors (bad directives) still count.
    const errors = (docs as { errors: YAMLError[] }).errors;
    if (errors.length > 0) throw new SourceErrors(errors.map((e) => SourceError.at(pos(e.pos[0]), firstLine(e.message))));
    return [];
  }
  const syntax = docs.flatMap((d) => d.errors.map((e) => SourceError.at(pos(e.pos[0]), firstLine(e.message))));
  if (syntax.length > 0) throw new SourceErrors(syntax);

  const out: SourceObject[] = [];
  const problems: SourceError[] = [];
  for (const doc of docs) {
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) continue;
    const root = doc.contents as Node;
    const start = pos(root.range?.[0] ?? 0);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      // The yaml library refuses aliases that expand too much (a "billion laughs" document).
      problems.push(SourceError.at(start, `cannot expand the YAML aliases: ${firstLine(e instanceof Error ? e.message : String(e))}`));
      continue;
    }
    const items = listItems(value);
    if (items) {
      items.forEach((item, i) => {
        const itemPath = ["items", i];
        const at = pos(nodeAt(doc, itemPath)?.range?.[0] ?? root.range?.[0] ?? 0);
        collect(item, at, itemPath, doc, pos, out, problems);
      });
    } else {
      collect(value, start, [], doc, pos, out, problems);
    }
  }
  if (problems.length > 0) throw new SourceErrors(problems);
  return out;
}

function collect(
  value: unknown,
  at: SourcePosition,
  prefix: YamlPath,
  doc: Document,
  pos: (offset: number) => SourcePosition,
  out: SourceObject[],
  problems: SourceError[],
): void {
  const why = notAnObject(value);
  if (why) {
    problems.push(SourceError.at(at, `not a Kubernetes object: ${why}`));
    return;
  }
  out.push({
    object: withDefaultNamespace(value as KubeObject),
    position: at,
    locate: (path, target = "key") => pos(locateOffset(doc, [...prefix, ...path], target) ?? 0),
  });
}

/** Why a parsed document is not a Kubernetes object, or undefined when it is one. */
function notAnObject(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `expected a mapping with apiVersion, kind and metadata, found ${describe(value)}`;
  }
  const o = value as Record<string, unknown>;
  for (const key of ["apiVersion", "kind"]) {
    if (typeof o[key] !== "string" || o[key] === "") return `${key} must be a non-empty string, found ${describe(o[key])}`;
  }
  const meta = o.metadata;
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) return `metadata must be a mapping, found ${describe(meta)}`;
  const m = meta as Record<string, unknown>;
  if (typeof m.name !== "string" || m.name === "") return `metadata.name must be a non-empty string, found ${describe(m.name)}`;
  if (m.namespace !== undefined && typeof m.namespace !== "string") return `metadata.namespace must be a string, found ${describe(m.namespace)}`;
  return undefined;
}

function listItems(value: unknown): unknown[] | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.kind !== "string" || !LIST_KIND.test(o.kind) || !Array.isArray(o.items)) return undefined;
  return o.items;
}

export function withDefaultNamespace(o: KubeObject): KubeObject {
  if (CLUSTER_SCOPED_KINDS.includes(o.kind) || (o.metadata.namespace !== undefined && o.metadata.namespace !== "")) return o;
  return { ...o, metadata: { ...o.metadata, namespace: "default" } };
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${excerpt(JSON.stringify(v))}`;
}

function firstLine(s: string): string {
  return excerpt(s.split("\n", 1)[0]!.trim());
}

/** Longest excerpt of the input an error quotes: a whole file as one scalar must not fill the terminal. */
export const EXCERPT_MAX = 80;

/** `s`, cut to EXCERPT_MAX characters with "…" (JSON-quoted values stay recognisable). */
export function excerpt(s: string): string {
  return s.length <= EXCERPT_MAX ? s : `${s.slice(0, EXCERPT_MAX - 1)}…`;
}

/**
 * Why a file's bytes are not YAML text, or undefined. The YAML spec allows UTF-16, but kubectl
 * reads UTF-8 only, and a NUL byte never occurs in UTF-8 text: both mean the file is not a manifest.
 */
export function notText(bytes: Uint8Array): string | undefined {
  const bom = bytes.length >= 2 ? (bytes[0]! << 8) | bytes[1]! : -1;
  if (bom === 0xfffe || bom === 0xfeff) return "UTF-16 text (byte order mark); save it as UTF-8";
  const nul = bytes.indexOf(0);
  if (nul >= 0) return `binary file (NUL byte at offset ${nul}), not YAML text`;
  return undefined;
}

function nodeAt(doc: Document, path: YamlPath): Node | undefined {
  const n = doc.getIn(path, true);
  return n !== null && typeof n === "object" && "range" in (n as object) ? (n as Node) : undefined;
}

/** Offset of `path`: the key node (or value node) of a mapping entry, the item for a sequence index. */
function locateOffset(doc: Document, path: YamlPath, target: "key" | "value"): number | undefined {
  let node: unknown = doc.contents;
  let offset = (node as Node | null)?.range?.[0];
  for (const [i, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) return offset;
      const last = i === path.length - 1;
      const valueStart = (pair.value as Node | null)?.range?.[0];
      offset = last && target === "value" && valueStart !== undefined ? valueStart : ((pair.key as Node | null)?.range?.[0] ?? offset);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) return offset;
      node = item;
      offset = (item as Node).range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** `*.yaml` and `*.yml` under a directory, recursively, sorted by path. */
export function listYamlFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    const entries = readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e.name) && (e.isFile() || e.isSymbolicLink())) found.push(p);
    }
  };
  walk(dir);
  return found;
}

/** Reads every file (or every YAML file under each directory) in the order given. */
export function readYamlPaths(paths: readonly string[], readStdin?: () => string): SourceObject[] {
  const out: SourceObject[] = [];
  const problems: SourceError[] = [];
  const readOne = (file: string, text: string): void => {
    try {
      out.push(...readYamlText(text, file));
    } catch (e) {
      if (e instanceof SourceErrors) problems.push(...e.errors);
      else throw e;
    }
  };
  for (const p of paths) {
    if (p === "-" && readStdin) {
      const text = readStdin();
      // Already decoded: binary or UTF-16 bytes show as NUL characters.
      if (text.includes("\u0000")) problems.push(new SourceError("<stdin>", "binary or UTF-16 input (NUL character), not UTF-8 YAML text"));
      else readOne("<stdin>", text);
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      problems.push(new SourceError(p, `cannot read: ${osMessage(e)}`));
      continue;
    }
    const files = isDir ? listYamlFiles(p) : [p];
    if (isDir && files.length === 0) problems.push(new SourceError(p, "directory holds no .yaml or .yml file"));
    for (const f of files) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(f);
      } catch (e) {
        problems.push(new SourceError(f, `cannot read: ${osMessage(e)}`));
        continue;
      }
      const why = notText(bytes);
      if (why) problems.push(new SourceError(f, why));
      else readOne(f, bytes.toString("utf8"));
    }
  }
  if (problems.length > 0) throw new SourceErrors(problems);
  return out;
}

/** Node's message without the repeated path: "ENOENT: no such file or directory". */
function osMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code && typeof err.message === "string") return err.message.replace(/, \w+ '.*'$/, "");
  return String(e);
}
