/**
 * planStack: the one place that decides what the stack deploys. Pure (no Pulumi): from the
 * validated settings to every Kubernetes object and Helm release, grouped in install phases, plus
 * the objects the model reads and the clients whose cells the probe runs. The components deploy
 * the phases in order; `istio-mtls plan`, the PR diff and the policy pack read the same plan, so
 * nothing recomputes the stack a second way.
 */
import { buildAuthorizationPolicies } from "./builders/authorization";
import { buildCertManagerRelease, CERT_MANAGER_CHART, CERT_MANAGER_RELEASE } from "./builders/cert-manager";
import { chartSource, isLocalChartFolder } from "./chart-source";
import { buildDestinationRules } from "./builders/destination-rule";
import { buildEndUserAuth } from "./builders/end-user-auth";
import { buildHttpbin } from "./builders/httpbin";
import { buildIngress, gatewayChartValues, INGRESS_GATEWAY_RELEASE } from "./builders/ingress";
import { buildIntentConfigMap } from "./builders/intent";
import { installedRevision } from "./builders/istio";
import { buildIstioReleases } from "./builders/istio";
import { buildMeshCa, ROOT_CA_NAME } from "./builders/mesh-ca";
import { buildMeshConfigMap } from "./builders/mesh-config";
import { buildNamespace } from "./builders/namespace";
import { buildPeerAuthentications } from "./builders/peer-authentication";
import { buildPlaintextProbeNamespace, buildProbeClient } from "./builders/probe-client";
import { buildSleep } from "./builders/sleep";
import { PLAINTEXT_PROBE_NAMESPACE, probeClientName } from "./probe-clients";
import { objectRef } from "./model/errors";
import type { StackSettings } from "./settings";
import type { HelmRelease } from "./builders/kinds";
import type { KubeObject } from "./types";

export type { HelmRelease, StackSettings };

/**
 * The install phases, in order. An item waits only for what it needs (see waitsFor), which is
 * always in its own phase or an earlier one, so the phases apply in this order (and are destroyed
 * in the reverse) without every item waiting for every item before it: Pulumi expands a
 * dependency on a component to all of its children, which for 500 namespaces would be a million
 * dependency entries in the state.
 */
export const PHASES = ["ca", "istio", "namespaces", "workloads", "policies", "ingress", "intent"] as const;
export type PhaseName = (typeof PHASES)[number];

/** One resource to apply. `id` is unique in the plan; `after` names the items, earlier in the plan, it waits for. */
export type PlanItem =
  | { id: string; object: KubeObject; after: string[] }
  /**
   * `installer: "cert-manager"`: through @pulumi/kubernetes-cert-manager's component, as users of
   * it expect; "helm": a helm.v3.Release (also cert-manager's chart from a local folder).
   */
  | { id: string; release: HelmRelease; installer: "helm" | "cert-manager"; after: string[] };

export interface Phase {
  name: PhaseName;
  items: PlanItem[];
}

export interface StackPlan {
  /** Every phase, in order, also the empty ones. */
  phases: Phase[];
  /** The objects the model reads: MeshConfig (as istiod's ConfigMap `istio`), namespaces, workloads, policies. */
  model: KubeObject[];
  /**
   * `<workload>.<namespace>` of the clients the probe runs cells from: the demo's sleep, then the
   * probe clients (mesh/probe-clients.ts) when `probe.enabled`, the plaintext one last.
   */
  probeClients: string[];
  /**
   * With `probe.enabled`: what the probe predicts live at probe time (probe/inputs.ts LiveInput):
   * the probe clients' cells to every Service port of the managed namespaces, read from the cluster
   * (istiod's namespace holds the mesh ConfigMap).
   */
  live?: { namespaces: string[]; istioNamespace: string; clients: string[] };
  /** The Istio revisions whose injection webhooks the stack's pods meet (the model's BuildOptions.revisions). */
  revisions: string[];
  /** The intermediate CA Certificate writing `cacerts`, whose CertificateRequests carry the root; absent with the istiod CA. */
  intermediateCertificate?: { namespace: string; name: string };
  /** The root CA Secret in cert-manager's namespace; absent with the istiod CA. */
  rootSecretName?: string;
}

/** @pulumi/kubernetes (4.18+) waits for this condition on any resource, custom ones included: dependents start once it holds. */
const WAIT_FOR_READY = { "pulumi.com/waitFor": "condition=Ready" } as const;

