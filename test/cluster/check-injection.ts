/**
 * test/cluster/run.sh's injection step: the pods the real API server holds (after istiod's
 * injector saw them) against the model's prediction for the stack's plan.
 * Usage: tsx test/cluster/check-injection.ts <Pulumi.<stack>.yaml> <pods.json (kubectl get pods -A -o json)>
 * Prints one line per pod; exits 1 on any disagreement.
 */
import { readFileSync } from "node:fs";
import { loadStackConfigFile } from "../../config";
import { planStack } from "../../mesh/plan";
import { checkInjection } from "../../probe/injection";

const [stackFile, podsFile] = process.argv.slice(2);
const settings = loadStackConfigFile(stackFile);
const pods = (JSON.parse(readFileSync(podsFile, "utf8")) as { items: unknown[] }).items;
const plan = planStack(settings);
const { rows, problems } = checkInjection(plan.model, pods, settings.istio.mesh.trustDomain, plan.revisions);
for (const r of rows) {
  console.log(`   ${r.pod}: ${r.injected ? "istio-proxy injected" : "no istio-proxy"}; predicted ${r.predicted ? "sidecar" : "none"} (${r.why})`);
}
const injected = rows.filter((r) => r.injected).length;
console.log(`   ${rows.length} pods: ${injected} injected, ${rows.length - injected} not; ${rows.length - problems.length} agree with the model`);
if (problems.length > 0) {
  for (const p of problems) console.error(`   DISAGREES: ${p}`);
  process.exit(1);
}
