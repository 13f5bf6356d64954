import test from "ava";
import { installRecordingMocks, type Recorder } from "../helpers/mocks";
import type { MeshCaArgs } from "../../components/mesh-ca";

let rec: Recorder;
let MeshCa: typeof import("../../components/mesh-ca").MeshCa;
test.before(async () => {
  rec = await installRecordingMocks();
  ({ MeshCa } = await import("../../components/mesh-ca"));
});

const args = (name: string, change: Partial<MeshCaArgs["ca"]> = {}, install = true): MeshCaArgs => ({
  certManager: { install, version: "v1.19.1", namespace: `cm-${name}` },
  ca: {
    type: "cert-manager",
    keyAlgorithm: "ECDSA",
    keySize: 256,
    rootDuration: "87600h",
    intermediateDuration: "8760h",
    intermediateRenewBefore: "720h",
    ...change,
  },
  istioNamespace: `istio-${name}`,
});

const under = (name: string) => rec.registrations.filter((r) => r.urn.includes("istio-mtls:ca:MeshCa$") && r.parent.endsWith(`::${name}`));

test.serial("installs cert-manager, then the chain in order, each step waiting for the one before", async (t) => {
  const ca = new MeshCa("a", args("a"));
  await rec.settle();
  const kids = under("a");
  t.deepEqual(kids.map((k) => `${k.type}::${k.name}`), [
    "kubernetes:core/v1:Namespace::cm-a",
    "kubernetes-cert-manager:index:CertManager::cert-manager",
    "kubernetes:cert-manager.io/v1:ClusterIssuer::istio-mtls-selfsigned",
    "kubernetes:cert-manager.io/v1:Certificate::cm-a/istio-mtls-root-ca",
    "kubernetes:cert-manager.io/v1:ClusterIssuer::istio-mtls-root-ca",
    "kubernetes:cert-manager.io/v1:Certificate::istio-a/cacerts",
  ]);
  const [ns, cm, selfSigned, root, rootIssuer, cacerts] = kids;
  t.deepEqual(cm.inputs.helmOptions, { name: "cert-manager", namespace: "cm-a", version: "v1.19.1", values: { crds: { enabled: true } } });
  t.deepEqual(cm.dependencies, [ns.urn]);
  t.deepEqual(selfSigned.dependencies, [cm.urn]);
  t.deepEqual(root.dependencies, [selfSigned.urn]);
  t.deepEqual(rootIssuer.dependencies, [root.urn]);
  t.deepEqual(cacerts.dependencies, [rootIssuer.urn]);
  t.deepEqual(root.inputs.metadata.annotations, { "pulumi.com/waitFor": "condition=Ready" });
  t.is(cacerts.inputs.spec.secretName, "cacerts");
  t.is(ca.rootSecretName, "istio-mtls-root-ca");
  t.is(ca.caReady[0], ca.cacerts!);
});

test.serial("no key material in any input: cert-manager generates the keys in the cluster", async (t) => {
  await rec.settle();
  const text = JSON.stringify(under("a").map((r) => r.inputs));
  t.notRegex(text, /PRIVATE KEY|tls\.key|ca-key\.pem/);
});

test.serial("certManager.install false: only issuers and certificates", async (t) => {
  new MeshCa("b", args("b", {}, false));
  await rec.settle();
  const kids = under("b");
  t.deepEqual(kids.map((k) => k.type.split(":")[2]), ["ClusterIssuer", "Certificate", "ClusterIssuer", "Certificate"]);
  t.deepEqual(kids[0].dependencies, []);
});

test.serial("ca.type istiod: no chain, nothing for istiod to wait for", async (t) => {
  const ca = new MeshCa("c", { ...args("c", {}, false), ca: { ...args("c").ca, type: "istiod" } });
  await rec.settle();
  t.deepEqual(under("c"), []);
  t.deepEqual(ca.caReady, []);
  t.is(ca.rootSecretName, undefined);
});

test.serial("invalid CA settings throw before anything is registered", async (t) => {
  await rec.settle();
  const before = rec.registrations.length;
  t.throws(() => new MeshCa("d", args("d", { keySize: 2048 })), { message: /istio-mtls:ca\.keySize: 2048 for ECDSA; allowed: 256, 384/ });
  t.throws(() => new MeshCa("e", { ...args("e"), ca: { ...args("e").ca, type: "vault" as never } }), {
    message: /istio-mtls:ca\.type: "vault"; allowed: cert-manager, istiod/,
  });
  await rec.settle();
  t.is(rec.registrations.length, before);
});
