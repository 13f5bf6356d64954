/**
 * Installed revisions decide injection (istio/istio
 * manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml: the API server
 * calls the injector only through a webhook whose selectors match; pkg/kube/inject/inject.go
 * injectRequired decides inside it).
 */
import test from "ava";
import { buildModel } from "../../../mesh/model/index";
import { chartWebhooks, installedRevisions, readInjectionWebhooks, selectorMatches } from "../../../mesh/model/injection-webhooks";
import { sidecarInjected } from "../../../mesh/model/workloads";
import type { KubeObject } from "../../../mesh/types";
import { demo } from "../fixtures";

const injected = (installed: ReturnType<typeof installedRevisions>, ns: Record<string, string>, pod: Record<string, string> = {}) =>
  sidecarInjected(installed, "app", ns, pod, {}, false);

test("a revision label injects only when that revision is installed (rev.namespace, rev.object)", (t) => {
  const defaultOnly = installedRevisions([]);
  const canary = installedRevisions([], ["canary"]);
  t.false(injected(defaultOnly, { "istio.io/rev": "canary" }).sidecar);
  t.regex(injected(defaultOnly, { "istio.io/rev": "canary" }).why, /istio\.io\/rev=canary, a revision not installed \(installed: default\)/);
  t.true(injected(defaultOnly, { "istio.io/rev": "default" }).sidecar, "the default revision answers to istio.io/rev=default");
  t.true(injected(canary, { "istio.io/rev": "canary" }).sidecar);
  t.true(injected(canary, {}, { "istio.io/rev": "canary" }).sidecar, "rev.object: a pod label selects the revision in an unlabelled namespace");
  t.false(injected(canary, { "istio.io/rev": "canary" }, { "sidecar.istio.io/inject": "false" }).sidecar);
});

test("istio-injection=enabled and the pod label inject=true need the default revision (namespace, object: revision \"\" only)", (t) => {
  const canary = installedRevisions([], ["canary"]);
  t.false(injected(canary, { "istio-injection": "enabled" }).sidecar);
  t.regex(injected(canary, { "istio-injection": "enabled" }).why, /the default revision is not installed \(installed: canary\)/);
  t.false(injected(canary, {}, { "sidecar.istio.io/inject": "true" }).sidecar);
  // istio-injection wins over istio.io/rev: rev.namespace requires istio-injection to be absent.
  t.false(injected(canary, { "istio-injection": "enabled", "istio.io/rev": "canary" }).sidecar);
  const both = installedRevisions([], ["default", "canary"]);
  t.true(injected(both, { "istio-injection": "enabled", "istio.io/rev": "canary" }).sidecar);
  t.is(injected(both, { "istio-injection": "enabled", "istio.io/rev": "canary" }).why, "namespace label istio-injection=enabled");
});

const mwc = (name: string, rev: string, hooks: unknown[]): KubeObject => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "MutatingWebhookConfiguration",
  metadata: { name, labels: { "istio.io/rev": rev } },
  webhooks: hooks,
});
const podCreate = [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }];

test("the input's MutatingWebhookConfigurations are the installed revisions; other webhooks inject nothing", (t) => {
  const canaryHooks = chartWebhooks("canary").map((w) => ({
    name: w.name.split("/")[1],
    rules: podCreate,
    namespaceSelector: w.namespaceSelector,
    objectSelector: w.objectSelector,
  }));
  const objects = [mwc("istio-sidecar-injector-canary", "canary", canaryHooks), mwc("other", "x", [{ name: "pods.example.com", rules: podCreate }])];
  const read = readInjectionWebhooks(objects);
  t.deepEqual(read, chartWebhooks("canary"), "read back as the chart's, the unrelated webhook left out");
  const installed = installedRevisions(objects);
  t.deepEqual(installed.revisions, ["canary"]);
  t.false(installed.assumed);
  // Wrong world: a webhook that does not cover pod creation injects nothing.
  const updateOnly = mwc("istio-sidecar-injector", "default", [{ name: "namespace.sidecar-injector.istio.io", rules: [{ operations: ["UPDATE"], resources: ["pods"] }] }]);
  t.deepEqual(readInjectionWebhooks([updateOnly]), []);
});

test("the caller's own revisions (the stack) decide; the model notices an assumed default only when it matters", (t) => {
  const objects = demo().map((o) => (o.kind === "Namespace" && o.metadata.name === "bar" ? { ...o, metadata: { name: "bar", labels: { "istio.io/rev": "canary" } } } : o));
  const assumed = buildModel(objects);
  t.false(assumed.workloads.find((w) => w.id === "sleep.bar")!.sidecar);
  t.is(assumed.notices.length, 1);
  t.regex(assumed.notices[0]!, /namespace bar istio\.io\/rev=canary/);
  const stack = buildModel(objects, { revisions: ["canary"] });
  t.true(stack.workloads.find((w) => w.id === "sleep.bar")!.sidecar);
  t.false(stack.workloads.find((w) => w.id === "sleep.foo")!.sidecar, "foo's istio-injection=enabled needs the default revision");
  t.deepEqual(stack.notices, []);
  t.deepEqual(buildModel(demo()).notices, [], "no revision named: nothing to notice");
});

test("label selectors: In, NotIn (an absent key is not in), Exists, DoesNotExist, matchLabels", (t) => {
  const s = (e: object) => ({ matchExpressions: [e] }) as never;
  t.true(selectorMatches(s({ key: "a", operator: "In", values: ["x"] }), { a: "x" }));
  t.false(selectorMatches(s({ key: "a", operator: "In", values: ["x"] }), {}));
  t.true(selectorMatches(s({ key: "a", operator: "NotIn", values: ["x"] }), {}));
  t.false(selectorMatches(s({ key: "a", operator: "NotIn", values: ["x"] }), { a: "x" }));
  t.true(selectorMatches(s({ key: "a", operator: "Exists" }), { a: "" }));
  t.false(selectorMatches(s({ key: "a", operator: "DoesNotExist" }), { a: "" }));
  t.false(selectorMatches({ matchLabels: { a: "x" } }, { a: "y" }));
  t.true(selectorMatches(undefined, {}), "no selector selects every object");
});
