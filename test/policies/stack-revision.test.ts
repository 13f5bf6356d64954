/**
 * The pack over a stack on a non-default revision (istio.revision canary, as `pulumi preview` of
 * such a stack sees it): the stack's own revision reaches the model through the intent ConfigMap.
 * Its own file: one program per process (test/helpers/program.ts).
 */
import test from "ava";
import { analyzeStack } from "../../policies/analysis";
import { runStackProgram } from "../helpers/program";

test("a stack on revision canary: the pack's model injects its istio.io/rev=canary namespaces (intent data.revision)", async (t) => {
  const istio = { version: "1.28.1", namespace: "istio-system", revision: "canary", mesh: { trustDomain: "cluster.local", enableAutoMtls: true } };
  const { recorder } = await runStackProgram("dev", { preview: true, overrides: { "istio-mtls:istio": istio } });
  const resources = recorder.registrations.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
  const a = analyzeStack(resources);
  t.is(a.modelError, undefined);
  const sleepFoo = a.model!.workloads.find((w) => w.id === "sleep.foo")!;
  t.true(sleepFoo.sidecar, sleepFoo.sidecarWhy);
  t.is(sleepFoo.sidecarWhy, "namespace label istio.io/rev=canary");
  // Wrong world: without the declared revision the model would take the default one alone.
  const withoutRevision = resources.map((r) =>
    r.name.endsWith("istio-mtls-intent") || (r.props as { metadata?: { name?: string } }).metadata?.name === "istio-mtls-intent"
      ? { ...r, props: { ...r.props, data: { ...(r.props.data as object), revision: undefined } } }
      : r,
  );
  t.false(analyzeStack(withoutRevision).model!.workloads.find((w) => w.id === "sleep.foo")!.sidecar);
});