/** `Kind namespace/name` (or `Kind name` when cluster-scoped), as the model names objects. */
function itemId(o: KubeObject): string {
  return objectRef(o.kind, o.metadata.namespace, o.metadata.name);
}

function releaseId(r: HelmRelease): string {
  return `Release ${r.namespace}/${r.name}`;
}

const object = (o: KubeObject, after: readonly PlanItem[] = []): PlanItem => ({ id: itemId(o), object: o, after: after.map((a) => a.id) });

function waitForReady(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, ...WAIT_FOR_READY } } };
}

/**
 * The namespace whose httpbin the ingress exposes: `foo` when the stack has it, else the first
 * injected one. The config refuses an ingress without the demo or an injected namespace, by key.
 */
function ingressNamespace(s: Pick<StackSettings, "namespaces" | "demo">): string {
  const ns = s.namespaces.find((n) => n.name === "foo" && n.injection) ?? s.namespaces.find((n) => n.injection);
  if (!s.demo.enabled || !ns) throw new Error("the ingress exposes the demo's httpbin: it needs the demo and a namespace with sidecar injection");
  return ns.name;
}

/** cert-manager (when installed here) and the chain ending in `cacerts` in istiod's namespace. */
function caPhase(s: StackSettings): { items: PlanItem[]; chain?: ReturnType<typeof buildMeshCa> } {
  const items: PlanItem[] = [];
  // The stack owns istiod's namespace only when it installs Istio; cacerts is written into it.
  const istioNamespace = s.istio.install ? object(buildNamespace({ name: s.istio.namespace })) : undefined;
  if (istioNamespace) items.push(istioNamespace);
  let certManager: PlanItem | undefined;
  if (s.certManager.install) {
    const ns = object(buildNamespace({ name: s.certManager.namespace }));
    const release = buildCertManagerRelease(s.certManager);
    // The component always sets a chart repository (pulumi-go-helmbase's InitDefaults), so Helm
    // would look a local chart up in Jetstack's index: a local chart is installed by Helm directly.
    const installer = release.repository !== undefined && isLocalChartFolder(release.repository) ? "helm" : "cert-manager";
    certManager = { id: releaseId(release), release, installer, after: [] };
    items.push(ns, certManager);
  }
  if (s.ca.type !== "cert-manager") return { items };
  const chain = buildMeshCa({
    certManagerNamespace: s.certManager.namespace,
    istioNamespace: s.istio.namespace,
    keyAlgorithm: s.ca.keyAlgorithm,
    keySize: s.ca.keySize,
    rootDuration: s.ca.rootDuration,
    intermediateDuration: s.ca.intermediateDuration,
    intermediateRenewBefore: s.ca.intermediateRenewBefore,
  });
  // Each link waits for the one before: dependents of a Certificate start once it is issued.
  const selfSigned = object(chain.selfSignedIssuer);
  const root = object(waitForReady(chain.rootCertificate), [selfSigned]);
  const rootIssuer = object(chain.rootIssuer, [root]);
  const cacerts = object(waitForReady(chain.intermediateCertificate), [rootIssuer]);
  items.push(selfSigned, root, rootIssuer, cacerts);
  return { items, chain };
}

/** istiod after base and after `cacerts`: started without it, istiod signs with a self-signed CA of its own. */
function istioPhase(s: StackSettings, ca: readonly PlanItem[]): PlanItem[] {
  if (!s.istio.install) return [];
  const { base, istiod } = buildIstioReleases(s.istio);
  const baseItem: PlanItem = { id: releaseId(base), release: base, installer: "helm", after: [] };
  const cacerts = ca.filter((i) => "object" in i && i.object.kind === "Certificate" && i.object.metadata.namespace === s.istio.namespace);
  return [baseItem, { id: releaseId(istiod), release: istiod, installer: "helm", after: [baseItem.id, ...cacerts.map((i) => i.id)] }];
}

