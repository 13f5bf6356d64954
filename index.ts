/**
 * istio-mtls: Istio with a cert-manager-rooted mesh CA, the demo mesh and its mTLS policies,
 * from the validated stack config. The connectivity matrix is predicted from the same manifests
 * the components deploy.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, pulumiConfigGetter } from "./config";
import { deployStack } from "./components/stack";
import { desiredMeshObjects } from "./mesh/builders";
import { predict } from "./mesh/predict";

const config = loadStackConfig(pulumiConfigGetter(new pulumi.Config("istio-mtls")), Object.keys(pulumi.runtime.allConfig()));
const stack = deployStack(config);

// ---- Connectivity probe (components/connectivity-probe.ts) ---------------------------------
// Wired here: after stack.demo and every policy component (stack.mtls, stack.clientTls,
// stack.endUserAuth, stack.authorization), comparing what it observes with `predictedMatrix`.
// ---------------------------------------------------------------------------------------------

/** What the model says each `sleep.X → httpbin.Y` probe observes, cell by cell with reasons. */
export const predictedMatrix = predict(desiredMeshObjects(config)).probes.map((p) => ({
  from: p.from,
  to: p.to,
  code: p.code,
  mtls: p.mtls,
  reason: p.reason,
}));
export const namespaces = stack.namespaces.map((n) => n.namespaceName);
export const istioNamespace = stack.istio.namespace;
export const istioVersion = config.istio.version;
/** Secret holding the mesh root CA (cert-manager's namespace); undefined with the istiod CA. */
export const caRootSecretName = stack.ca.rootSecretName;
