/**
 * test/cluster/run.sh's probe step: the ConnectivityProbe's own runner (probe/runner.ts) with the
 * real transport (pods/exec through the API server, here to kwok, which runs the real probe
 * script with the host's sh and curl) and the real trust check (the root from cert-manager's
 * CertificateRequest against istiod's `istio-ca-root-cert`), for the cells that real processes
 * can answer here: from a client without sidecar to a Service whose endpoints have none. Cells
 * that need Envoy are not probed: there is none here.
 * Usage: tsx test/cluster/probe-exec.ts <Pulumi.<stack>.yaml> <kubeconfig> <deadline s> <from> <service.ns:port=host:port>...
 * The `=` arguments stand in for kube-proxy (a Service port to the endpoint's address), as curl's
 * --connect-to. Prints predicted and observed cells; exits 1 when they differ.
 */
import { loadStackConfigFile } from "../../config";
import { planStack } from "../../mesh/plan";
import { predict } from "../../mesh/predict";
import { expectedRootFromRequests } from "../../probe/provider";
import { formatMatrix, runProbes } from "../../probe/runner";
import { kubernetesTransport } from "../../probe/transport";

async function main(): Promise<void> {
  const [stackFile, kubeconfig, deadline, from, ...routes] = process.argv.slice(2);
  const settings = loadStackConfigFile(stackFile!);
  const plan = planStack(settings);
  const injected = new Set(settings.namespaces.filter((n) => n.injection).map((n) => n.name));
  const connectTo: Record<string, string> = {};
  // Keyed as the probe's URLs name the Service: <service>.<namespace>:<port>.
  for (const r of routes) {
    const [target, endpoint] = r.split("=");
    connectTo[target!] = endpoint!;
  }
  const targets = routes.map((r) => r.split("=")[0]);
  const cells = predict(plan.model, { from: [from!] }).probes.filter((c) => targets.includes(c.to));
  if (cells.length !== targets.length) throw new Error(`predicted ${cells.length} cells from ${from} to ${targets.join(", ")}`);
  for (const c of cells) {
    if (c.client.sidecar || injected.has(c.target.namespace)) throw new Error(`${c.from} → ${c.to} involves a sidecar: no Envoy here to answer it`);
  }
  console.log(`   predicted:\n${indent(formatMatrix(cells))}`);
  const transport = kubernetesTransport({ kubeconfig: kubeconfig! });
  const root = expectedRootFromRequests(plan.intermediateCertificate!, await transport.listCertificateRequests(plan.intermediateCertificate!.namespace));
  const result = await runProbes(cells, {
    transport,
    requestTimeoutSeconds: 5,
    deadlineSeconds: Number(deadline),
    concurrency: 1,
    expectedRootCertPem: root,
    connectTo,
    initialBackoffMs: 500,
    maxBackoffMs: 2000,
  });
  console.log(`   observed (${result.execs} exec(s), ${result.attempts} attempt(s)):\n${indent(formatMatrix(result.cells))}`);
  for (const c of result.cells) console.log(`   ${c.from} → ${c.to}: observed ${c.reason}`);
}

const indent = (s: string) => s.replace(/^/gm, "     ");

main().catch((e: Error) => {
  console.error(`   probe: ${e.message}`);
  process.exit(1);
});
