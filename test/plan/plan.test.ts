/**
 * `istio-mtls plan` over a fixture project's stack files, planned by planStack and checked by the
 * policy pack in-process. Each distinct plan is built once.
 */
import test from "ava";
import { join } from "node:path";
import { exitCodeFor, runPlan } from "../../cli/commands/plan";
import { buildPlan, type Plan } from "../../cli/plan/build";
import { formatPlan } from "../../cli/plan/format";
import { formatJson } from "../../mesh/matrix";

const project = join(__dirname, "fixtures", "project");
const base = join(project, "Pulumi.base.yaml");
let dev: Promise<Plan> | undefined;
const devPlan = () => (dev ??= buildPlan({ stack: "dev", configFile: join(project, "Pulumi.dev.yaml"), projectDir: project }));

test("the plan lists the Kubernetes objects the program registers, by kind, namespace and name", async (t) => {
  const plan = await devPlan();
  const keys = plan.resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`);
  t.true(keys.includes("PeerAuthentication istio-system/default"));
  t.true(keys.includes("DestinationRule foo/legacy-mtls"));
  t.true(keys.includes("Namespace /legacy"));
  t.is(keys.filter((k) => k.startsWith("Deployment ")).length, 6 + 4, "the demo's six and the four probe clients");
  t.true(keys.includes("Namespace /istio-mtls-probe"));
  t.true(keys.includes("Deployment istio-mtls-probe/istio-mtls-probe"));
  t.deepEqual([...keys].sort(), keys.slice().sort(), "sorted");
  t.true(plan.resources.every((r) => r.type.startsWith("kubernetes:") || r.type.startsWith("kubernetes-cert-manager:") || r.type.startsWith("pulumi-nodejs:dynamic/probe:")));
});

test("the predicted matrix follows the stack's config: mesh STRICT refuses legacy, the DR breaks foo → legacy", async (t) => {
  const plan = await devPlan();
  const cell = (from: string, to: string) => plan.prediction.probes.find((p) => p.from === from && p.to === to)!;
  t.like(cell("sleep.legacy", "httpbin.foo:8000"), { code: 0, mtls: false });
  t.like(cell("sleep.bar", "httpbin.foo:8000"), { code: 200, mtls: true });
  t.like(cell("sleep.foo", "httpbin.legacy:8000"), { code: 503 });
  t.regex(cell("sleep.foo", "httpbin.legacy:8000").reason, /DestinationRule foo\/legacy-mtls ISTIO_MUTUAL/);
  // The probe's clients (the demo's sleep and the four probe clients), as the stack's predictedMatrix has them.
  t.is(plan.prediction.probes.length, 7 * 3);
  t.like(cell("istio-mtls-probe.istio-mtls-probe", "httpbin.foo:8000"), { code: 0, failure: "reset" });
});

test("the pack's findings: the breaking DestinationRule and the unmet intent, at the pack's level", async (t) => {
  const plan = await devPlan();
  t.deepEqual(plan.violations.map((v) => `${v.level} ${v.policy}`).sort(), ["mandatory connectivity-intent", "mandatory destination-rule-breaks-traffic"]);
  t.regex(plan.violations.find((v) => v.policy === "connectivity-intent")!.message, /sleep\.legacy → httpbin\.foo:8000: expected to succeed, predicted to fail/);
  t.is(exitCodeFor(plan.violations, "mandatory"), 1);
  t.is(exitCodeFor(plan.violations, "never"), 0);
  t.is(exitCodeFor([{ policy: "x", level: "advisory", message: "m" }], "mandatory"), 0);
  t.is(exitCodeFor([{ policy: "x", level: "advisory", message: "m" }], "advisory"), 1);
});

test("--format json has exactly resources, probe clients, probes and violations", async (t) => {
  const plan = await devPlan();
  const json = JSON.parse(formatPlan(plan, "json")) as Record<string, unknown[]>;
  t.deepEqual(Object.keys(json), ["resources", "probeClients", "probes", "violations"]);
  t.deepEqual(json.probeClients![6], {
    from: "istio-mtls-probe.istio-mtls-probe",
    sidecar: false,
    sidecarWhy: "namespace label istio-injection=disabled",
    identity: "spiffe://cluster.local/ns/istio-mtls-probe/sa/istio-mtls-probe",
  });
  t.deepEqual(Object.keys(json.resources[0] as object), ["type", "kind", "namespace", "name"]);
  t.deepEqual(Object.keys(json.violations[0] as object), ["policy", "level", "message"]);
  // Exactly as `istio-mtls predict --format json` prints them: same objects, same key order.
  t.is(JSON.stringify(json.probes), JSON.stringify((JSON.parse(formatJson(plan.prediction)) as { probes: unknown[] }).probes));
  t.deepEqual(Object.keys(json.probes[0] as object).slice(0, 5), ["from", "to", "code", "mtls", "reason"]);
});

test("the table shows the matrix with numbered reasons (as predict prints it) and the findings", async (t) => {
  const text = formatPlan(await devPlan(), "table");
  t.regex(text, /^Resources to create for stack dev \(\d+\):/);
  t.regex(text, /sleep\.legacy\s+000 \[\d+\]\s+000 \[\d+\]\s+200 \[\d+\]/);
  t.regex(text, /\[\d+\] sidecar client, mTLS \(DestinationRule foo\/legacy-mtls ISTIO_MUTUAL\) → httpbin\.legacy has no sidecar/);
  t.regex(text, /\nmandatory destination-rule-breaks-traffic: DestinationRule foo\/legacy-mtls/);
});

test("the table lists the probe clients with sidecar and identity, and which cells are predicted before apply and which live", async (t) => {
  const text = formatPlan(await devPlan(), "table");
  t.regex(text, /\nClients the probe sends from \(7\):\nclient\s+sidecar\s+identity\n/);
  t.regex(text, /\nistio-mtls-probe\.foo\s+yes\s+spiffe:\/\/cluster\.local\/ns\/foo\/sa\/istio-mtls-probe\n/);
  t.regex(text, /\nistio-mtls-probe\.istio-mtls-probe\s+no\s+none over plaintext \(namespace label istio-injection=disabled\)\n/);
  t.regex(text, /\nPredicted before apply: 21 cells, from the stack's own objects \(3 Service ports of its own\)\.\n/);
  t.regex(text, /\nPredicted live at probe time: the probe clients' cells to every Service port of the managed namespaces, the stack's and those app teams applied/);
});

test("--against prints the cells that change and the resource changes, as markdown", async (t) => {
  const { output, exitCode } = await runPlan({ stack: "dev", format: "markdown", failOn: "never", against: base }, project);
  t.is(exitCode, 0);
  t.regex(output, /5 of 21 cells change/);
  t.regex(output, /\| sleep\.legacy \| httpbin\.bar:8000 \| 200 \| 000 \| plaintext client \(no sidecar\) → PERMISSIVE[^|]*\| plaintext client \(no sidecar\) → STRICT at port 8080 \(PeerAuthentication istio-system\/default\) \|/);
  t.regex(output, /\| sleep\.foo \| httpbin\.legacy:8000 \| 200 \| 503 \|/);
  // Unchanged cells are not listed.
  t.notRegex(output, /\| sleep\.bar \| httpbin\.foo:8000 \|/);
  t.regex(output, /```diff\n\+ DestinationRule foo\/legacy-mtls\n\+ PeerAuthentication istio-system\/default\n- PeerAuthentication foo\/default\n~ ConfigMap istio-system\/istio-mtls-intent\n```/);
  t.regex(output, /\*\*Policy findings \(2\)\*\*\n- \*\*mandatory\*\* `destination-rule-breaks-traffic`/);
});

test("a stack file that does not exist is named", async (t) => {
  await t.throwsAsync(runPlan({ stack: "nope", format: "table", failOn: "never" }, project), { message: /Pulumi\.nope\.yaml does not exist/ });
});

test("a config the stack rejects fails the plan with the stack's own message", async (t) => {
  const bad = join(__dirname, "fixtures", "bad-config.yaml");
  await t.throwsAsync(runPlan({ stack: "dev", config: bad, format: "table", failOn: "never" }, project), { message: /invalid stack config .*istio-mtls:mtls/s });
});

test("--today must be a date", async (t) => {
  await t.throwsAsync(runPlan({ stack: "dev", format: "table", failOn: "never", today: "tomorrow" }, project), { message: /--today is "tomorrow"; allowed: a date YYYY-MM-DD/ });
});
