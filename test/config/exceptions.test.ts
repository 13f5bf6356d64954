/** Reviewed exceptions at every level: namespaces without injection, mesh and namespace mTLS policies. */
import test from "ava";
import { buildPeerAuthentications } from "../../mesh/builders";
import { buildNamespace } from "../../mesh/builders/namespace";
import { istioMtlsPolicies } from "../../policies/pack";
import { runPolicies } from "../../policies/run";
import { asResources, demoMesh, intentConfigMap } from "../policies/helpers";
import { DEMO_NAMESPACES, load, rejected } from "./load";

const EXCEPTION = { reason: "legacy clients until the Q3 migration", expires: "2026-06-30" };
const ANNOTATIONS = { "istio-mtls.dev/exception-expires": "2026-06-30", "istio-mtls.dev/exception-reason": "legacy clients until the Q3 migration" };
const NOW = new Date("2026-06-01T12:00:00Z");
const PRODUCTION_SIDECAR_EXCEPTIONS = "production-sidecar-exceptions";

test("a namespace entry carries an exception, written as annotations on its Namespace", (t) => {
  const c = load({ namespaces: [{ name: "foo", injection: true }, { name: "legacy", injection: false, exception: EXCEPTION }] });
  t.deepEqual(c.namespaces, [{ name: "foo", injection: true }, { name: "legacy", injection: false, exception: EXCEPTION }]);
  const ns = buildNamespace(c.namespaces[1]);
  t.deepEqual(ns.metadata.annotations, ANNOTATIONS);
  t.deepEqual(ns.metadata.labels, { "istio-injection": "disabled" });
  t.is(buildNamespace(c.namespaces[0]).metadata.annotations, undefined);
});

test("the built legacy Namespace with its exception passes the production review; without, it fails", async (t) => {
  const policies = istioMtlsPolicies({ now: () => NOW });
  const withNamespace = (ns: ReturnType<typeof buildNamespace>) => demoMesh().map((o) => (o.kind === "Namespace" && o.metadata.name === "legacy" ? ns : o));
  const approved = withNamespace(buildNamespace({ name: "legacy", injection: false, exception: EXCEPTION }));
  const bare = withNamespace(buildNamespace({ name: "legacy", injection: false }));
  const findings = async (objects: typeof approved) =>
    (await runPolicies(policies, asResources([...objects, intentConfigMap(true)]))).filter((f) => f.policy === PRODUCTION_SIDECAR_EXCEPTIONS);
  t.deepEqual(await findings(approved), []);
  t.is((await findings(bare)).length, 2);
});

test("mtls.mesh and mtls.namespaces take {mode, exception} besides a bare mode", (t) => {
  const c = load({
    namespaces: DEMO_NAMESPACES,
    mtls: { mesh: { mode: "PERMISSIVE", exception: EXCEPTION }, namespaces: { foo: "STRICT", bar: { mode: "PERMISSIVE", exception: EXCEPTION }, legacy: { mode: "DISABLE" } } },
  });
  t.deepEqual(c.mtls.mesh, { mode: "PERMISSIVE", exception: EXCEPTION });
  t.deepEqual(c.mtls.namespaces, [
    { namespace: "bar", mode: "PERMISSIVE", exception: EXCEPTION },
    { namespace: "foo", mode: "STRICT" },
    { namespace: "legacy", mode: "DISABLE" },
  ]);
  t.deepEqual(load({ mtls: { mesh: "STRICT" } }).mtls.mesh, { mode: "STRICT" });
});

test("mesh and namespace exceptions become the annotations the pack checks on those PeerAuthentications", async (t) => {
  const c = load({ namespaces: DEMO_NAMESPACES, mtls: { mesh: { mode: "PERMISSIVE", exception: EXCEPTION }, namespaces: { bar: { mode: "PERMISSIVE", exception: EXCEPTION }, foo: "PERMISSIVE" } } });
  const pas = buildPeerAuthentications(c.mtls, "istio-system");
  t.deepEqual(pas.map((p) => [p.metadata.namespace, p.metadata.annotations]), [["istio-system", ANNOTATIONS], ["bar", ANNOTATIONS], ["foo", undefined]]);
  const findings = await runPolicies(istioMtlsPolicies({ now: () => NOW }), asResources(pas));
  // Only foo's PERMISSIVE, without an exception, is reported (reason and expiry).
  t.deepEqual(findings.map((f) => [f.policy, /PeerAuthentication (\S+) /.exec(f.message)![1]]), [
    ["mtls-exception-annotations", "foo/default"],
    ["mtls-exception-annotations", "foo/default"],
  ]);
});

test("exceptions are refused with the key path: impossible dates, empty reasons, no effect", (t) => {
  t.deepEqual(rejected(t, { namespaces: DEMO_NAMESPACES, mtls: { mesh: { mode: "PERMISSIVE", exception: { reason: "x", expires: "2026-02-30" } } } }), [
    'istio-mtls:mtls.mesh.exception.expires: "2026-02-30" is not a date; allowed: YYYY-MM-DD, the last day the exception is allowed',
  ]);
  t.deepEqual(rejected(t, { namespaces: DEMO_NAMESPACES, mtls: { namespaces: { bar: { mode: "LAX" } } } }), [
    'istio-mtls:mtls.namespaces.bar.mode: "LAX" is not an mTLS mode; allowed: UNSET, DISABLE, PERMISSIVE, STRICT',
  ]);
  t.deepEqual(rejected(t, { namespaces: [{ name: "legacy", injection: false, exception: { reason: " ", expires: "2026-06-31" } }] }), [
    'istio-mtls:namespaces[0].exception.reason: " " is not a reason; allowed: why plaintext is still accepted',
    'istio-mtls:namespaces[0].exception.expires: "2026-06-31" is not a date; allowed: YYYY-MM-DD, the last day the exception is allowed',
  ]);
  t.deepEqual(rejected(t, { namespaces: [{ name: "foo", injection: true, exception: EXCEPTION }] }), [
    `istio-mtls:namespaces[0].exception: ${JSON.stringify(EXCEPTION)} has no effect while injection is true; allowed: omit exception, or injection: false`,
  ]);
});
