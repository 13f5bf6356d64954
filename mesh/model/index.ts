/**
 * Reads the input objects once into indexes: workloads and Service ports, and the policies by
 * namespace and selector, so that each (client, Service port) pair is a few map lookups.
 */
import type { KubeObject, MeshConfig } from "../types";
import { HttpPolicyIndex, readAuthorizationPolicy, readRequestAuthentication, type AuthzPolicyEntry, type RequestAuthnEntry } from "./authorization";
import { DestinationRuleIndex, readDestinationRule, type DestinationRuleEntry } from "./destination-rule";
import { collecting, ModelInputError, objectRef, throwAll } from "./errors";
import { assumedRevisionNotice, installedRevisions, type InstalledRevisions } from "./injection-webhooks";
import { isModelKind } from "./kinds";
import { readMeshConfig } from "./mesh-config";
import { PeerAuthnIndex, readPeerAuthentication, type PeerAuthnPolicy } from "./peer-authentication";
import { isWorkloadKind, namespaceOf, ownedByInputController, readNamespaceLabels, readServicePorts, readWorkload, type ServicePort, type Workload } from "./workloads";

export interface MeshModel {
  mesh: MeshConfig;
  /** The revisions whose injection webhooks decide sidecars. */
  installed: InstalledRevisions;
  /** What the model assumed for lack of input and that could change cells, one line each (assumedRevisionNotice). */
  notices: string[];
  /** Every workload (Deployment, StatefulSet, ..., bare Pod) not made by another in the input, input order. */
  workloads: Workload[];
  /** Service ports of Services with a selector, sorted by namespace, service, port. */
  servicePorts: ServicePort[];
  peerAuthn: PeerAuthnIndex;
  destinationRules: DestinationRuleIndex;
  http: HttpPolicyIndex;
}

function checkMetadata(o: unknown, position: number): KubeObject | undefined {
  if (o === null || typeof o !== "object") return undefined;
  const k = o as KubeObject;
  if (typeof k.kind !== "string" || typeof k.apiVersion !== "string" || !isModelKind(k.kind, k.apiVersion)) return undefined;
  const name = k.metadata?.name;
  if (typeof name !== "string" || name === "") {
    throw new ModelInputError(objectRef(k.kind, k.metadata?.namespace, `#${position}`), `metadata.name must be a non-empty string, found ${JSON.stringify(name)}`);
  }
  return k;
}

export interface BuildOptions {
  /**
   * The Istio revisions installed ("default" for the default revision), when the caller knows them
   * (the stack installs its own); else the input's MutatingWebhookConfigurations say, else the
   * default revision alone is taken (InstalledRevisions.notice).
   */
  revisions?: readonly string[];
}

export function buildModel(objects: readonly KubeObject[], options: BuildOptions = {}): MeshModel {
  const known: { o: KubeObject; position: number }[] = [];
  objects.forEach((raw, position) => {
    const o = checkMetadata(raw, position);
    if (o) known.push({ o, position });
  });
  const ours = known.map((k) => k.o);
  const mesh = readMeshConfig(ours);
  const nsLabels = readNamespaceLabels(ours);
  const installed = installedRevisions(ours, options.revisions);

  const workloads: Workload[] = [];
  const pas: PeerAuthnPolicy[] = [];
  const drs: DestinationRuleEntry[] = [];
  const ras: RequestAuthnEntry[] = [];
  const aps: AuthzPolicyEntry[] = [];
  const services: KubeObject[] = [];
  // Every object's problems, not only the first object's.
  const errors: ModelInputError[] = [];
  const push = <T>(list: T[], read: () => T): void => {
    const v = collecting(errors, read);
    if (v !== undefined) list.push(v);
  };
  const controllers = new Set(ours.filter((o) => isWorkloadKind(o.kind)).map((o) => objectRef(o.kind, namespaceOf(o), o.metadata.name)));
  for (const { o, position } of known) {
    if (isWorkloadKind(o.kind)) {
      if (!ownedByInputController(o, controllers)) push(workloads, () => readWorkload(o, position, nsLabels, mesh.trustDomain, installed));
      continue;
    }
    switch (o.kind) {
      case "Service":
        services.push(o);
        break;
      case "PeerAuthentication":
        push(pas, () => readPeerAuthentication(o, position));
        break;
      case "DestinationRule":
        push(drs, () => readDestinationRule(o, position));
        break;
      case "RequestAuthentication":
        push(ras, () => readRequestAuthentication(o));
        break;
      case "AuthorizationPolicy":
        push(aps, () => readAuthorizationPolicy(o));
        break;
    }
  }
  const byNs = new Map<string, Workload[]>();
  for (const w of workloads) {
    const l = byNs.get(w.namespace);
    if (l) l.push(w);
    else byNs.set(w.namespace, [w]);
  }
  const servicePorts: ServicePort[] = [];
  for (const s of services) servicePorts.push(...(collecting(errors, () => readServicePorts(s, byNs)) ?? []));
  servicePorts.sort((a, b) =>
    a.namespace !== b.namespace ? (a.namespace < b.namespace ? -1 : 1) : a.service !== b.service ? (a.service < b.service ? -1 : 1) : a.port - b.port,
  );
  const seen = new Set<string>();
  for (const sp of servicePorts) {
    if (seen.has(sp.id)) errors.push(new ModelInputError(objectRef("Service", sp.namespace, sp.service), `port ${sp.port} is listed twice (or the Service appears twice in the input)`));
    seen.add(sp.id);
  }
  const ids = new Set<string>();
  for (const w of workloads) {
    if (ids.has(w.id)) errors.push(new ModelInputError(objectRef(w.kind, w.namespace, w.name), `workload ${w.id} appears twice in the input`));
    ids.add(w.id);
  }
  throwAll(errors);
  const notice = assumedRevisionNotice(installed, [
    ...[...nsLabels].map(([name, labels]) => ({ where: `namespace ${name}`, labels })),
    ...workloads.map((w) => ({ where: `pod of ${w.kind} ${w.namespace}/${w.name}`, labels: w.labels })),
  ]);
  return {
    mesh,
    installed,
    notices: notice ? [notice] : [],
    workloads,
    servicePorts,
    peerAuthn: new PeerAuthnIndex(pas, mesh.rootNamespace),
    destinationRules: new DestinationRuleIndex(drs, mesh.rootNamespace),
    http: new HttpPolicyIndex(ras, aps, mesh.rootNamespace, mesh.trustDomain),
  };
}

export { namespaceOf };