function ingressPhase(s: StackSettings, ca: readonly PlanItem[], workloads: readonly PlanItem[]): PlanItem[] {
  const items: PlanItem[] = [];
  if (s.istio.install && s.istio.ingressGateway) {
    const gateway: HelmRelease = {
      name: INGRESS_GATEWAY_RELEASE,
      namespace: s.istio.namespace,
      chart: "gateway",
      version: s.istio.version,
      repository: s.istio.chartRepository,
      values: gatewayChartValues({ revision: s.istio.revision, serviceType: s.ingress.serviceType }),
    };
    items.push({ id: releaseId(gateway), release: gateway, installer: "helm", after: [] });
  }
  if (!s.ingress.enabled) return items;
  const objects = buildIngress({ namespace: ingressNamespace(s), gatewayNamespace: s.istio.namespace, host: s.ingress.host, tls: s.ingress.tls });
  // The gateway serves HTTPS only once its credential Secret exists.
  const rootIssuer = ca.filter((i) => "object" in i && i.object.kind === "ClusterIssuer" && i.object.metadata.name === ROOT_CA_NAME);
  const certificate = objects.certificate ? object(waitForReady(objects.certificate), rootIssuer) : undefined;
  // The Gateway routes to httpbin: after its Deployment, so the route has an endpoint when it appears.
  const httpbin = workloads.filter((i) => i.id === `Deployment ${ingressNamespace(s)}/httpbin`);
  const gateway = object(objects.gateway, [...items, ...(certificate ? [certificate] : []), ...httpbin]);
  return [...items, ...(certificate ? [certificate] : []), gateway, object(objects.virtualService, [gateway])];
}

export function planStack(s: StackSettings): StackPlan {
  const { items: ca, chain } = caPhase(s);
  const probeNamespaces = s.probe.enabled ? [...s.namespaces.map((ns) => ns.name), PLAINTEXT_PROBE_NAMESPACE] : [];
  const namespaces = [
    ...s.namespaces.map((ns) =>
      object(buildNamespace({ name: ns.name, injection: ns.injection, revision: s.istio.revision, ...(ns.exception ? { exception: ns.exception } : {}) })),
    ),
    ...(s.probe.enabled ? [object(buildPlaintextProbeNamespace())] : []),
  ];
  // httpbin and sleep per namespace, accounts and Service before the Deployments that use them.
  const workloads = s.demo.enabled
    ? s.namespaces.flatMap((ns) => {
        const httpbin = buildHttpbin(ns.name);
        const sleep = buildSleep(ns.name);
        const [httpbinAccount, service, sleepAccount] = [object(httpbin.serviceAccount), object(httpbin.service), object(sleep.serviceAccount)];
        return [httpbinAccount, service, object(httpbin.deployment, [httpbinAccount, service]), sleepAccount, object(sleep.deployment, [sleepAccount])];
      })
    : [];
  // The probe clients: workloads like any other (the model predicts their cells), in the workloads
  // phase so they start after istiod injects and before the probe, and go on destroy before it.
  const probeClients = probeNamespaces.flatMap((ns) => {
    const client = buildProbeClient(ns);
    const account = object(client.serviceAccount);
    return [account, object(client.deployment, [account])];
  });
  const policies = [
    ...buildPeerAuthentications(s.mtls, s.istio.mesh.rootNamespace),
    ...buildDestinationRules(s.destinationRules),
    ...buildEndUserAuth(s.endUserAuth),
    ...buildAuthorizationPolicies(s.authorization),
  ].map((o) => object(o));
  const phases: Record<PhaseName, PlanItem[]> = {
    ca,
    istio: istioPhase(s, ca),
    namespaces,
    workloads: [...workloads, ...probeClients],
    policies,
    ingress: ingressPhase(s, ca, workloads),
    intent: [object(buildIntentConfigMap(s.istio.mesh, s.production, s.intent, installedRevision(s.istio)))],
  };
  const seen = new Set<string>();
  for (const item of PHASES.flatMap((name) => phases[name])) {
    // Two items with one id would be one Kubernetes object applied twice.
    if (seen.has(item.id)) throw new Error(`${item.id} is planned twice; allowed: each object once`);
    seen.add(item.id);
  }
  const objectsOf = (items: readonly PlanItem[]) => items.flatMap((i) => ("object" in i ? [i.object] : []));
  return {
    phases: waitsFor(PHASES.map((name) => ({ name, items: phases[name] }))),
    model: [buildMeshConfigMap(s.istio.mesh), ...objectsOf(namespaces), ...objectsOf(workloads), ...objectsOf(probeClients), ...objectsOf(policies)],
    probeClients: [...(s.demo.enabled ? s.namespaces.map((ns) => `sleep.${ns.name}`) : []), ...probeNamespaces.map(probeClientName)],
    ...(s.probe.enabled ? { live: { namespaces: s.namespaces.map((ns) => ns.name), istioNamespace: s.istio.namespace, clients: probeNamespaces.map(probeClientName) } } : {}),
    revisions: [installedRevision(s.istio)],
    ...(chain
      ? {
          intermediateCertificate: { namespace: s.istio.namespace, name: chain.intermediateCertificate.metadata.name },
          rootSecretName: ROOT_CA_NAME,
        }
      : {}),
  };
}

