/**
 * Checks across fields and keys, run on the keys whose own schema passed (a key with syntax
 * errors is left out here, so its mistakes are not reported twice). Each rule says why Istio,
 * cert-manager or the stack's ownership of its namespaces needs it.
 */
import { requireTokenPolicyName } from "../mesh/builders/end-user-auth";
import { buildWorkloadPeerAuthentication } from "../mesh/builders/peer-authentication";
import { peerAuthenticationScope, peerAuthenticationSpecProblems } from "../mesh/peer-authentication-rules";
import type { WorkloadPeerAuthentication } from "../mesh/settings";
import { DEFAULT_GATEWAY_SERVICE_TYPE } from "../mesh/settings";
import { parseIntentFrom, parseIntentTo } from "../mesh/builders/intent";
import { KEY_SIZES } from "../mesh/builders/mesh-ca";
import { PLAINTEXT_PROBE_NAMESPACE } from "../mesh/probe-clients";
import { issue, type ConfigIssue } from "./errors";
import type { Sections } from "./schema";
import { formatGoDuration, isDnsName, parseGoDuration, parsePrincipal } from "./values";

/** cert-manager refuses certificates shorter than 1h and renewBefore under 5m. */
const MIN_CERT_DURATION_MS = 3_600_000;
const MIN_RENEW_BEFORE_MS = 300_000;

/** The namespace-level PeerAuthentication's name (mesh/builders/peer-authentication.ts). */
const NAMESPACE_POLICY_NAME = "default";
/** The suffix of the AuthorizationPolicy that enforces an end-user auth token (mesh/builders/end-user-auth.ts). */

/** Namespaces the stack must never create or delete. */
const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export type ParsedSections = Partial<Sections>;

export function rootNamespaceOf(s: ParsedSections): string | undefined {
  return s.istio ? (s.istio.mesh.rootNamespace ?? s.istio.namespace) : undefined;
}

export function checkRules(s: ParsedSections): ConfigIssue[] {
  return [
    ...checkCa(s),
    ...checkNamespaces(s),
    ...checkIngress(s),
    ...checkMtls(s),
    ...checkDestinationRules(s),
    ...checkEndUserAuth(s),
    ...checkAuthorization(s),
    ...checkIntent(s),
    ...checkProbe(s),
  ];
}

function checkCa({ ca }: ParsedSections): ConfigIssue[] {
  if (!ca) return [];
  const out: ConfigIssue[] = [];
  const sizes = KEY_SIZES[ca.keyAlgorithm];
  if (ca.keySize !== undefined && !sizes.includes(ca.keySize)) {
    out.push(issue(["ca", "keySize"], ca.keySize, `is not a key size for ${ca.keyAlgorithm}`, sizes.join(", ")));
  }
  const root = parseGoDuration(ca.rootDuration)!;
  const intermediate = parseGoDuration(ca.intermediateDuration)!;
  const renew = parseGoDuration(ca.intermediateRenewBefore)!;
  if (root < MIN_CERT_DURATION_MS) {
    out.push(issue(["ca", "rootDuration"], ca.rootDuration, "is shorter than cert-manager's minimum", "1h or longer"));
  }
  if (intermediate < MIN_CERT_DURATION_MS) {
    out.push(issue(["ca", "intermediateDuration"], ca.intermediateDuration, "is shorter than cert-manager's minimum", "1h or longer"));
  } else if (intermediate >= root) {
    // The intermediate would outlive the root that signed it; workloads would stop validating.
    out.push(
      issue(["ca", "intermediateDuration"], ca.intermediateDuration, `is not shorter than ca.rootDuration (${ca.rootDuration})`,
        `less than ${formatGoDuration(root)}`),
    );
  }
  if (renew < MIN_RENEW_BEFORE_MS) {
    out.push(issue(["ca", "intermediateRenewBefore"], ca.intermediateRenewBefore, "is shorter than cert-manager's minimum", "5m or longer"));
  } else if (renew >= intermediate) {
    out.push(
      issue(["ca", "intermediateRenewBefore"], ca.intermediateRenewBefore,
        `is not shorter than ca.intermediateDuration (${ca.intermediateDuration})`, `less than ${formatGoDuration(intermediate)}`),
    );
  }
  return out;
}

