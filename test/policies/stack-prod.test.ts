/**
 * The whole pack over the prod stack as index.ts registers it under Pulumi mocks, and over the
 * same stack with its mesh policy loosened: the production policy needs the intent ConfigMap.
 */
import test from "ava";
import { istioMtlsPolicies } from "../../policies/pack";
import { runPolicies } from "../../policies/run";
import { runStackProgram } from "../helpers/program";
import { asResources, intentConfigMap } from "./helpers";

test("prod: no violation; with a PERMISSIVE mesh and the intent ConfigMap, production-mesh-strict fails", async (t) => {
  const { recorder } = await runStackProgram("prod", { preview: true });
  const resources = recorder.registrations.map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
  t.deepEqual(await runPolicies(istioMtlsPolicies(), resources), []);

  const hasIntent = resources.some((r) => (r.props as { metadata?: { name?: string } }).metadata?.name === "istio-mtls-intent");
  const withIntent = hasIntent ? resources : [...resources, ...asResources([intentConfigMap(true)])];
  const loosened = withIntent.map((r) =>
    r.type === "kubernetes:security.istio.io/v1:PeerAuthentication" && (r.props as { metadata: { namespace: string } }).metadata.namespace === "istio-system"
      ? { ...r, props: { ...r.props, spec: { mtls: { mode: "PERMISSIVE" } } } }
      : r,
  );
  const findings = await runPolicies(istioMtlsPolicies(), loosened);
  t.deepEqual(findings.map((f) => f.policy).sort(), ["mtls-exception-annotations", "mtls-exception-annotations", "production-mesh-strict"]);
  t.regex(findings.find((f) => f.policy === "production-mesh-strict")!.message, /mesh-level policy is PeerAuthentication istio-system\/default with mode PERMISSIVE/);
});
