/**
 * istio-mtls: plan → deploy → predict. planStack (mesh/plan.ts) decides every object the stack
 * deploys, the components deploy its phases, and the model predicts the connectivity matrix from
 * the same objects, which the connectivity probe then checks in the cluster.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, pulumiConfigGetter } from "./config";
import { deployPhases } from "./components/phase";
import { planStack } from "./mesh/plan";
import { predict } from "./mesh/predict";
import { ConnectivityProbe } from "./components/connectivity-probe";
import { policyRevision } from "./probe/inputs";
import { nodeVersionProblem } from "./probe/transport";

// Before any resource: on a Node too old for @kubernetes/client-node the probe would crash only
// after the whole mesh is deployed. A RunError is reported without a stack trace.
const nodeProblem = nodeVersionProblem(process.version);
if (nodeProblem) throw new pulumi.RunError(nodeProblem);

const config = loadStackConfig(pulumiConfigGetter(new pulumi.Config("istio-mtls")), Object.keys(pulumi.runtime.allConfig()));
const plan = planStack(config);
const deployed = deployPhases(plan.phases);
const prediction = predict(plan.model, { from: plan.probeClients, revisions: plan.revisions });

// After the workloads (the probe clients among them) and every policy it tests, the probe runs
// the predicted matrix in the cluster (through the same kubeconfig/context as the Kubernetes
// provider; the kubeconfig may be a path or the document, as for the provider) and fails the
// update when the mesh disagrees. It
// runs again only when the deployed objects change. With the cert-manager CA it expects the root
// recorded in the intermediate's CertificateRequest (public), never reading the root Secret.
// It runs whenever probe.enabled, in live mode: at probe time it reads the managed namespaces and
// predicts the probe clients' cells from what runs there (app teams' Services and policies too),
// with the exceptions read there; the demo's sleep cells keep this plan-time prediction.
const kubernetes = new pulumi.Config("kubernetes");
const probed = plan.phases.filter((p) => p.name === "workloads" || p.name === "policies").flatMap((p) => p.items.map((i) => deployed.get(i.id)!));
const probe =
  config.probe.enabled
    ? new ConnectivityProbe(
        "connectivity",
        {
          prediction,
          revision: policyRevision(plan.model),
          alwaysRun: config.probe.alwaysRun,
          requestTimeoutSeconds: config.probe.requestTimeoutSeconds,
          deadlineSeconds: config.probe.deadlineSeconds,
          concurrency: config.probe.concurrency,
          kubeconfig: kubernetes.getSecret("kubeconfig"),
          context: kubernetes.get("context"),
          expectedRootFromCertificate: plan.intermediateCertificate,
          live: plan.live,
        },
        { dependsOn: probed },
      )
    : undefined;

/** What the model says before apply each probe observes (from the demo's sleep and the probe clients), cell by cell with reasons; the probe clients' cells are predicted again live. */
export const predictedMatrix = prediction.probes.map((p) => ({
  from: p.from,
  to: p.to,
  code: p.code,
  mtls: p.mtls,
  reason: p.reason,
}));
export const namespaces = config.namespaces.map((n) => n.name);
export const istioNamespace = config.istio.namespace;
export const istioVersion = config.istio.version;
/** Secret holding the mesh root CA (cert-manager's namespace); undefined with the istiod CA. */
export const caRootSecretName = plan.rootSecretName;
/** The observed matrix, as the seed documents print it (after `pulumi up`; absent with probes off). */
export const probeTable = probe?.table ?? null;
/** How many cells were predicted before apply (the demo's sleep) and how many live at probe time (the probe clients). */
export const probeCells = probe ? pulumi.all([probe.predictedBeforeApply, probe.predictedLive]).apply(([beforeApply, live]) => ({ beforeApply, live })) : null;
/** What the live prediction noted, one line each: a managed namespace with no Service yet, ports not probed, objects the model does not read. */
export const probeNotices = probe?.notices ?? null;
/** How many rounds of probes it took the mesh to match the prediction, and how long. */
export const probeAttempts = probe?.attempts ?? null;
export const probeSecondsToConverge = probe?.secondsToConverge ?? null;
/** Per Service port probed: what it accepts (strict, permissive, plaintext-accepted, unknown), who reached it how, its exceptions. */
export const posture = probe?.posture ?? null;
/** The posture in one line, e.g. "3 service ports: 2 refuse plaintext; 1 accepts it under exceptions bar/httpbin:8000 (…)". */
export const postureSummary = probe?.summary ?? null;
