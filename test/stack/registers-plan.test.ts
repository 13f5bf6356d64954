/** The real program under Pulumi mocks registers exactly the plan's resources: the plan is what `pulumi up` creates. */
import test from "ava";
import { join } from "node:path";
import { loadStackConfigFile } from "../../config";
import { planItems, planStack, resourceName, resourceType } from "../../mesh/plan";
import { REPO_ROOT, runStackProgram } from "../helpers/program";

test("Pulumi.dev.yaml: index.ts registers each planned item once, plus only its phases and the probe", async (t) => {
  const run = await runStackProgram("dev");
  const planned = planItems(planStack(loadStackConfigFile(join(REPO_ROOT, "Pulumi.dev.yaml")))).map((i) => `${resourceType(i)} ${resourceName(i)}`);
  const registered = run.recorder.registrations.filter((r) => r.type !== "istio-mtls:stack:Phase" && !r.type.startsWith("pulumi:"));
  t.deepEqual(registered.map((r) => `${r.type} ${r.name}`).sort(), [...planned, "pulumi-nodejs:dynamic/probe:ConnectivityProbe connectivity"].sort());
  t.deepEqual(run.recorder.ofType("istio-mtls:stack:Phase").map((p) => p.name), ["ca", "istio", "namespaces", "workloads", "policies", "ingress", "intent"]);
});