const ISTIO_API = /^[a-z.]+\.istio\.io\//;
const CERT_MANAGER_API = /^cert-manager\.io\//;

/**
 * What each item waits for beyond its own phase's chain, by one rule: its namespace (when the stack
 * creates it), and the webhook that admits it when the stack installs that: istiod's validation
 * for Istio kinds and its sidecar injector for Deployments (a pod created before it serves runs
 * without a sidecar), cert-manager's for its kinds. On destroy the same edges delete it first.
 */
function waitsFor(phases: Phase[]): Phase[] {
  const namespaces = new Map<string, string>();
  let istiod: string | undefined;
  let certManager: string | undefined;
  return phases.map((phase) => ({
    name: phase.name,
    items: phase.items.map((item) => {
      const after = new Set(item.after);
      if ("object" in item) {
        const o = item.object;
        const ns = o.metadata.namespace && namespaces.get(o.metadata.namespace);
        if (ns) after.add(ns);
        if (istiod && (ISTIO_API.test(o.apiVersion) || o.kind === "Deployment")) after.add(istiod);
        if (certManager && CERT_MANAGER_API.test(o.apiVersion)) after.add(certManager);
        if (o.kind === "Namespace") namespaces.set(o.metadata.name, item.id);
      } else {
        const ns = namespaces.get(item.release.namespace);
        if (ns) after.add(ns);
        if (istiod && item.release.chart === "gateway") after.add(istiod);
        if (item.release.chart === "istiod") istiod = item.id;
        if (item.release.chart === CERT_MANAGER_CHART) certManager = item.id;
      }
      return { ...item, after: [...after] };
    }),
  }));
}

// ---- how the plan's items register in Pulumi ---------------------------------------------------

export const HELM_RELEASE_TYPE = "kubernetes:helm.sh/v3:Release";
/** @pulumi/kubernetes-cert-manager's component: one Helm release of Jetstack's chart. */
export const CERT_MANAGER_TYPE = "kubernetes-cert-manager:index:CertManager";

/** The Pulumi type an item registers as: `kubernetes:<group/version>:<Kind>`, the core group as `core/v1`. */
export function resourceType(item: PlanItem): string {
  if ("release" in item) return item.installer === "cert-manager" ? CERT_MANAGER_TYPE : HELM_RELEASE_TYPE;
  const v = item.object.apiVersion;
  return `kubernetes:${v.includes("/") ? v : `core/${v}`}:${item.object.kind}`;
}

/** The Pulumi resource name: `<namespace>/<name>` (unique per type, as Pulumi requires), a release's name. */
export function resourceName(item: PlanItem): string {
  if ("release" in item) return item.installer === "cert-manager" ? CERT_MANAGER_RELEASE : item.release.name;
  const m = item.object.metadata;
  return m.namespace ? `${m.namespace}/${m.name}` : m.name;
}

/**
 * A release item's arguments as its Pulumi resource takes them (components/plan-item.ts), which
 * the pack and `istio-mtls plan` read too: the component's `helmOptions`, or helm.v3.Release's args.
 */
export function releaseArgs(item: Extract<PlanItem, { release: unknown }>): Record<string, unknown> {
  const { name, namespace, chart, version, repository, values } = item.release;
  const source = chartSource(chart, repository);
  if (item.installer === "cert-manager") {
    return { helmOptions: { name, namespace, version, ...(source.repositoryOpts ? { repositoryOpts: source.repositoryOpts } : {}), values } };
  }
  return { name, ...source, version, namespace, values };
}

/** Every item, phase by phase, in an order `pulumi up` can apply them. */
export function planItems(plan: StackPlan): PlanItem[] {
  return plan.phases.flatMap((p) => p.items);
}