function checkNamespaces(s: ParsedSections): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const { namespaces, demo } = s;
  if (namespaces) {
    const reserved = new Map<string, string>(SYSTEM_NAMESPACES.map((n) => [n, "a Kubernetes system namespace"]));
    if (s.istio) {
      reserved.set(s.istio.namespace, "istio.namespace");
      reserved.set(rootNamespaceOf(s)!, "the mesh root namespace");
    }
    if (s.certManager) reserved.set(s.certManager.namespace, "certManager.namespace");
    // The stack creates the plaintext probe client's namespace itself, without injection.
    if (s.probe?.enabled) reserved.set(PLAINTEXT_PROBE_NAMESPACE, "the plaintext probe client's namespace (probe.enabled creates it)");
    const seen = new Map<string, number>();
    namespaces.forEach((ns, i) => {
      const first = seen.get(ns.name);
      if (first !== undefined) {
        out.push(issue(["namespaces", i, "name"], ns.name, `repeats namespaces[${first}]`, "each namespace once"));
      } else {
        seen.set(ns.name, i);
      }
      if (ns.exception && ns.injection) {
        // The exception approves sidecar-less (plaintext) workloads; with injection there are none to approve.
        out.push(issue(["namespaces", i, "exception"], ns.exception, "has no effect while injection is true", "omit exception, or injection: false"));
      }
      const owner = reserved.get(ns.name);
      if (owner) {
        out.push(issue(["namespaces", i, "name"], ns.name, `is ${owner}, which this list must not manage`,
          "an application namespace the stack creates and deletes"));
      }
    });
  }
  if (demo?.enabled && namespaces && namespaces.length === 0) {
    out.push(issue(["demo", "enabled"], true, "needs namespaces to deploy httpbin and sleep into", "false, or at least one entry in istio-mtls:namespaces"));
  }
  return out;
}

function checkIngress({ ingress, istio, ca, demo, namespaces }: ParsedSections): ConfigIssue[] {
  if (!ingress) return [];
  const out: ConfigIssue[] = [];
  // The ingress exposes the demo's httpbin in a namespace with sidecars (foo when listed).
  if (ingress.enabled && demo && !demo.enabled) {
    out.push(issue(["ingress", "enabled"], true, "exposes the demo's httpbin, but demo.enabled is false", "demo.enabled: true, or ingress.enabled: false"));
  } else if (ingress.enabled && namespaces && !namespaces.some((n) => n.injection)) {
    out.push(issue(["ingress", "enabled"], true, "needs a namespace with injection: true for the exposed httpbin; none has it",
      "a namespace with injection: true in istio-mtls:namespaces, or ingress.enabled: false"));
  }
  // istio.ingressGateway left unset follows ingress.enabled; an explicit false contradicts it.
  if (ingress.enabled && istio?.install && istio.ingressGateway === false) {
    out.push(issue(["istio", "ingressGateway"], false, "leaves ingress.enabled without a gateway to serve it",
      "true or unset while ingress.enabled is true and istio.install is true"));
  }
  if (ingress.tls && !ingress.enabled) {
    out.push(issue(["ingress", "tls"], true, "has no effect while ingress.enabled is false", "false, or ingress.enabled: true"));
  }
  if (ingress.tls && ingress.host.includes("*")) {
    // The serving certificate names the host; the gateway cannot serve a wildcard from one.
    out.push(issue(["ingress", "host"], ingress.host, "is a wildcard while ingress.tls is true", "a DNS name without \"*\", which the serving certificate names"));
  }
  // Only a gateway the stack installs gets the Service type; anywhere else the setting is silently ignored.
  const installsGateway = istio?.install && (istio.ingressGateway ?? ingress.enabled);
  if (istio && !installsGateway && ingress.serviceType !== DEFAULT_GATEWAY_SERVICE_TYPE) {
    out.push(issue(["ingress", "serviceType"], ingress.serviceType, "has no effect: this stack installs no ingress gateway",
      `${DEFAULT_GATEWAY_SERVICE_TYPE} (the default), or ingress.enabled: true with istio.install: true`));
  }
  if (ingress.tls && ca && ca.type !== "cert-manager") {
    out.push(issue(["ingress", "tls"], true, `needs a cert-manager issuer but ca.type is "${ca.type}"`, 'false, or ca.type: "cert-manager"'));
  }
  return out;
}

