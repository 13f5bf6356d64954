/**
 * Runs the whole Pulumi program (index.ts) under recording mocks with a stack's config from
 * `Pulumi.<stack>.yaml`, as `pulumi preview -s <stack>` would feed it. One program per process
 * (ava runs each test file in its own process).
 *
 *   const { recorder, outputs } = await runStackProgram("dev");
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfigFile } from "../../config";
import { installRecordingMocks, type Recorder } from "./mocks";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** A stack file's config in the form Pulumi hands a program: strings, objects as JSON. */
export function pulumiConfigOf(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) out[key] = typeof value === "string" ? value : JSON.stringify(value);
  return out;
}

/**
 * The clients the dev stack (Pulumi.dev.yaml) probes from, sorted: the demo's three sleep workloads
 * and the four probe clients (one per demo namespace and the plaintext one in its own namespace).
 */
export const DEV_PROBE_CLIENTS = [
  "istio-mtls-probe.bar",
  "istio-mtls-probe.foo",
  "istio-mtls-probe.istio-mtls-probe",
  "istio-mtls-probe.legacy",
  "sleep.bar",
  "sleep.foo",
  "sleep.legacy",
];

export interface StackRun {
  recorder: Recorder;
  /** index.ts's exports (plain values and Outputs). */
  outputs: Record<string, unknown>;
}

export async function runStackProgram(
  stack: string,
  options: { overrides?: Record<string, unknown>; preview?: boolean } = {},
): Promise<StackRun> {
  const recorder = await installRecordingMocks({ stack, preview: options.preview });
  const file = readStackConfigFile(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`));
  pulumi.runtime.setAllConfig(pulumiConfigOf({ ...file, ...options.overrides }));
  const outputs = (await import(path.join(REPO_ROOT, "index.ts"))) as Record<string, unknown>;
  await recorder.settle();
  return { recorder, outputs };
}

/** Resolves an Output (or plain value) from a program's exports. */
export function valueOf<T>(v: pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(v).apply((x) => resolve(x as T)));
}
