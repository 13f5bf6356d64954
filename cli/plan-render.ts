/**
 * Runs a Pulumi program (the stack's index.ts) under Pulumi's mock runtime with a stack file's
 * config, and records every resource it registers: no cluster, no Pulumi CLI, no engine.
 * Each render runs in a child process, since the Pulumi runtime and the program's modules are
 * process-wide state that a second render (`plan --against`) must not inherit.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_NAMESPACE } from "../config/errors";

export interface RenderedResource {
  type: string;
  name: string;
  urn: string;
  /** false for component resources (and remote components, which register without children). */
  custom: boolean;
  /** The resource's inputs, as the engine (and a policy pack in preview) would see them. */
  props: Record<string, unknown>;
  /**
   * URNs (as `urn` has them) of the resources it waits for: its parent, its `dependsOn` (a
   * component expanded to its children, as Pulumi does) and those whose outputs its inputs use.
   */
  dependsOn: string[];
  /** Paths of inputs unknown under mocks (other resources' outputs, known only at apply); `props` holds Pulumi's marker there. */
  unknowns: (string | number)[][];
}

export interface RenderRequest {
  /** Absolute path of the program's entry module. */
  program: string;
  project: string;
  stack: string;
  /** A stack file's `config:` map, keys as written (`istio-mtls:mtls`, `kubernetes:context`). */
  config: Record<string, unknown>;
}

/** Stands for an encrypted value that plan cannot decrypt: the program sees it only as a secret. */
export const UNREAD_SECRET = "<secret: not decrypted by plan>";

/**
 * Pulumi config values are strings: objects and lists travel as JSON, as `pulumi config set --path`
 * stores them. An encrypted value (`{secure: …}`) of another namespace (kubernetes:kubeconfig) is
 * passed as a secret placeholder, since the program only hands it on; one of `istio-mtls:` decides
 * what is deployed, so plan cannot go on without its plaintext and names it.
 */
export function toPulumiConfig(config: Record<string, unknown>): { values: Record<string, string>; secretKeys: string[] } {
  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!key.includes(":")) throw new Error(`config key ${JSON.stringify(key)} has no namespace; allowed: "<namespace>:<key>", e.g. "istio-mtls:mtls"`);
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
      if (key.startsWith(`${CONFIG_NAMESPACE}:`)) {
        throw new Error(`config key ${key} is an encrypted value ({secure: …}) and decides what the stack deploys; allowed: a plain value (the stack's settings hold no secrets)`);
      }
      values[key] = UNREAD_SECRET;
      secretKeys.push(key);
      continue;
    }
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { values, secretKeys };
}

/** The parts of the mock monitor's RegisterResource request and of the monitor read here (also by test/helpers/mocks.ts). */
export interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
}
interface MockMonitor {
  registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): unknown;
  newUrn(parent: string, type: string, name: string): string;
}

/** Paths in `value` where `isUnknown` holds. */
function unknownPaths(value: unknown, isUnknown: (v: unknown) => boolean, at: (string | number)[] = []): (string | number)[][] {
  if (isUnknown(value)) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => unknownPaths(v, isUnknown, [...at, i]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => unknownPaths(v, isUnknown, [...at, k]));
  return [];
}

/** In this process: only for the child entry below (and tests that own their process). */
export async function renderInProcess(req: RenderRequest): Promise<RenderedResource[]> {
  const pulumi = await import("@pulumi/pulumi");
  const records: RenderedResource[] = [];
  const failures: unknown[] = [];
  const recordUrn = (type: string, name: string) => `urn:pulumi:${req.stack}::${req.project}::${type}::${name}`;
  process.on("unhandledRejection", (e) => failures.push(e));
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        const urn = recordUrn(args.type, args.name);
        records.push({ type: args.type, name: args.name, urn, custom: args.custom ?? true, props: inputs, dependsOn: [], unknowns: unknownPaths(inputs, pulumi.isUnknown) });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: inputs };
      },
      call: (args) => args.inputs ?? {},
    },
    req.project,
    req.stack,
    true,
  );
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs?: () => Promise<void>; getMonitor(): MockMonitor };
  // newResource is not shown what a resource waits for: read it from the request the monitor gets
  // (URNs the monitor gave, parent types included), keyed by type and name as the records are.
  const monitor = settings.getMonitor();
  const register = monitor.registerResource.bind(monitor);
  const waitsFor = new Map<string, string[]>();
  const asRecorded = new Map<string, string>();
  monitor.registerResource = (request, callback) => {
    const [type, name, parent] = [request.getType(), request.getName(), request.getParent()];
    asRecorded.set(monitor.newUrn(parent, type, name), recordUrn(type, name));
    const urns = new Set([parent, ...request.getDependenciesList()]);
    request.getPropertydependenciesMap().forEach((v) => v.getUrnsList().forEach((u) => urns.add(u)));
    urns.delete("");
    waitsFor.set(`${type}::${name}`, [...urns]);
    return register(request, callback);
  };
  const { values, secretKeys } = toPulumiConfig(req.config);
  pulumi.runtime.setAllConfig(values, secretKeys);
  const loaded = require(req.program) as unknown;
  // A program may export an async function (Pulumi runs it) or a promise.
  if (typeof loaded === "function") await (loaded as () => unknown)();
  // Registrations chain through outputs: wait until a drained queue stays drained.
  for (let seen = -1; seen !== records.length; ) {
    seen = records.length;
    await (settings.waitForRPCs ? settings.waitForRPCs() : Promise.resolve());
    await new Promise((r) => setTimeout(r, 10));
  }
  if (failures.length > 0) {
    const e = failures[0];
    throw new Error(`the program failed under mocks: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const r of records) {
    const urns = (waitsFor.get(`${r.type}::${r.name}`) ?? []).map((u) => asRecorded.get(u)).filter((u): u is string => u !== undefined);
    r.dependsOn = [...new Set(urns)].sort();
  }
  return records;
}

/** Children at once: each loads Pulumi and the program, and the machines here have 2 cores. */
const MAX_CHILDREN = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function withSlot<T>(f: () => Promise<T>): Promise<T> {
  if (running >= MAX_CHILDREN) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await f();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** In a child process (see the module comment). */
export function renderStack(req: RenderRequest): Promise<RenderedResource[]> {
  return withSlot(() => renderInChild(req));
}

function renderInChild(req: RenderRequest): Promise<RenderedResource[]> {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-plan-"));
  const input = join(dir, "request.json");
  const output = join(dir, "resources.json");
  writeFileSync(input, JSON.stringify(req));
  return new Promise<RenderedResource[]>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--require", require.resolve("tsx/cjs"), __filename, input, output],
      { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, PULUMI_TEST_MODE: "true" } },
      (err, _stdout, stderr) => {
        try {
          if (err) {
            reject(new Error(`rendering ${req.program} for stack ${req.stack} failed: ${stderr.trim() || err.message}`));
            return;
          }
          resolve(JSON.parse(readFileSync(output, "utf8")) as RenderedResource[]);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });
}

if (require.main === module) {
  const [input, output] = process.argv.slice(2);
  renderInProcess(JSON.parse(readFileSync(input, "utf8")) as RenderRequest).then(
    (records) => {
      writeFileSync(output, JSON.stringify(records));
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
