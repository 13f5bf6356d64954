import test from "ava";
import type { StackValidationPolicy } from "@pulumi/policy";
import { istioMtlsPolicies } from "../../policies/pack";
import { PRODUCTION_MESH_STRICT } from "../../policies/production-mesh-strict";
import { runPolicies } from "../../policies/run";
import type { KubeObject } from "../../mesh/types";
import { asResources, demoMesh, intentConfigMap, peerAuthentication, policyNamed, validateStack } from "./helpers";

// By name, not imported: each test then fails on a pack without the policy rather than the whole file.
const PRODUCTION_SIDECAR_EXCEPTIONS = "production-sidecar-exceptions";
const NOW = new Date("2026-06-01T12:00:00Z");
const policies = istioMtlsPolicies({ now: () => NOW });
const validate = (objects: KubeObject[], config?: object) =>
  validateStack(policyNamed<StackValidationPolicy>(policies, PRODUCTION_SIDECAR_EXCEPTIONS), objects, config);
const meshStrict = peerAuthentication("istio-system", "default", { mtls: { mode: "STRICT" } });

/** The demo mesh with legacy labelled `istio-injection: disabled`, as the namespace builder writes `injection: false`. */
function mesh(annotations?: Record<string, string>): KubeObject[] {
  return demoMesh().map((o) =>
    o.kind === "Namespace" && o.metadata.name === "legacy"
      ? { ...o, metadata: { ...o.metadata, labels: { "istio-injection": "disabled" }, ...(annotations ? { annotations } : {}) } }
      : o,
  );
}
const exception = (expires: string) => ({
  "istio-mtls.dev/exception-reason": "legacy clients move to the mesh in Q3",
  "istio-mtls.dev/exception-expires": expires,
});

test("the pack fails a production stack's namespace without injection (mesh STRICT otherwise compliant)", async (t) => {
  const findings = await runPolicies(policies, asResources([...mesh(), intentConfigMap(true), meshStrict]));
  t.deepEqual(findings.map((f) => f.policy), [PRODUCTION_SIDECAR_EXCEPTIONS, PRODUCTION_SIDECAR_EXCEPTIONS]);
  t.true(findings.every((f) => f.level === "mandatory" && /Namespace legacy/.test(f.message)));
});

test("production: a namespace without injection and without exception fails, naming its sidecar-less workloads", async (t) => {
  const r = await validate([...mesh(), intentConfigMap(true), meshStrict]);
  t.is(r.messages.length, 2);
  t.regex(r.messages[0], /declares production: true; Namespace legacy lets plaintext in \(label istio-injection: disabled; no sidecar: httpbin\.legacy .*sleep\.legacy/);
  t.regex(r.messages[0], /exception-reason/);
  t.regex(r.messages[1], /exception-expires/);
  t.true(r.urns.every((u) => u!.includes("Namespace")));
});

test("production: a valid, unexpired exception on the Namespace passes; an expired one fails", async (t) => {
  t.deepEqual((await validate([...mesh(exception("2026-06-30")), intentConfigMap(true), meshStrict])).messages, []);
  const r = await validate([...mesh(exception("2026-05-31")), intentConfigMap(true), meshStrict]);
  t.is(r.messages.length, 1);
  t.regex(r.messages[0], /expired on 2026-05-31/);
  const far = await validate([...mesh(exception("2026-06-30")), intentConfigMap(true), meshStrict], { maxExceptionDays: 7 });
  t.regex(far.messages[0] ?? "", /more than 7 days away/);
});

test("a namespace without injection label whose workloads have no sidecar needs the exception too", async (t) => {
  const r = await validate([...demoMesh(), intentConfigMap(true), meshStrict]);
  t.is(r.messages.length, 2);
  t.regex(r.messages[0], /Namespace legacy lets plaintext in \(no sidecar: httpbin\.legacy/);
});

test("a non-production stack is not checked", async (t) => {
  t.regex((await validate([...mesh(), intentConfigMap(false), meshStrict])).notApplicable ?? "", /production: false/);
});

test("the pack config's production: true reviews a stack that declares production: false", async (t) => {
  const resources = asResources([...mesh(), intentConfigMap(false)]);
  t.deepEqual(await runPolicies(policies, resources), []);
  const config = { [PRODUCTION_MESH_STRICT]: { production: true }, [PRODUCTION_SIDECAR_EXCEPTIONS]: { production: true } };
  const findings = await runPolicies(policies, resources, config);
  t.deepEqual(findings.map((f) => f.policy), [PRODUCTION_MESH_STRICT, PRODUCTION_SIDECAR_EXCEPTIONS, PRODUCTION_SIDECAR_EXCEPTIONS]);
  t.regex(findings[0].message, /^the pack config says production: true, so the mesh needs PeerAuthentication istio-system\/default/);
  // Also without any intent ConfigMap: the stack cannot opt out by leaving it out.
  const bare = await runPolicies(policies, asResources(mesh()), config);
  t.deepEqual(bare.map((f) => f.policy), [PRODUCTION_MESH_STRICT, PRODUCTION_SIDECAR_EXCEPTIONS, PRODUCTION_SIDECAR_EXCEPTIONS]);
});

test("the prod stack's pack config requires production posture", async (t) => {
  const prod = (await import("../../policies/config/prod.json")).default as Record<string, { production?: boolean }>;
  t.true(prod[PRODUCTION_MESH_STRICT]?.production);
  t.true(prod[PRODUCTION_SIDECAR_EXCEPTIONS]?.production);
});

test("production: the plaintext probe client's namespace needs no exception; another sidecar-less workload there still does", async (t) => {
  const { buildPlaintextProbeNamespace, buildProbeClient, buildHttpbin } = await import("../../mesh/builders");
  const probeNs = buildPlaintextProbeNamespace();
  const probe = buildProbeClient("istio-mtls-probe");
  const base = [...mesh(exception("2026-06-30")), intentConfigMap(true), meshStrict, probeNs, probe.serviceAccount, probe.deployment];
  t.deepEqual((await validate(base)).messages, []);
  const server = buildHttpbin("istio-mtls-probe");
  const r = await validate([...base, server.serviceAccount, server.service, server.deployment]);
  t.is(r.messages.length, 2);
  t.regex(r.messages[0], /Namespace istio-mtls-probe lets plaintext in \(no sidecar: httpbin\.istio-mtls-probe /);
  t.notRegex(r.messages[0], /istio-mtls-probe\.istio-mtls-probe/);
});
