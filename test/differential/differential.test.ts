/** The differential test's own parts, without the oracle: generator, model side, comparison, shrinker. */
import test from "ava";
import type { KubeObject } from "../../mesh/types";
import { cellsAgree, compare, modelPredict, sameFinding, signature, toYaml } from "./compare";
import { generateScenario, plainDemo, Random, type Webhooks } from "./generate";
import type { OracleCell, OracleOutput } from "./oracle";
import { candidates, shrink } from "./shrink";

const webhook = (rev: string): KubeObject => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "MutatingWebhookConfiguration",
  metadata: { name: `istio-sidecar-injector-${rev}`, labels: { "istio.io/rev": rev } },
  webhooks: [],
});
const WEBHOOKS: Webhooks = { default: webhook("default"), canary: webhook("canary") };

test("the generator is deterministic per seed and index, and differs across indexes", (t) => {
  t.deepEqual(generateScenario(7, 3, WEBHOOKS), generateScenario(7, 3, WEBHOOKS));
  t.notDeepEqual(generateScenario(7, 3, WEBHOOKS).objects, generateScenario(7, 4, WEBHOOKS).objects);
  t.is(generateScenario(7, 3).id, "7#3");
});

test("generated scenarios keep the demo and name every object once", (t) => {
  for (let i = 0; i < 200; i++) {
    const { objects } = generateScenario(1, i, WEBHOOKS);
    const keys = objects.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`);
    t.is(new Set(keys).size, keys.length, `scenario 1#${i}`);
    for (const ns of ["foo", "bar", "legacy"]) {
      t.true(keys.includes(`Deployment/${ns}/sleep`) && keys.includes(`Service/${ns}/httpbin`), `scenario 1#${i}: demo in ${ns}`);
    }
  }
});

test("the generator's weights make interactions common", (t) => {
  const kinds = new Map<string, number>();
  let sameHost = 0;
  let revisions = 0;
  for (let i = 0; i < 300; i++) {
    const { objects } = generateScenario(2, i, WEBHOOKS);
    for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
    if (objects.some((o) => o.metadata.name === "same-host-b")) sameHost++;
    if (objects.some((o) => o.kind === "Namespace" && o.metadata.labels?.["istio.io/rev"])) revisions++;
  }
  t.true((kinds.get("PeerAuthentication") ?? 0) > 300, "more than one PeerAuthentication per scenario on average");
  t.true((kinds.get("DestinationRule") ?? 0) > 200);
  t.true((kinds.get("AuthorizationPolicy") ?? 0) > 150);
  t.true((kinds.get("MutatingWebhookConfiguration") ?? 0) > 60);
  t.true(sameHost > 30, `same-host DestinationRule pairs: ${sameHost}`);
  t.true(revisions > 60, `namespaces with istio.io/rev: ${revisions}`);
});

test("Random: weighted choice follows the weights", (t) => {
  const r = new Random(5);
  let a = 0;
  for (let i = 0; i < 10000; i++) if (r.weighted([[9, "a"], [1, "b"]] as const) === "a") a++;
  t.true(a > 8700 && a < 9300, `${a}`);
});