/** The namespaces the stack owns: only in those can it create and later delete policy objects. */
function managedNamespaces(s: ParsedSections): Set<string> | undefined {
  return s.namespaces ? new Set(s.namespaces.map((n) => n.name)) : undefined;
}

function managedAllowed(s: ParsedSections, withRoot: boolean): string {
  const names = s.namespaces?.map((n) => n.name) ?? [];
  const root = withRoot ? rootNamespaceOf(s) : undefined;
  const all = root ? [...names, `${root} (mesh root namespace)`] : names;
  return all.length ? `a namespace in istio-mtls:namespaces: ${all.join(", ")}` : "a namespace listed in istio-mtls:namespaces (none are)";
}

/** Is `ns` managed (or, with `withRoot`, the root namespace)? Unknown when `namespaces` failed its schema. */
function checkNamespaceRef(
  s: ParsedSections,
  path: (string | number)[],
  ns: string,
  withRoot: boolean,
): ConfigIssue[] {
  const managed = managedNamespaces(s);
  if (!managed || managed.has(ns)) return [];
  if (withRoot && ns === rootNamespaceOf(s)) return [];
  return [issue(path, ns, "is not a namespace this stack manages", managedAllowed(s, withRoot))];
}

function checkMtls(s: ParsedSections): ConfigIssue[] {
  const { mtls } = s;
  if (!mtls) return [];
  const out: ConfigIssue[] = [];
  const root = rootNamespaceOf(s);
  for (const ns of Object.keys(mtls.namespaces)) {
    if (root !== undefined && peerAuthenticationScope(ns, false, root) === "mesh") {
      // A selector-less PeerAuthentication in the root namespace is the mesh policy.
      out.push(issue(["mtls", "namespaces", ns], ns, "is the mesh root namespace", "mtls.mesh for the mesh-wide mode; here, a managed namespace"));
    } else {
      out.push(...checkNamespaceRef(s, ["mtls", "namespaces", ns], ns, false));
    }
  }
  const names = new Map<string, number>();
  const selectors = new Map<string, number>();
  mtls.workloads.forEach((w, i) => {
    out.push(...workloadShapeIssues(w, i));
    if (root !== undefined && peerAuthenticationScope(w.namespace, true, root) === undefined) {
      // Istio ignores PeerAuthentications with a selector in the root namespace (sidecar mode).
      out.push(issue(["mtls", "workloads", i, "namespace"], w.namespace, "is the mesh root namespace, where Istio ignores workload policies",
        managedAllowed(s, false)));
    } else {
      out.push(...checkNamespaceRef(s, ["mtls", "workloads", i, "namespace"], w.namespace, false));
    }
    out.push(...duplicateName(names, ["mtls", "workloads"], i, w.namespace, w.name, "workload policy"));
    if (w.name === NAMESPACE_POLICY_NAME && w.namespace in mtls.namespaces) {
      out.push(issue(["mtls", "workloads", i, "name"], w.name, `is the name of the namespace policy of ${w.namespace} (mtls.namespaces.${w.namespace})`,
        `a name other than "${NAMESPACE_POLICY_NAME}"`));
    }
    // Two policies selecting the same workload: Istio picks the oldest whole, the other is dead config.
    const selKey = `${w.namespace}/${JSON.stringify(Object.entries(w.selector).sort())}`;
    const first = selectors.get(selKey);
    if (first !== undefined) {
      out.push(issue(["mtls", "workloads", i, "selector"], w.selector, `selects the same workloads as mtls.workloads[${first}]`,
        "one workload policy per selector in a namespace (merge their ports)"));
    } else {
      selectors.set(selKey, i);
    }
  });
  return out;
}

