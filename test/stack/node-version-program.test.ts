/**
 * The program refuses a Node.js older than the project's minimum before it registers anything:
 * otherwise the probe would crash loading @kubernetes/client-node only after the mesh is deployed.
 */
import test from "ava";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readStackConfigFile } from "../../config";
import { installRecordingMocks } from "../helpers/mocks";
import { pulumiConfigOf, REPO_ROOT } from "../helpers/program";

test("Node 22.18.0: the program fails with the version, the minimum and what to do, and registers no resource", async (t) => {
  const recorder = await installRecordingMocks({ stack: "dev" });
  pulumi.runtime.setAllConfig(pulumiConfigOf(readStackConfigFile(path.join(REPO_ROOT, "Pulumi.dev.yaml"))));
  const saved = Object.getOwnPropertyDescriptor(process, "version")!;
  Object.defineProperty(process, "version", { ...saved, value: "v22.18.0" });
  let error: unknown;
  try {
    await import(path.join(REPO_ROOT, "index.ts"));
  } catch (e) {
    error = e;
  } finally {
    Object.defineProperty(process, "version", saved);
  }
  await recorder.settle();
  t.truthy(error);
  // A RunError: Pulumi prints its message without a stack trace.
  t.true(pulumi.RunError.isInstance(error));
  t.regex((error as Error).message, /^Node\.js "v22\.18\.0" is too old for this project; allowed: Node\.js >= 22\.19\.0/);
  t.regex((error as Error).message, /put it first on PATH/);
  t.deepEqual(recorder.registrations, []);
});