test("toYaml quotes strings YAML 1.1 reads as booleans, as kubectl needs", (t) => {
  const text = toYaml([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", labels: { a: "no", b: "off", c: "true" } } }]);
  t.regex(text, /a: "no"/);
  t.regex(text, /b: "off"/);
  t.regex(text, /c: "true"/);
});

const cell = (from: string, to: string, code: number, mtls: boolean): OracleCell => ({ from, to, code, mtls, evidence: { clientSidecar: true, endpoints: [] } });

test("compare: equal cells agree; a cell that differs in code or mTLS is a disagreement", (t) => {
  const model = modelPredict(toYaml(plainDemo()));
  t.truthy(model.cells, model.rejected);
  const oracle: OracleOutput = { cells: model.cells!.map((c) => cell(c.from, c.to, c.code, c.mtls)) };
  t.like(compare(model, oracle), { kind: "agree", cells: 18 });
  // Wrong world: one cell without mTLS.
  const wrong: OracleOutput = { cells: oracle.cells!.map((c, i) => (i === 0 ? { ...c, mtls: !c.mtls } : c)) };
  const c = compare(model, wrong);
  t.is(c.kind, "disagree");
  if (c.kind === "disagree") {
    t.is(c.diffs.length, 1);
    t.is(c.agreeing, 17);
    t.is(signature(c), `model ${c.diffs[0]!.model!.code} mTLS / Istio ${c.diffs[0]!.oracle!.code}`);
  }
  t.true(sameFinding(c as never, c));
  t.false(sameFinding(c as never, compare(model, { rejected: "x" })), "a refusal is another finding");
  // A cell only one side has is a disagreement too.
  t.is(compare(model, { cells: oracle.cells!.slice(1) }).kind, "disagree");
});

test("compare: a cell whose endpoints differ agrees only when the model says so and picks a failing one when one fails", (t) => {
  const endpoint = (workload: string, code: number, mtls: boolean) => ({ workload, address: "", socket: "", sends: "", serverSidecar: true, code, mtls });
  const mixed: OracleCell = { ...cell("sleep.foo", "httpbin.foo:8000", 200, true), evidence: { clientSidecar: true, endpoints: [endpoint("a.foo", 200, true), endpoint("b.foo", 200, false)] } };
  const model = (code: number, mtls: boolean, reason: string) => ({ from: "sleep.foo", to: "httpbin.foo:8000", code, mtls, reason });
  t.true(cellsAgree(model(200, false, "endpoints differ, b.foo: …"), mixed));
  t.true(cellsAgree(model(200, true, "endpoints differ, a.foo: …"), mixed));
  t.false(cellsAgree(model(200, true, "sidecar client, mTLS (auto mTLS) → …"), mixed), "the model must say the endpoints differ");
  const failing: OracleCell = { ...mixed, evidence: { clientSidecar: true, endpoints: [endpoint("a.foo", 200, true), endpoint("b.foo", 503, false)] } };
  t.false(cellsAgree(model(200, true, "endpoints differ, a.foo: …"), failing), "a failing endpoint decides");
  t.true(cellsAgree(model(503, false, "endpoints differ, b.foo: …"), failing));
  const single = cell("sleep.foo", "httpbin.foo:8000", 200, true);
  single.evidence.endpoints = [endpoint("a.foo", 200, true)];
  t.false(cellsAgree(model(200, true, "endpoints differ, a.foo: …"), single), "one outcome: the model must not say they differ");
});

test("compare: refusals, limits and oracle errors", (t) => {
  const model = modelPredict(toYaml(plainDemo()));
  t.like(compare({ rejected: "x", notices: [] }, { rejected: "y" }), { kind: "agree", rejectedByBoth: true });
  t.like(compare(model, { rejected: "AuthorizationPolicy foo/x: invalid" }), { kind: "disagree" });
  t.like(compare({ rejected: "x", notices: [] }, { cells: [] }), { kind: "disagree" });
  t.like(compare(model, { limit: "RequestAuthentication" }), { kind: "limit" });
  t.like(compare(model, { error: "exited" }), { kind: "error" });
});

test("the model side refuses what istiod's validation refuses", (t) => {
  const deny: KubeObject = { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name: "d", namespace: "foo" }, spec: { action: "DENY" } };
  t.truthy(modelPredict(toYaml([...plainDemo(), deny])).rejected);
});

test("shrink: keeps the demo skeleton and the one object that makes the disagreement", async (t) => {
  const culprit: KubeObject = { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "c", namespace: "foo", creationTimestamp: "2024-01-01T00:00:00Z" }, spec: { mtls: { mode: "STRICT" }, selector: { matchLabels: { app: "httpbin" } } } };
  const noise: KubeObject = { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "n", namespace: "bar" }, spec: { mtls: { mode: "DISABLE" } } };
  const start = [...plainDemo(), noise, culprit];
  start[0] = { ...start[0]!, metadata: { name: "foo", labels: { "istio.io/rev": "canary" } } };
  const fails = (objs: KubeObject[]) => objs.some((o) => o.kind === "PeerAuthentication" && (o.spec as { mtls?: { mode?: string } }).mtls?.mode === "STRICT");
  const out = await shrink(start, async (batch) => batch.map(fails), 2);
  t.is(out.objects.length, plainDemo().length + 1);
  const kept = out.objects.find((o) => o.kind === "PeerAuthentication")!;
  t.deepEqual(kept.spec, { mtls: { mode: "STRICT" } }, "fields that do not matter are dropped");
  t.is(kept.metadata.creationTimestamp, undefined);
  t.deepEqual(out.objects.filter((o) => o.kind !== "PeerAuthentication"), plainDemo(), "namespaces and workloads reset to the plain demo");
});

test("shrink candidates never drop the skeleton or a DestinationRule's host", (t) => {
  const dr: KubeObject = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "d", namespace: "foo" }, spec: { host: "httpbin", exportTo: ["."] } };
  for (const c of candidates([...plainDemo(), dr])) {
    t.true(c.filter((o) => ["Namespace", "Service", "Deployment"].includes(o.kind)).length === 12);
    const d = c.find((o) => o.kind === "DestinationRule");
    if (d) t.is((d.spec as { host?: string }).host, "httpbin");
  }
});
