import test from "ava";
import * as path from "node:path";
import { installRecordingMocks } from "../helpers/mocks";
import { REPO_ROOT } from "../helpers/program";

test("building the dev program twice registers identical resources and inputs", async (t) => {
  const recorder = await installRecordingMocks({ stack: "dev" });
  const { loadStackConfigFile } = await import("../../config");
  const { deployPhases } = await import("../../components/phase");
  const { planStack } = await import("../../mesh/plan");
  const deployStack = (config: Parameters<typeof planStack>[0]) => deployPhases(planStack(config).phases);
  const config = loadStackConfigFile(path.join(REPO_ROOT, "Pulumi.dev.yaml"));

  deployStack(config);
  await recorder.settle();
  const first = recorder.snapshot();
  const count = recorder.registrations.length;
  t.true(count > 30, `the dev stack registers its resources (${count})`);

  recorder.registrations.length = 0;
  deployStack(loadStackConfigFile(path.join(REPO_ROOT, "Pulumi.dev.yaml")));
  await recorder.settle();
  t.is(recorder.registrations.length, count);
  t.is(recorder.snapshot(), first);
});