/**
 * Istio's shape rule over the PeerAuthentication the builder makes of workload policy `i`, its
 * paths (spec.portLevelMtls.<port>) turned into the config's (mtls.workloads[i].portLevelMtls.<port>).
 */
function workloadShapeIssues(w: Sections["mtls"]["workloads"][number], i: number): ConfigIssue[] {
  const spec = buildWorkloadPeerAuthentication(w as WorkloadPeerAuthentication).spec as Record<string, unknown>;
  return peerAuthenticationSpecProblems(spec).map(({ path, problem, allowed }) => {
    const field = path[1] === "selector" ? "selector" : "portLevelMtls";
    const port = path[2];
    const at = ["mtls", "workloads", i, field];
    if (port === undefined) return issue(at, w[field], problem, allowed);
    return issue([...at, port], /^\d+$/.test(String(port)) ? Number(port) : port, problem, allowed);
  });
}

function duplicateName(
  seen: Map<string, number>,
  prefix: (string | number)[],
  i: number,
  namespace: string,
  name: string,
  noun: string,
): ConfigIssue[] {
  const key = `${namespace}/${name}`;
  const first = seen.get(key);
  if (first === undefined) {
    seen.set(key, i);
    return [];
  }
  const at = `${prefix.join(".")}[${first}]`;
  return [issue([...prefix, i, "name"], name, `repeats the ${noun} name of ${at} in namespace ${namespace}`, `a name no other ${noun} in ${namespace} uses`)];
}

function checkDestinationRules(s: ParsedSections): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const names = new Map<string, number>();
  s.destinationRules?.forEach((dr, i) => {
    out.push(...checkNamespaceRef(s, ["destinationRules", i, "namespace"], dr.namespace, true));
    out.push(...duplicateName(names, ["destinationRules"], i, dr.namespace, dr.name, "destination rule"));
    if (dr.mode === undefined && (dr.portLevel ?? []).every((p) => p.mode === undefined)) {
      // Without a TLS mode the rule changes nothing that auto mTLS decides.
      out.push(issue(["destinationRules", i], { host: dr.host }, "sets no TLS mode", "mode, or a portLevel entry with a mode"));
    }
    const ports = new Map<number, number>();
    dr.portLevel?.forEach((p, j) => {
      const first = ports.get(p.port);
      if (first !== undefined) {
        out.push(issue(["destinationRules", i, "portLevel", j, "port"], p.port, `repeats portLevel[${first}]`, "each Service port once"));
      } else {
        ports.set(p.port, j);
      }
    });
  });
  return out;
}

function checkEndUserAuth(s: ParsedSections): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const names = new Map<string, number>();
  s.endUserAuth?.forEach((p, i) => {
    out.push(...checkNamespaceRef(s, ["endUserAuth", i, "namespace"], p.namespace, true));
    out.push(...duplicateName(names, ["endUserAuth"], i, p.namespace, p.name, "end-user auth policy"));
    if (p.paths && p.paths.length > 0 && !p.requireToken) {
      out.push(issue(["endUserAuth", i, "paths"], p.paths, "has no effect while requireToken is false", "omit paths, or requireToken: true"));
    }
    // The stack also creates an AuthorizationPolicy named after this one; Kubernetes caps names at 253.
    const derived = requireTokenPolicyName(p.name);
    if (p.requireToken && isDnsName(p.name) && !isDnsName(derived)) {
      out.push(issue(["endUserAuth", i, "name"], p.name, `makes the token requirement policy name ${derived.length} characters long`,
        `a name of at most ${253 - (derived.length - p.name.length)} characters (AuthorizationPolicy ${JSON.stringify(requireTokenPolicyName("<name>"))}: at most 253)`));
    }
  });
  return out;
}

