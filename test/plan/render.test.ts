/**
 * Rendering a Pulumi program under mocks in a child process: config reaches the program as
 * Pulumi config, inputs that come from other resources' outputs are resolved, failures are named.
 */
import test from "ava";
import { join } from "node:path";
import { renderStack, toPulumiConfig, UNREAD_SECRET } from "../../cli/plan-render";

const program = join(__dirname, "fixtures", "program.ts");

test("config values become Pulumi config strings: objects and lists as JSON", (t) => {
  t.deepEqual(toPulumiConfig({ "istio-mtls:production": false, "istio-mtls:mtls": { mesh: "STRICT" }, "kubernetes:context": "kind-x" }), {
    values: { "istio-mtls:production": "false", "istio-mtls:mtls": '{"mesh":"STRICT"}', "kubernetes:context": "kind-x" },
    secretKeys: [],
  });
  t.throws(() => toPulumiConfig({ mtls: {} }), { message: /config key "mtls" has no namespace; allowed: "<namespace>:<key>"/ });
});

test("encrypted values: another namespace's is a secret placeholder; an istio-mtls one decides the plan and is named", (t) => {
  t.deepEqual(toPulumiConfig({ "kubernetes:kubeconfig": { secure: "v1:abc" }, "istio-mtls:production": true }), {
    values: { "kubernetes:kubeconfig": UNREAD_SECRET, "istio-mtls:production": "true" },
    secretKeys: ["kubernetes:kubeconfig"],
  });
  t.throws(() => toPulumiConfig({ "istio-mtls:production": { secure: "v1:abc" } }), {
    message: "config key istio-mtls:production is an encrypted value ({secure: …}) and decides what the stack deploys; allowed: a plain value (the stack's settings hold no secrets)",
  });
});

test("every registration is recorded with its inputs; output-derived inputs are resolved", async (t) => {
  const records = await renderStack({ program, project: "fixture", stack: "dev", config: { "istio-mtls:fooMode": "STRICT", "istio-mtls:namespaces": ["foo", "bar"] } });
  // Registration order depends on output resolution; the set of resources does not.
  t.deepEqual(records.map((r) => `${r.type}::${r.name}`).sort(), [
    "kubernetes:core/v1:Namespace::bar",
    "kubernetes:core/v1:Namespace::foo",
    "kubernetes:security.istio.io/v1:PeerAuthentication::bar-default",
    "kubernetes:security.istio.io/v1:PeerAuthentication::foo-default",
  ]);
  const pa = records.find((r) => r.name === "bar-default")!;
  t.deepEqual(pa.props, { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: "bar" }, spec: { mtls: { mode: "STRICT" } } });
  t.is(pa.urn, "urn:pulumi:dev::fixture::kubernetes:security.istio.io/v1:PeerAuthentication::bar-default");
  t.true(records.every((r) => r.custom));
  // What each waits for: the PeerAuthentication's namespace is the Namespace's output.
  t.deepEqual(pa.dependsOn, ["urn:pulumi:dev::fixture::kubernetes:core/v1:Namespace::bar"]);
  t.deepEqual(records.find((r) => r.name === "bar")!.dependsOn, []);
  t.true(records.every((r) => r.unknowns.length === 0));
});

test("a program that fails (missing required config) is reported with Pulumi's message", async (t) => {
  await t.throwsAsync(renderStack({ program, project: "fixture", stack: "dev", config: { "istio-mtls:namespaces": ["foo"] } }), {
    message: /rendering .*program\.ts for stack dev failed: .*fooMode/s,
  });
});
