/**
 * The trust check's expected root, read from public material only: `status.ca` of the newest
 * CertificateRequest of the intermediate CA Certificate (cert-manager records there the issuing
 * CA's certificate, i.e. the root), never the root CA Secret with its private key.
 */
import test from "ava";
import * as path from "node:path";
import { connectivityProbeProvider } from "../../components/connectivity-probe";
import { expectedRootFromRequests, FAKE_TRANSPORT_ENV } from "../../probe/provider";
import type { CertificateRequestInfo } from "../../probe/transport";
import { demoNamespaces, demoPrediction, demoScenario } from "./demo-matrix";

// Two self-signed EC P-256 CAs (openssl req -x509, 100 years): the trust check parses the roots it compares.
const ROOT = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVWgAwIBAgIUJN9xyo05JZ4VE713NY7ARnrHjwAwCgYIKoZIzj0EAwIw
LDETMBEGA1UECgwKaXN0aW8tbXRsczEVMBMGA1UEAwwMdGVzdCByb290IENBMCAX
DTI2MTIwMTE0MzY0NVoYDzIxMjYxMTA3MTQzNjQ1WjAsMRMwEQYDVQQKDAppc3Rp
by1tdGxzMRUwEwYDVQQDDAx0ZXN0IHJvb3QgQ0EwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATSvKTXTTbnhlz96mTWl3Ku5WYQqQdoqtpSXS9tvPpB4v47FlWRe0jv
MLrTERkM2nQH2GicN+5L14QAV81EiZmho1MwUTAdBgNVHQ4EFgQUWwxwlCPlOe6f
tnhOQAUlVB8fdZAwHwYDVR0jBBgwFoAUWwxwlCPlOe6ftnhOQAUlVB8fdZAwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiBeroQgIJFplQ6YSG/SfMIZ
aYeQ7AaK9PFeffbarNfZiwIgUVk4eft64u4cMNAeviztWdPf6+OEm9hSCg0YcOoA
qt0=
-----END CERTIFICATE-----
`;
const OTHER = `-----BEGIN CERTIFICATE-----
MIIBsTCCAVegAwIBAgIUFgAcXsBuq/2/4VVfHfxI4CAG/pcwCgYIKoZIzj0EAwIw
LTETMBEGA1UECgwKaXN0aW8tbXRsczEWMBQGA1UEAwwNdGVzdCBvdGhlciBDQTAg
Fw0yNjEyMDExNDM2NDVaGA8yMTI2MTEwNzE0MzY0NVowLTETMBEGA1UECgwKaXN0
aW8tbXRsczEWMBQGA1UEAwwNdGVzdCBvdGhlciBDQTBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABM/sjDngGqYvM4tlpW72vHfpASGHneB7yJ+KqT9CsTl1uNr4F4hK
7TJS6wv0S+ao/cNcFU9QNL6eEbRh0Y0uc1GjUzBRMB0GA1UdDgQWBBRHAgeWnSe4
BJkkH9vWO4VZ+tddtDAfBgNVHSMEGDAWgBRHAgeWnSe4BJkkH9vWO4VZ+tddtDAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIAXe3T4dpJq07Oohovm/
WKVufbTSuTQHxed4aYQV/R7oAiEAqT57+egR/ewNOeBROf4SS+KJYYez89oMGpbI
361Iet8=
-----END CERTIFICATE-----
`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

process.env[FAKE_TRANSPORT_ENV] = path.join(__dirname, "fake-transport.cjs");
const namespaces = demoNamespaces(3);
const rootConfigMaps = (pem: string) => Object.fromEntries(namespaces.map((ns) => [`${ns}/istio-ca-root-cert`, { "root-cert.pem": pem }]));
const CERT = { namespace: "istio-system", name: "cacerts" };

function request(revision: number, pem: string | undefined, ready: "True" | "False" | "none" = "True", certificate = "cacerts"): CertificateRequestInfo {
  return {
    name: `${certificate}-${revision}`,
    annotations: { "cert-manager.io/certificate-name": certificate, "cert-manager.io/certificate-revision": String(revision) },
    conditions: ready === "none" ? [] : [{ type: "Ready", status: ready, reason: ready === "True" ? "Issued" : "Pending", message: ready === "True" ? "issued" : "Waiting on certificate issuance" }],
    ...(pem === undefined ? {} : { ca: b64(pem) }),
  };
}

function inputs(scenarioExtra: Record<string, unknown>) {
  return {
    predicted: demoPrediction(namespaces).probes,
    tokens: [],
    revision: "r1",
    alwaysRun: false,
    requestTimeoutSeconds: 1,
    deadlineSeconds: 0.2,
    concurrency: 2,
    expectedRootFromCertificate: CERT,
    transport: { kind: "fake" as const, scenario: demoScenario(namespaces, {}, scenarioExtra) },
  };
}
const create = (scenarioExtra: Record<string, unknown>) => connectivityProbeProvider.create!(inputs(scenarioExtra) as never);

test("the root in status.ca of the intermediate's CertificateRequest matches what istiod distributes: pass", async (t) => {
  const res = await create({ certificateRequests: { "istio-system": [request(1, ROOT)] }, configMaps: rootConfigMaps(ROOT) });
  t.is(res.outs?.cells.length, 9);
});

test("istiod distributing another root than the one that signed the intermediate: fail", async (t) => {
  const err = await t.throwsAsync(create({ certificateRequests: { "istio-system": [request(1, ROOT)] }, configMaps: rootConfigMaps(OTHER) }));
  t.regex(err!.message, /is not the stack's CA root/);
});

test("the newest revision wins (numerically: 10 after 9), other Certificates' requests are ignored", async (t) => {
  const crs = [request(9, OTHER), request(10, ROOT), request(11, OTHER, "True", "istio-ingressgateway-tls")];
  t.is(expectedRootFromRequests(CERT, crs), ROOT);
  const res = await create({ certificateRequests: { "istio-system": crs }, configMaps: rootConfigMaps(ROOT) });
  t.is(res.outs?.cells.length, 9);
  await t.throwsAsync(create({ certificateRequests: { "istio-system": crs }, configMaps: rootConfigMaps(OTHER) }), { message: /is not the stack's CA root/ });
});

test("no CertificateRequest of the intermediate is an error, never a pass", async (t) => {
  const none = await t.throwsAsync(create({ configMaps: rootConfigMaps(ROOT) }));
  t.regex(none!.message, /trust check: no CertificateRequest of Certificate istio-system\/cacerts/);
  const others = await t.throwsAsync(create({ certificateRequests: { "istio-system": [request(1, ROOT, "True", "other")] }, configMaps: rootConfigMaps(ROOT) }));
  t.regex(others!.message, /no CertificateRequest of Certificate istio-system\/cacerts/);
});

test("the newest CertificateRequest not Ready is an error, even when an older one is", async (t) => {
  const pending = await t.throwsAsync(create({ certificateRequests: { "istio-system": [request(1, ROOT), request(2, undefined, "False")] }, configMaps: rootConfigMaps(ROOT) }));
  t.regex(pending!.message, /CertificateRequest istio-system\/cacerts-2 \(revision 2\) is not Ready/);
  t.regex(pending!.message, /Waiting on certificate issuance/);
  const noCondition = await t.throwsAsync(create({ certificateRequests: { "istio-system": [request(1, ROOT, "none")] }, configMaps: rootConfigMaps(ROOT) }));
  t.regex(noCondition!.message, /cacerts-1 \(revision 1\) is not Ready/);
});

test("an empty or missing status.ca is an error, never a pass", async (t) => {
  for (const crs of [[request(1, undefined)], [request(1, "")], [{ ...request(1, ROOT), ca: b64("   \n") }]]) {
    const err = await t.throwsAsync(create({ certificateRequests: { "istio-system": crs }, configMaps: rootConfigMaps(ROOT) }));
    t.regex(err!.message, /CertificateRequest istio-system\/cacerts-1 has no status\.ca/);
  }
});

test("a status.ca that is not a PEM certificate is an error", (t) => {
  t.throws(() => expectedRootFromRequests(CERT, [request(1, "garbage")]), { message: /cacerts-1 status\.ca is not a PEM certificate/ });
});

test("a request without a usable revision annotation is an error, not silently skipped", (t) => {
  const bad = { ...request(1, ROOT), annotations: { "cert-manager.io/certificate-name": "cacerts", "cert-manager.io/certificate-revision": "one" } };
  t.throws(() => expectedRootFromRequests(CERT, [bad]), { message: /cacerts-1 has cert-manager\.io\/certificate-revision "one"/ });
});

test("an inline expected root needs no cluster read; with neither input there is no trust check", async (t) => {
  const { expectedRootFromCertificate: _cert, ...plain } = inputs({ configMaps: rootConfigMaps(OTHER) });
  const res = await connectivityProbeProvider.create!(plain as never);
  t.is(res.outs?.cells.length, 9);
  const inline = await t.throwsAsync(connectivityProbeProvider.create!({ ...plain, expectedRootCertPem: ROOT } as never));
  t.regex(inline!.message, /is not the stack's CA root/);
});

test("an inline expected root that is empty or blank is an error, never a trust check turned off", async (t) => {
  for (const pem of ["", "  \n"]) {
    const { expectedRootFromCertificate: _cert, ...rest } = inputs({ configMaps: rootConfigMaps(ROOT) });
    const err = await t.throwsAsync(connectivityProbeProvider.create!({ ...rest, expectedRootCertPem: pem } as never));
    t.regex(err!.message, /root/i, JSON.stringify(pem));
  }
});
