/**
 * Reading `Pulumi.<stack>.yaml` without Pulumi, so the CLI, the policy pack and tests load a
 * stack's config through the same validation as `pulumi up`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
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

/** What `pulumi config --json` prints per key; a secret's value is left out without --show-secrets. */
interface PulumiConfigEntry {
  value?: string;
  objectValue?: unknown;
  secret?: boolean;
}

/** Stands for a secret `pulumi config` blinds: toPulumiConfig passes `{secure}` on as an unread secret. */
const BLINDED_SECRET = { secure: "<blinded by pulumi config>" };

/**
 * A stack's config as the Pulumi CLI resolves it, ESC environments opened (`--open`), secrets
 * blinded (never `--show-secrets`). Why not, as a string, when the CLI is missing or fails.
 */
function pulumiResolvedConfig(projectDir: string, stackFile: string, stack: string): Record<string, unknown> | string {
  const args = ["config", "--json", "--open", "--stack", stack, "--config-file", stackFile, "--non-interactive"];
  const r = spawnSync("pulumi", args, { cwd: projectDir, encoding: "utf8", timeout: 120_000 });
  if (r.error) return (r.error as NodeJS.ErrnoException).code === "ENOENT" ? "the Pulumi CLI is not on PATH" : `\`pulumi config\` failed: ${r.error.message}`;
  const firstLine = (s: string) => s.trim().split("\n")[0] || "no message";
  if (r.status !== 0) return `\`pulumi ${args.slice(0, 5).join(" ")}\` exited ${r.status ?? r.signal}: ${firstLine(r.stderr)}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return `\`pulumi config --json\` printed no JSON map: ${firstLine(r.stdout)}`;
  const config: Record<string, unknown> = {};
  for (const [key, e] of Object.entries(parsed as Record<string, PulumiConfigEntry>)) {
    if (e?.secret) config[key] = BLINDED_SECRET;
    else if (e?.objectValue !== undefined) config[key] = e.objectValue;
    else if (e?.value !== undefined) config[key] = e.value;
  }
  return config;
}

/**
 * What a stack's program sees: project config under the stack file's. An ESC `environment:` only
 * Pulumi can resolve: given the stack's name, its values are read through `pulumi config` where
 * the CLI works (secrets stay unread); otherwise the plan says so in a notice, never silently.
 */
export function configWithProject(projectFile: string, stackFile: string, stack?: string): { config: Record<string, unknown>; notices: string[] } {
  const { config: stackConfig, environment } = readStackFile(stackFile);
  const config = { ...readProjectConfig(projectFile).config, ...stackConfig };
  if (environment === undefined || environment === null) return { config, notices: [] };
  const resolved = stack === undefined ? "no stack name to ask `pulumi config` for" : pulumiResolvedConfig(dirname(projectFile), stackFile, stack);
  if (typeof resolved !== "string") return { config: { ...config, ...resolved }, notices: [] };
  return {
    config,
    notices: [`${stackFile} imports ESC environment(s) ${JSON.stringify(environment)}: their values were not read (${resolved}); the plan uses the stack file and Pulumi.yaml alone`],
  };
}