function checkAuthorization(s: ParsedSections): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const trustDomain = s.istio?.mesh.trustDomain;
  s.authorization?.forEach((p, i) => {
    out.push(...checkNamespaceRef(s, ["authorization", i, "namespace"], p.namespace, true));
    out.push(...duplicateName(names, ["authorization"], i, p.namespace, p.name, "authorization policy"));
    const j = (s.endUserAuth ?? []).findIndex((e) => e.requireToken && e.namespace === p.namespace && requireTokenPolicyName(e.name) === p.name);
    if (j >= 0) {
      out.push(issue(["authorization", i, "name"], p.name, `is the AuthorizationPolicy that endUserAuth[${j}] creates to require its token`,
        `a name not ending in "${requireTokenPolicyName("")}" for an end-user auth policy of ${p.namespace}`));
    }
    if (!p.principals?.length && !p.namespaces?.length) {
      // An ALLOW policy whose rule has no source would allow everyone; one without rules, no one.
      out.push(issue(["authorization", i], { name: p.name }, "names no source", "principals, namespaces, or both (non-empty)"));
    }
    p.principals?.forEach((pr, j) => {
      const parsed = parsePrincipal(pr);
      if (parsed && trustDomain && parsed.trustDomain !== trustDomain) {
        // Without trust-domain aliases (not configured here) such a principal never matches.
        out.push(issue(["authorization", i, "principals", j], pr, `has trust domain ${parsed.trustDomain}, not the mesh's`,
          `${trustDomain}/ns/<namespace>/sa/<serviceAccount> (istio.mesh.trustDomain) or "*"`));
      }
    });
  });
  return out;
}

function checkIntent(s: ParsedSections): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const seen = new Map<string, number>();
  s.intent?.forEach((it, i) => {
    const from = parseIntentFrom(it.from)!;
    const to = parseIntentTo(it.to)!;
    // The plaintext probe client sends from the stack's own namespace: an expectation about it is about the mesh.
    const plaintextProbe = s.probe?.enabled && from.namespace === PLAINTEXT_PROBE_NAMESPACE;
    if (!plaintextProbe) {
      out.push(...checkNamespaceRef(s, ["intent", i, "from"], from.namespace, false).map((x) => ({ ...x, found: `${JSON.stringify(it.from)} is in namespace ${from.namespace}, which this stack does not manage` })));
    }
    out.push(...checkNamespaceRef(s, ["intent", i, "to"], to.namespace, false).map((x) => ({ ...x, found: `${JSON.stringify(it.to)} is in namespace ${to.namespace}, which this stack does not manage` })));
    const key = `${it.from} ${it.to}`;
    const first = seen.get(key);
    if (first !== undefined) {
      out.push(issue(["intent", i], key, `repeats intent[${first}]`, "one expectation per client and target"));
    } else {
      seen.set(key, i);
    }
  });
  return out;
}

function checkProbe(s: ParsedSections): ConfigIssue[] {
  const { probe } = s;
  if (!probe) return [];
  const out: ConfigIssue[] = [];
  if (probe.deadlineSeconds < probe.requestTimeoutSeconds) {
    out.push(issue(["probe", "deadlineSeconds"], probe.deadlineSeconds, `is shorter than one request (probe.requestTimeoutSeconds ${probe.requestTimeoutSeconds})`,
      `${probe.requestTimeoutSeconds} or more`));
  }
  if (probe.enabled) {
    // The plaintext client's namespace must stay without sidecars and be the stack's alone.
    const taken: [(string | number)[], string | undefined][] = [
      [["istio", "namespace"], s.istio?.namespace],
      [["istio", "mesh", "rootNamespace"], s.istio?.mesh.rootNamespace],
      [["certManager", "namespace"], s.certManager?.namespace],
    ];
    for (const [path, ns] of taken) {
      if (ns === PLAINTEXT_PROBE_NAMESPACE) {
        out.push(issue(path, ns, "is the plaintext probe client's namespace, which probe.enabled creates without sidecar injection",
          `another namespace, or probe.enabled: false`));
      }
    }
  }
  return out;
}
