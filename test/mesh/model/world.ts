/** Small hand-built worlds for the model's pure decisions: workloads, endpoints, Service ports, modes. */
import type { ModeDecision, PeerAuthnIndex } from "../../../mesh/model/peer-authentication";
import { TLS_MODE_LABEL, type Endpoint, type ServicePort, type Workload } from "../../../mesh/model/workloads";

/** `<name>.<namespace>` with a sidecar (and the injector's tlsMode label) unless `sidecar` is false. */
export function workload(id: string, sidecar = true): Workload {
  const [name, namespace] = id.split(".") as [string, string];
  const labels = { app: name, ...(sidecar ? { [TLS_MODE_LABEL]: "istio" } : {}) };
  const principal = `cluster.local/ns/${namespace}/sa/${name}`;
  return {
    kind: "Deployment",
    name,
    namespace,
    created: undefined,
    position: 0,
    labels,
    serviceAccount: name,
    sidecar,
    sidecarWhy: sidecar ? "namespace label istio-injection=enabled" : "no injection label",
    namedPorts: new Map(),
    id,
    principal,
    spiffe: `spiffe://${principal}`,
    running: true,
    probeClient: { namespace, name, labels, serviceAccount: name, sidecar },
  };
}

export function endpoint(w: Workload, targetPort = 8080): Endpoint {
  return { workload: w, targetPort };
}

/** Service port 8000 → 8080 of `<service>.<namespace>`. */
export function servicePort(service: string, namespace: string, endpoints: Endpoint[], headless = false): ServicePort {
  return {
    namespace,
    service,
    port: 8000,
    portName: "http",
    targetPortSpec: 8080,
    hostname: `${service}.${namespace}.svc.cluster.local`,
    headless,
    endpoints,
    id: `${service}.${namespace}:8000`,
    probeTarget: { namespace, service, port: 8000, targetPort: 8080 },
  };
}

/**
 * A PeerAuthentication view where every workload port and every namespace has `mode`, decided by
 * "PeerAuthentication test/default"; `asked` records the (workload id, port) pairs it was asked about.
 */
export function modes(mode: ModeDecision["mode"]): Pick<PeerAuthnIndex, "modeAt" | "namespaceMode"> & { asked: string[] } {
  const decision: ModeDecision = { mode, source: "PeerAuthentication test/default" };
  const asked: string[] = [];
  return {
    asked,
    modeAt: (w, port) => {
      asked.push(`${w.id}:${port}`);
      return decision;
    },
    namespaceMode: (namespace) => {
      asked.push(namespace);
      return decision;
    },
  };
}
