/**
 * The plan deployed under Pulumi mocks: each phase a component, each item a typed resource
 * waiting for the items the plan names, and aliases that keep stacks deployed before phases.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { installRecordingMocks, type Recorder } from "../helpers/mocks";
import { REPO_ROOT } from "../helpers/program";

let rec: Recorder;
test.before(async () => {
  rec = await installRecordingMocks({ stack: "dev" });
});

test.serial("aliases: every resource of the stack as deployed before phases keeps its URN (no replacement)", async (t) => {
  const { deployPhases } = await import("../../components/phase");
  const { planStack } = await import("../../mesh/plan");
  const { loadStackConfigFile } = await import("../../config");
  for (const stack of ["dev", "prod"]) {
    rec.registrations.length = 0;
    deployPhases(planStack(loadStackConfigFile(join(REPO_ROOT, `Pulumi.${stack}.yaml`))).phases);
    await rec.settle();
    const before = readFileSync(join(__dirname, "..", "fixtures", "urns", `${stack}.txt`), "utf8").trim().split("\n").filter((u) => !u.includes("ConnectivityProbe"));
    const aliasUrns = new Map<string, string>();
    for (const r of rec.registrations) {
      for (const a of r.aliases as { spec?: { parenturn?: string } }[]) {
        const parent = a.spec?.parenturn;
        if (!parent) continue;
        const parentType = parent.split("::")[2];
        aliasUrns.set(`urn:pulumi:${stack}::istio-mtls::${parentType}$${r.type}::${r.name}`, r.urn);
      }
    }
    t.true(before.length > 10, stack);
    for (const urn of before) t.truthy(aliasUrns.get(urn), `${urn} has no alias: the resource would be replaced`);
  }
});

test.serial("a plan item waiting for an item not planned before it is refused, registering nothing of it", async (t) => {
  const { deployPhases } = await import("../../components/phase");
  rec.registrations.length = 0;
  const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "late" } };
  const e = t.throws(() => deployPhases([{ name: "namespaces", items: [{ id: "Namespace late", object: ns, after: ["Namespace missing"] }] }]));
  t.regex(e!.message, /Namespace late waits for Namespace missing, which is not planned before it/);
  await rec.settle();
  t.false(rec.registrations.some((r) => r.name === "late"));
});

test.serial("every item registers as its typed resource, under its phase, after exactly what the plan names", async (t) => {
  const { deployPhases } = await import("../../components/phase");
  const { planItems, planStack, resourceName, resourceType } = await import("../../mesh/plan");
  const { stackSettings } = await import("../helpers/settings");
  const d = stackSettings();
  const settings = stackSettings({
    namespaces: [{ name: "foo", injection: true }, { name: "legacy", injection: false, exception: { reason: "migrating", expires: "2027-01-31" } }],
    demo: { enabled: true },
    istio: { ...d.istio, revision: "canary", ingressGateway: true },
    ingress: { ...d.ingress, enabled: true, tls: true, host: "httpbin.example.com", serviceType: "NodePort" },
    mtls: { mesh: { mode: "STRICT" }, namespaces: [], workloads: [] },
  });
  rec.registrations.length = 0;
  const plan = planStack(settings);
  deployPhases(plan.phases);
  await rec.settle();
  const items = planItems(plan);
  const urnOf = new Map(items.map((i) => [i.id, rec.get(resourceType(i), resourceName(i)).urn]));
  for (const item of items) {
    const r = rec.get(resourceType(item), resourceName(item));
    t.is(rec.byUrn(r.parent)?.type, "istio-mtls:stack:Phase", item.id);
    t.deepEqual(r.dependencies, item.after.map((id) => urnOf.get(id)!).sort(), item.id);
    if ("object" in item) t.is(r.inputs.metadata.name, item.object.metadata.name);
  }
  // The gateway chart gets the revision and the Service type; istiod is revisioned.
  t.deepEqual(rec.get("kubernetes:helm.sh/v3:Release", "istio-ingressgateway").inputs.values, { revision: "canary", service: { type: "NodePort" } });
  t.is(rec.get("kubernetes:helm.sh/v3:Release", "istiod-canary").inputs.values.revision, "canary");
  t.deepEqual(rec.get("kubernetes:core/v1:Namespace", "foo").inputs.metadata.labels, { "istio.io/rev": "canary" });
  t.like(rec.get("kubernetes:core/v1:Namespace", "legacy").inputs.metadata.annotations, { "istio-mtls.dev/exception-expires": "2027-01-31" });
  t.is(rec.get("kubernetes:cert-manager.io/v1:Certificate", "istio-system/httpbin-ingress").inputs.metadata.annotations["pulumi.com/waitFor"], "condition=Ready");
  // No key material in any input: cert-manager generates the keys in the cluster.
  t.false(JSON.stringify(rec.registrations.map((r) => r.inputs)).includes("PRIVATE KEY"));
});
