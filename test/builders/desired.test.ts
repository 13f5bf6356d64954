import test from "ava";
import { parse } from "yaml";
import { desiredMeshObjects, type MeshStackInput } from "../../mesh/builders";
import { predict } from "../../mesh/predict";

const input: MeshStackInput = {
  istio: { mesh: { rootNamespace: "istio-system", trustDomain: "example.org", enableAutoMtls: true } },
  namespaces: [
    { name: "foo", injection: true },
    { name: "bar", injection: true },
    { name: "legacy", injection: false },
  ],
  demo: { enabled: true },
  mtls: { mesh: { mode: "STRICT" }, namespaces: [], workloads: [] },
  destinationRules: [],
  endUserAuth: [],
  authorization: [],
};

const ids = (objs: { kind: string; metadata: { namespace?: string; name: string } }[]) =>
  objs.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);

test("every model-relevant object: mesh ConfigMap, namespaces, workloads, policies", (t) => {
  const objs = desiredMeshObjects(input);
  t.deepEqual(ids(objs), [
    "ConfigMap/istio-system/istio",
    "Namespace//foo",
    "Namespace//bar",
    "Namespace//legacy",
    ...["foo", "bar", "legacy"].flatMap((ns) => [
      `ServiceAccount/${ns}/httpbin`,
      `Service/${ns}/httpbin`,
      `Deployment/${ns}/httpbin`,
      `ServiceAccount/${ns}/sleep`,
      `Deployment/${ns}/sleep`,
    ]),
    "PeerAuthentication/istio-system/default",
  ]);
  t.deepEqual(parse((objs[0].data as { mesh: string }).mesh), {
    enableAutoMtls: true,
    rootNamespace: "istio-system",
    trustDomain: "example.org",
  });
});

test("the model reads the builders' output: mesh STRICT refuses legacy → foo and shows the trust domain", (t) => {
  const { probes } = predict(desiredMeshObjects(input));
  t.is(probes.length, 6 * 3);
  const cell = (from: string, to: string) => probes.find((p) => p.from === from && p.to === to)!;
  t.is(cell("sleep.legacy", "httpbin.foo:8000").code, 0);
  t.is(cell("sleep.foo", "httpbin.bar:8000").code, 200);
  t.true(cell("sleep.foo", "httpbin.bar:8000").mtls);
  t.is(cell("sleep.foo", "httpbin.bar:8000").clientIdentity, "spiffe://example.org/ns/foo/sa/sleep");
  t.is(cell("sleep.legacy", "httpbin.legacy:8000").code, 200);
});

test("without demo workloads only namespaces and policies remain; revision labels namespaces", (t) => {
  const objs = desiredMeshObjects({ ...input, istio: { ...input.istio, revision: "canary" }, demo: { enabled: false } });
  t.deepEqual(ids(objs), ["ConfigMap/istio-system/istio", "Namespace//foo", "Namespace//bar", "Namespace//legacy", "PeerAuthentication/istio-system/default"]);
  t.deepEqual(objs[1].metadata.labels, { "istio.io/rev": "canary" });
});

test("deterministic: two builds serialize identically", (t) => {
  t.is(JSON.stringify(desiredMeshObjects(input)), JSON.stringify(desiredMeshObjects(structuredClone(input))));
});

test("a namespace listed twice is refused", (t) => {
  const e = t.throws(() => desiredMeshObjects({ ...input, namespaces: [...input.namespaces, { name: "foo", injection: false }] }));
  t.regex(e!.message, /istio-mtls:namespaces\[3\]\.name: "foo" is listed twice/);
});

test("invalid policies are refused before anything is returned", (t) => {
  t.throws(() => desiredMeshObjects({ ...input, mtls: { namespaces: [{ namespace: "istio-system", mode: "STRICT" }], workloads: [] } }), {
    message: /mesh root namespace/,
  });
});
