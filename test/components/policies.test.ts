import test from "ava";
import { installRecordingMocks, type Recorder } from "../helpers/mocks";

let rec: Recorder;
let mod: {
  MutualTlsPolicies: typeof import("../../components/mtls-policies").MutualTlsPolicies;
  ClientTlsPolicies: typeof import("../../components/client-tls").ClientTlsPolicies;
  EndUserAuth: typeof import("../../components/end-user-auth").EndUserAuth;
  PeerAuthorization: typeof import("../../components/authorization").PeerAuthorization;
};
let k8s: typeof import("@pulumi/kubernetes");
test.before(async () => {
  rec = await installRecordingMocks();
  k8s = await import("@pulumi/kubernetes");
  mod = {
    ...(await import("../../components/mtls-policies")),
    ...(await import("../../components/client-tls")),
    ...(await import("../../components/end-user-auth")),
    ...(await import("../../components/authorization")),
  };
});

const childrenOf = (token: string, name: string) => rec.registrations.filter((r) => r.parent.endsWith(`${token}::${name}`));

test.serial("MutualTlsPolicies: one PeerAuthentication per policy, each after the component's dependsOn", async (t) => {
  const istiod = new k8s.helm.v3.Release("istiod-a", { chart: "istiod" });
  new mod.MutualTlsPolicies(
    "a",
    {
      rootNamespace: "istio-system",
      policies: {
        mesh: { mode: "STRICT" },
        namespaces: [{ namespace: "legacy", mode: "PERMISSIVE" }],
        workloads: [{ namespace: "bar", name: "httpbin", selector: { app: "httpbin" }, portLevelMtls: { 8080: "DISABLE" } }],
      },
    },
    { dependsOn: [istiod] },
  );
  await rec.settle();
  const kids = childrenOf("istio-mtls:mtls:MutualTlsPolicies", "a");
  t.deepEqual(kids.map((k) => `${k.type}::${k.name}`).sort(), [
    "kubernetes:security.istio.io/v1:PeerAuthentication::bar/httpbin",
    "kubernetes:security.istio.io/v1:PeerAuthentication::istio-system/default",
    "kubernetes:security.istio.io/v1:PeerAuthentication::legacy/default",
  ]);
  t.deepEqual(rec.get("kubernetes:security.istio.io/v1:PeerAuthentication", "bar/httpbin").inputs, {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "httpbin", namespace: "bar" },
    spec: { selector: { matchLabels: { app: "httpbin" } }, portLevelMtls: { "8080": { mode: "DISABLE" } } },
  });
  const istiodUrn = rec.get("kubernetes:helm.sh/v3:Release", "istiod-a").urn;
  for (const k of kids) t.deepEqual(k.dependencies, [istiodUrn]);
});

test.serial("MutualTlsPolicies refuses bad shapes at construction, registering nothing", async (t) => {
  await rec.settle();
  const before = rec.registrations.length;
  const bad = [
    { mesh: { mode: "MUTUAL" as never }, namespaces: [], workloads: [] },
    { namespaces: [{ namespace: "foo", mode: "STRICT" as const }, { namespace: "foo", mode: "PERMISSIVE" as const }], workloads: [] },
    { namespaces: [], workloads: [{ namespace: "foo", name: "p", selector: {}, portLevelMtls: { 8080: "STRICT" as const } }] },
    { namespaces: [], workloads: [{ namespace: "istio-system", name: "p", selector: { app: "a" }, mode: "STRICT" as const }] },
    { namespaces: [], workloads: [{ namespace: "foo", name: "p", selector: { app: "a" }, portLevelMtls: { 99999: "STRICT" as const } }] },
  ];
  bad.forEach((policies, i) => {
    t.throws(() => new mod.MutualTlsPolicies(`bad-${i}`, { policies, rootNamespace: "istio-system" }), { message: /^istio-mtls:mtls\./ });
  });
  await rec.settle();
  t.is(rec.registrations.length, before);
});

test.serial("ClientTlsPolicies: DestinationRules with port-level settings and exportTo", async (t) => {
  new mod.ClientTlsPolicies("b", {
    destinationRules: [
      { namespace: "foo", name: "to-legacy", host: "httpbin.legacy.svc.cluster.local", portLevel: [{ port: 8000, mode: "DISABLE" }], exportTo: ["."] },
    ],
  });
  await rec.settle();
  const [dr] = childrenOf("istio-mtls:client-tls:ClientTlsPolicies", "b");
  t.is(dr.type, "kubernetes:networking.istio.io/v1:DestinationRule");
  t.deepEqual(dr.inputs.spec, {
    host: "httpbin.legacy.svc.cluster.local",
    trafficPolicy: { portLevelSettings: [{ port: { number: 8000 }, tls: { mode: "DISABLE" } }] },
    exportTo: ["."],
  });
  t.throws(() => new mod.ClientTlsPolicies("b-bad", { destinationRules: [{ namespace: "foo", name: "x", host: "h", mode: "ON" as never }] }), {
    message: /istio-mtls:destinationRules\[0\]\.mode: unknown TLS mode "ON"/,
  });
});

test.serial("EndUserAuth: RequestAuthentication and the DENY-without-token policy; http JWKS refused", async (t) => {
  const policy = {
    namespace: "foo",
    name: "jwt",
    selector: { app: "httpbin" },
    issuer: "testing@secure.istio.io",
    jwksUri: "https://example.com/jwks.json",
    requireToken: true,
    paths: ["/headers"],
  };
  new mod.EndUserAuth("c", { policies: [policy] });
  await rec.settle();
  const kids = childrenOf("istio-mtls:end-user-auth:EndUserAuth", "c");
  t.deepEqual(kids.map((k) => `${k.type}::${k.name}`).sort(), [
    "kubernetes:security.istio.io/v1:AuthorizationPolicy::foo/jwt-require-jwt",
    "kubernetes:security.istio.io/v1:RequestAuthentication::foo/jwt",
  ]);
  t.is(rec.get("kubernetes:security.istio.io/v1:AuthorizationPolicy", "foo/jwt-require-jwt").inputs.spec.action, "DENY");
  const before = rec.registrations.length;
  t.throws(() => new mod.EndUserAuth("c-bad", { policies: [{ ...policy, jwksUri: "http://example.com/jwks.json" }] }), {
    message: /istio-mtls:endUserAuth\[0\]\.jwksUri: "http:\/\/example\.com\/jwks\.json" is not an https URL/,
  });
  await rec.settle();
  t.is(rec.registrations.length, before);
});

test.serial("PeerAuthorization: ALLOW by principal", async (t) => {
  new mod.PeerAuthorization("d", {
    policies: [{ namespace: "foo", name: "allow-bar", selector: { app: "httpbin" }, principals: ["cluster.local/ns/bar/sa/sleep"] }],
  });
  await rec.settle();
  const [ap] = childrenOf("istio-mtls:authorization:PeerAuthorization", "d");
  t.deepEqual(ap.inputs.spec, {
    selector: { matchLabels: { app: "httpbin" } },
    action: "ALLOW",
    rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/sleep"] } }] }],
  });
  t.throws(() => new mod.PeerAuthorization("d-bad", { policies: [{ namespace: "foo", name: "x", selector: { app: "a" } }] }), {
    message: /istio-mtls:authorization\[0\]: neither principals nor namespaces/,
  });
});
