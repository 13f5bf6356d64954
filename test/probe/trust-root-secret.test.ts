import test from "ava";
import * as path from "node:path";
import { connectivityProbeProvider, FAKE_TRANSPORT_ENV } from "../../components/connectivity-probe";
import { probeClientsFromPrediction } from "../../probe/inputs";
import { demoNamespaces, demoPrediction, demoScenario } from "./demo-matrix";

const ROOT = "-----BEGIN CERTIFICATE-----\nMIIBroot\n-----END CERTIFICATE-----\n";
const OTHER = "-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n";

process.env[FAKE_TRANSPORT_ENV] = path.join(__dirname, "fake-transport.cjs");
const namespaces = demoNamespaces(3);
const rootConfigMaps = (pem: string) => Object.fromEntries(namespaces.map((ns) => [`${ns}/istio-ca-root-cert`, { "root-cert.pem": pem }]));

function inputs(scenarioExtra: Record<string, unknown>) {
  return {
    clients: probeClientsFromPrediction(demoPrediction(namespaces)),
    revision: "r1",
    alwaysRun: false,
    requestTimeoutSeconds: 1,
    deadlineSeconds: 0.2,
    concurrency: 2,
    expectedRootCertSecret: { namespace: "cert-manager", name: "istio-mtls-root-ca", key: "ca.crt" },
    transport: { kind: "fake" as const, scenario: demoScenario(namespaces, {}, scenarioExtra) },
  };
}

test("trust root read from the CA Secret at probe time: a match passes", async (t) => {
  const res = await connectivityProbeProvider.create!(inputs({ secrets: { "cert-manager/istio-mtls-root-ca": { "ca.crt": ROOT } }, configMaps: rootConfigMaps(ROOT) }) as never);
  t.is(res.outs?.cells.length, 9);
});

test("trust root read from the CA Secret: istiod distributing another root fails", async (t) => {
  const err = await t.throwsAsync(
    connectivityProbeProvider.create!(inputs({ secrets: { "cert-manager/istio-mtls-root-ca": { "ca.crt": ROOT } }, configMaps: rootConfigMaps(OTHER) }) as never),
  );
  t.regex(err!.message, /is not the stack's CA root/);
});

test("trust root Secret missing or without the key is an error, never a pass", async (t) => {
  const missing = await t.throwsAsync(connectivityProbeProvider.create!(inputs({ configMaps: rootConfigMaps(ROOT) }) as never));
  t.regex(missing!.message, /Secret cert-manager\/istio-mtls-root-ca does not exist/);
  const noKey = await t.throwsAsync(
    connectivityProbeProvider.create!(inputs({ secrets: { "cert-manager/istio-mtls-root-ca": { "tls.crt": ROOT } }, configMaps: rootConfigMaps(ROOT) }) as never),
  );
  t.regex(noKey!.message, /has no key ca.crt/);
});
