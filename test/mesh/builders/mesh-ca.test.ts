import test from "ava";
import { buildMeshCa, parseGoDuration, validateMeshCa, type MeshCaInput } from "../../../mesh/builders";

const input: MeshCaInput = {
  certManagerNamespace: "cert-manager",
  istioNamespace: "istio-system",
  keyAlgorithm: "ECDSA",
  keySize: 384,
  rootDuration: "87600h",
  intermediateDuration: "8760h",
  intermediateRenewBefore: "720h",
};

test("CA chain: self-signed ClusterIssuer → root Certificate → CA ClusterIssuer → cacerts", (t) => {
  const ca = buildMeshCa(input);
  t.deepEqual(ca.selfSignedIssuer, {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: "istio-mtls-selfsigned" },
    spec: { selfSigned: {} },
  });
  t.deepEqual(ca.rootCertificate, {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "istio-mtls-root-ca", namespace: "cert-manager" },
    spec: {
      commonName: "istio-mtls root CA",
      duration: "87600h",
      isCA: true,
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "istio-mtls-selfsigned" },
      privateKey: { algorithm: "ECDSA", rotationPolicy: "Always", size: 384 },
      secretName: "istio-mtls-root-ca",
      subject: { organizations: ["istio-mtls"] },
      usages: ["cert sign", "crl sign", "digital signature", "key encipherment"],
    },
  });
  t.deepEqual(ca.rootIssuer, {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: "istio-mtls-root-ca" },
    spec: { ca: { secretName: "istio-mtls-root-ca" } },
  });
  t.deepEqual(ca.intermediateCertificate, {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: "cacerts", namespace: "istio-system" },
    spec: {
      commonName: "istio-mtls intermediate CA",
      duration: "8760h",
      isCA: true,
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: "istio-mtls-root-ca" },
      privateKey: { algorithm: "ECDSA", rotationPolicy: "Always", size: 384 },
      renewBefore: "720h",
      secretName: "cacerts",
      subject: { organizations: ["istio-mtls"] },
      usages: ["cert sign", "crl sign", "digital signature", "key encipherment"],
    },
  });
});

test("RSA keys carry their size", (t) => {
  t.deepEqual(buildMeshCa({ ...input, keyAlgorithm: "RSA", keySize: 4096 }).intermediateCertificate.spec.privateKey, {
    algorithm: "RSA",
    rotationPolicy: "Always",
    size: 4096,
  });
});

test("Go durations", (t) => {
  t.is(parseGoDuration("1h30m"), 5_400_000);
  t.is(parseGoDuration("2.5s"), 2500);
  t.is(parseGoDuration("10d"), undefined);
  t.is(parseGoDuration("0h"), undefined);
  t.regex(
    t.throws(() => validateMeshCa({ ...input, rootDuration: "10d" }))!.message,
    /^Certificate cert-manager\/istio-mtls-root-ca: spec\.duration: "10d" is not a duration/,
  );
});

const rejected: [string, Partial<MeshCaInput>, RegExp][] = [
  ["ECDSA 521", { keySize: 521 }, /^Certificate cert-manager\/istio-mtls-root-ca: spec\.privateKey\.size: 521 for ECDSA; allowed: 256, 384/],
  ["RSA 1024", { keyAlgorithm: "RSA", keySize: 1024 }, /size: 1024 for RSA; allowed: 2048, 3072, 4096/],
  ["unknown algorithm", { keyAlgorithm: "Ed25519" as never }, /spec\.privateKey\.algorithm: "Ed25519"; allowed: ECDSA, RSA/],
  ["intermediate outlives root", { intermediateDuration: "100000h" }, /^Certificate istio-system\/cacerts: spec\.duration: 100000h outlives the root's 87600h/],
  ["renewBefore not shorter", { intermediateRenewBefore: "8760h" }, /spec\.renewBefore: 8760h is not shorter than spec\.duration 8760h/],
  ["bad namespace", { istioNamespace: "Istio" }, /^Certificate Istio\/cacerts: metadata\.namespace: "Istio" is not a valid name/],
];
for (const [title, change, message] of rejected) {
  test(`CA refused: ${title}`, (t) => {
    t.regex(t.throws(() => validateMeshCa({ ...input, ...change }))!.message, message);
  });
}
