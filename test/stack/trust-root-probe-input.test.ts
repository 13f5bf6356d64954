/**
 * The stack points the probe's trust check at public material only: the intermediate CA
 * Certificate whose CertificateRequests carry the root in status.ca, never the root CA Secret.
 */
import test from "ava";
import { runStackProgram } from "../helpers/program";

const PROBE = "pulumi-nodejs:dynamic/probe:ConnectivityProbe";

test("dev (cert-manager CA): the probe expects the root recorded for Certificate istio-system/cacerts; no Secret reference", async (t) => {
  const run = await runStackProgram("dev");
  const probe = run.recorder.get(PROBE, "connectivity");
  t.deepEqual(probe.inputs.expectedRootFromCertificate, { namespace: "istio-system", name: "cacerts" });
  t.false("expectedRootCertSecret" in probe.inputs);
  const intermediate = run.recorder.ofType("kubernetes:cert-manager.io/v1:Certificate").find((c) => c.inputs.metadata?.name === "cacerts");
  t.is(intermediate?.inputs.metadata.namespace, "istio-system", "the reference names the Certificate the stack deploys");
  t.false(/readNamespacedSecret|readSecret/.test(probe.inputs.__provider), "the serialized provider reads no Secret");
});
