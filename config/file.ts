/**
 * Reading `Pulumi.<stack>.yaml` without Pulumi, so the CLI, the policy pack and tests load a
 * stack's config through the same validation as `pulumi up`.
 */
import { existsSync, readFileSync } from "node:fs";
import { LineCounter, parseDocument } from "yaml";
import { CONFIG_NAMESPACE, ConfigError, didYouMean, issue } from "./errors";

/** The top-level keys of a Pulumi stack file (`Pulumi.<stack>.yaml`). */
const STACK_FILE_KEYS = ["config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt"];

/**
 * The `config:` map of a stack file, keys as written (`istio-mtls:mtls`, `kubernetes:context`),
 * values as YAML parsed them. A file without `config:` (or with a misspelt block) is an error;
 * `config: {}` is the defaults.
 */
export function readStackConfigFile(path: string): Record<string, unknown> {
  return readStackFile(path).config;
}

/** A stack file's `config:` map and its ESC `environment:` imports (undefined when none). */
function readStackFile(path: string): { config: Record<string, unknown>; environment: unknown } {
  const text = readFileSync(path, "utf8");
  // YAML 1.2 core schema, as Pulumi's Go YAML reader: only true/false are booleans.
  const lineCounter = new LineCounter();
  const parsed = parseDocument(text, { schema: "core", uniqueKeys: true, prettyErrors: false, lineCounter });
  if (parsed.errors.length > 0) {
    // file:line:col per error: with `plan --against` two stack files are read.
    const where = (offset: number) => `${path}:${lineCounter.linePos(offset).line}:${lineCounter.linePos(offset).col}`;
    throw new Error(parsed.errors.map((e) => `${where(e.pos[0])}: not valid YAML: ${e.message.split("\n")[0]}`).join("\n"));
  }
  const doc: unknown = parsed.toJS();
  if (doc === null || doc === undefined || typeof doc !== "object" || Array.isArray(doc)) {
    const found = doc === null || doc === undefined ? "an empty file" : Array.isArray(doc) ? "a list" : typeof doc;
    throw new Error(`${path}: expected a YAML map with a "config:" key, found ${found}; allowed: a stack file (write "config: {}" for the defaults)`);
  }
  // A misspelt block (`configs:`) would otherwise plan a default stack without a word.
  for (const key of Object.keys(doc)) {
    if (!STACK_FILE_KEYS.includes(key)) {
      throw new Error(`${path}: ${JSON.stringify(key)} is not a stack file key${didYouMean(key, STACK_FILE_KEYS)}; allowed: ${STACK_FILE_KEYS.join(", ")}`);
    }
  }
  const { config, environment } = doc as Record<string, unknown>;
  if (config === undefined) throw new Error(`${path}: no "config:" block, so every setting would be a default; allowed: a "config:" map ("config: {}" for the defaults)`);
  if (config === null) return { config: {}, environment };
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new Error(`${path}: "config:" must be a map of "<namespace>:<key>" to value, found ${Array.isArray(config) ? "a list" : typeof config}`);
  }
  return { config: { ...(config as Record<string, unknown>) }, environment };
}

/**
 * A `get` for loadStackConfig over a stack file's config map: the value of `istio-mtls:<key>`.
 * Pulumi's encrypted values (`{secure: …}`) cannot be read without Pulumi and are refused.
 */
export function stackFileGetter(config: Record<string, unknown>): (key: string) => unknown {
  return (key) => {
    const v = config[`${CONFIG_NAMESPACE}:${key}`];
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v) {
      throw new ConfigError([issue([key], "{secure: …}", "is an encrypted value", "plain values in the stack file (this config holds no secrets)")]);
    }
    return v;
  };
}

/**
 * Project-level config from `Pulumi.yaml`'s `config:` block, as Pulumi reads it: a key without a
 * namespace belongs to the project's; a value is given plainly or as `{value}` / `{default}` (a
 * declaration with only `type` gives none). Stack values override these (configWithProject).
 */
export function readProjectConfig(projectFile: string): { name: string; config: Record<string, unknown> } {
  if (!existsSync(projectFile)) return { name: CONFIG_NAMESPACE, config: {} };
  const doc = parseDocument(readFileSync(projectFile, "utf8"), { schema: "core" }).toJS() as { name?: unknown; config?: unknown } | null;
  const name = typeof doc?.name === "string" ? doc.name : CONFIG_NAMESPACE;
  const block = doc?.config;
  if (block === undefined || block === null) return { name, config: {} };
  if (typeof block !== "object" || Array.isArray(block)) throw new Error(`${projectFile}: "config:" must be a map of keys to values or declarations`);
  const config: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(block)) {
    const full = key.includes(":") ? key : `${name}:${key}`;
    const declared = entry !== null && typeof entry === "object" && !Array.isArray(entry) && ("type" in entry || "value" in entry || "default" in entry);
    const value = declared ? ((entry as { value?: unknown }).value ?? (entry as { default?: unknown }).default) : entry;
    if (value !== undefined) config[full] = value;
  }
  return { name, config };
}

/**
 * What a stack's program sees without Pulumi: project config under the stack file's. An ESC
 * `environment:` can only be resolved by Pulumi, so it comes back as a notice, never silently.
 */
export function configWithProject(projectFile: string, stackFile: string): { config: Record<string, unknown>; notices: string[] } {
  const { config: stack, environment } = readStackFile(stackFile);
  const project = readProjectConfig(projectFile).config;
  const notices =
    environment === undefined || environment === null
      ? []
      : [`${stackFile} imports ESC environment(s) ${JSON.stringify(environment)}: their values were not read (only Pulumi can resolve them); the plan uses the stack file and Pulumi.yaml alone`];
  return { config: { ...project, ...stack }, notices };
}
