/**
 * Rejected configurations: each message names the key path, the value found and what is allowed.
 * The expected lines are written out in full so any change to a message is a visible decision.
 */
import test from "ava";
import { DEMO_NAMESPACES, rejected } from "./load";

const DNS_LABEL = 'a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters';
const DNS_NAME = "a DNS-1123 name: dot-separated DNS-1123 labels, at most 253 characters";
const HTTPBIN = { app: "httpbin" };
const withNs = (c: Record<string, unknown>) => ({ namespaces: DEMO_NAMESPACES, ...c });
/** An ingress needs the demo (its httpbin) in a namespace with sidecars. */
const withDemo = (c: Record<string, unknown>) => withNs({ demo: { enabled: true }, ...c });
const workload = (w: Record<string, unknown>) => ({ namespace: "foo", name: "httpbin", selector: HTTPBIN, mode: "STRICT", ...w });
const dr = (d: Record<string, unknown>) => ({ namespace: "legacy", name: "httpbin", host: "httpbin.legacy.svc.cluster.local", mode: "DISABLE", ...d });
const jwt = (j: Record<string, unknown>) => ({
  namespace: "foo", name: "jwt", selector: HTTPBIN, issuer: "testing@secure.istio.io", jwksUri: "https://idp.example.com/jwks.json", ...j,
});
const authz = (a: Record<string, unknown>) => ({ namespace: "foo", name: "allow", selector: HTTPBIN, ...a });
const intent = (i: Record<string, unknown>) => ({ from: "sleep.foo", to: "httpbin.bar:8000", expect: "mtls", ...i });

const CASES: [title: string, config: Record<string, unknown>, line: string][] = [
  ["unknown top-level key, with a suggestion", { mtl: { mesh: "STRICT" } },
    'istio-mtls:mtl: "mtl" is not a config key (did you mean "mtls"?); allowed: production, istio, certManager, ca, namespaces, demo, mtls, destinationRules, endUserAuth, authorization, ingress, probe, intent'],
  ["unknown field in a section", { istio: { versoin: "1.28.1" } },
    'istio-mtls:istio.versoin: "versoin" is not a field of istio (did you mean "version"?); allowed: install, version, chartRepository, namespace, revision, mesh, ingressGateway'],
  ["unknown field in a list entry", withNs({ destinationRules: [dr({ tls: "DISABLE" })] }),
    'istio-mtls:destinationRules[0].tls: "tls" is not a field of a destination rule; allowed: namespace, name, host, mode, portLevel, exportTo'],
  ["production not a boolean", { production: "yes" }, 'istio-mtls:production: "yes" is not a boolean; allowed: true or false'],
  ["Istio version read by YAML as a number", { istio: { version: 1.28 } },
    'istio-mtls:istio.version: 1.28 is not an Istio version; allowed: a version such as "1.28.1", or a build such as "1.31-dev" (quote it in YAML)'],
  ["Istio version older than the v1 APIs", { istio: { version: "1.20.3" } },
    'istio-mtls:istio.version: "1.20.3" is older than the security.istio.io/v1 APIs this stack emits; allowed: 1.22.0 or later'],
  ["chart repository over plain http", { istio: { chartRepository: "http://charts.example.com" } },
    'istio-mtls:istio.chartRepository: "http://charts.example.com" is not a chart repository; allowed: an https:// URL, an oci:// registry, or a folder of unpacked charts (an absolute path, or ./ or ../ relative to the project folder)'],
  ["chart folder neither absolute nor ./ relative", { certManager: { chartRepository: "charts" } },
    'istio-mtls:certManager.chartRepository: "charts" is not a chart repository; allowed: an https:// URL, an oci:// registry, or a folder of unpacked charts (an absolute path, or ./ or ../ relative to the project folder)'],
  ["revision not a DNS label", { istio: { revision: "Canary_1" } }, `istio-mtls:istio.revision: "Canary_1" is not a revision name; allowed: ${DNS_LABEL}`],
  ["trust domain with a space", { istio: { mesh: { trustDomain: "cluster local" } } },
    'istio-mtls:istio.mesh.trustDomain: "cluster local" is not a trust domain; allowed: a DNS-1123 name: dot-separated DNS-1123 labels, at most 253 characters'],
  ["cert-manager version without the leading v", { certManager: { version: "1.19.1" } },
    'istio-mtls:certManager.version: "1.19.1" is not a cert-manager version; allowed: a version with a leading "v", such as "v1.19.1"'],
  ["RSA key size with ECDSA", { ca: { keySize: 2048 } }, "istio-mtls:ca.keySize: 2048 is not a key size for ECDSA; allowed: 256, 384"],
  ["ECDSA key size with RSA", { ca: { keyAlgorithm: "RSA", keySize: 384 } }, "istio-mtls:ca.keySize: 384 is not a key size for RSA; allowed: 2048, 3072, 4096"],
  ["unknown key algorithm", { ca: { keyAlgorithm: "ED25519" } }, 'istio-mtls:ca.keyAlgorithm: "ED25519" is not a key algorithm; allowed: ECDSA, RSA'],
  ["duration in years", { ca: { rootDuration: "10y" } },
    'istio-mtls:ca.rootDuration: "10y" is not a duration; allowed: a Go duration such as "87600h", "30m" or "1h30m" (units h, m, s, ms)'],
  ["intermediate as long as the root", { ca: { rootDuration: "8760h", intermediateDuration: "8760h" } },
    'istio-mtls:ca.intermediateDuration: "8760h" is not shorter than ca.rootDuration (8760h); allowed: less than 8760h0m0s'],
  ["renewBefore longer than the intermediate", { ca: { intermediateDuration: "720h", intermediateRenewBefore: "1000h" } },
    'istio-mtls:ca.intermediateRenewBefore: "1000h" is not shorter than ca.intermediateDuration (720h); allowed: less than 720h0m0s'],
  ["intermediate below cert-manager's minimum", { ca: { intermediateDuration: "30m", intermediateRenewBefore: "10m" } },
    "istio-mtls:ca.intermediateDuration: \"30m\" is shorter than cert-manager's minimum; allowed: 1h or longer"],
  ["namespace listed twice", { namespaces: [...DEMO_NAMESPACES, { name: "foo", injection: false }] },
    'istio-mtls:namespaces[3].name: "foo" repeats namespaces[0]; allowed: each namespace once'],
  ["the Istio namespace as an application namespace", { namespaces: [{ name: "istio-system" }] },
    'istio-mtls:namespaces[0].name: "istio-system" is the mesh root namespace, which this list must not manage; allowed: an application namespace the stack creates and deletes'],
  ["kube-system as an application namespace", { namespaces: [{ name: "kube-system" }] },
    'istio-mtls:namespaces[0].name: "kube-system" is a Kubernetes system namespace, which this list must not manage; allowed: an application namespace the stack creates and deletes'],
  ["namespace name with capitals", { namespaces: [{ name: "Foo" }] }, `istio-mtls:namespaces[0].name: "Foo" is not a namespace name; allowed: ${DNS_LABEL}`],
  ["namespaces given as a map", { namespaces: { foo: true } },
    'istio-mtls:namespaces: {"foo":true} is not a list of namespaces; allowed: a YAML list of namespaces'],
  ["demo without namespaces", { demo: { enabled: true } },
    "istio-mtls:demo.enabled: true needs namespaces to deploy httpbin and sleep into; allowed: false, or at least one entry in istio-mtls:namespaces"],
  ["mesh mode misspelt", { mtls: { mesh: "STRICTER" } }, 'istio-mtls:mtls.mesh: "STRICTER" is not an mTLS mode; allowed: UNSET, DISABLE, PERMISSIVE, STRICT'],
  ["namespace policy in the root namespace", withNs({ mtls: { namespaces: { "istio-system": "STRICT" } } }),
    'istio-mtls:mtls.namespaces.istio-system: "istio-system" is the mesh root namespace; allowed: mtls.mesh for the mesh-wide mode; here, a managed namespace'],
  ["namespace policy for a namespace the stack does not manage", withNs({ mtls: { namespaces: { qux: "STRICT" } } }),
    'istio-mtls:mtls.namespaces.qux: "qux" is not a namespace this stack manages; allowed: a namespace in istio-mtls:namespaces: foo, bar, legacy'],
  ["an exception expiring on a day the calendar lacks (the policy pack would refuse it)",
    withNs({ mtls: { workloads: [workload({ mode: "PERMISSIVE", exception: { reason: "migration", expires: "2027-02-30" } })] } }),
    'istio-mtls:mtls.workloads[0].exception.expires: "2027-02-30" is not a date; allowed: YYYY-MM-DD, the last day the exception is allowed'],
  ["port-level mTLS on a port out of range", withNs({ mtls: { workloads: [workload({ portLevelMtls: { "80800": "STRICT" } })] } }),
    "istio-mtls:mtls.workloads[0].portLevelMtls.80800: 80800 is not a port; allowed: 1..65535"],
  ["port-level mTLS keyed by a name", withNs({ mtls: { workloads: [workload({ portLevelMtls: { http: "STRICT" } })] } }),
    'istio-mtls:mtls.workloads[0].portLevelMtls.http: "http" is not a port; allowed: 1..65535'],
  ["empty port-level mTLS", withNs({ mtls: { workloads: [workload({ portLevelMtls: {} })] } }),
    "istio-mtls:mtls.workloads[0].portLevelMtls: {} is empty; allowed: at least one port entry (omit portLevelMtls for none)"],
  ["workload policy with an empty selector", withNs({ mtls: { workloads: [workload({ selector: {} })] } }),
    "istio-mtls:mtls.workloads[0].selector: {} is empty (that is a namespace policy: use mtls.namespaces); allowed: at least one label, e.g. {app: httpbin}"],
  ["workload policy without a name", withNs({ mtls: { workloads: [{ namespace: "foo", selector: HTTPBIN }] } }),
    `istio-mtls:mtls.workloads[0].name: missing; allowed: ${DNS_NAME}`],
  ["workload policy in the root namespace", withNs({ mtls: { workloads: [workload({ namespace: "istio-system" })] } }),
    'istio-mtls:mtls.workloads[0].namespace: "istio-system" is the mesh root namespace, where Istio ignores workload policies; allowed: a namespace in istio-mtls:namespaces: foo, bar, legacy'],
  ["two workload policies with one name", withNs({ mtls: { workloads: [workload({}), workload({ selector: { app: "sleep" } })] } }),
    'istio-mtls:mtls.workloads[1].name: "httpbin" repeats the workload policy name of mtls.workloads[0] in namespace foo; allowed: a name no other workload policy in foo uses'],
  ["two workload policies with one selector", withNs({ mtls: { workloads: [workload({}), workload({ name: "httpbin-ports" })] } }),
    'istio-mtls:mtls.workloads[1].selector: {"app":"httpbin"} selects the same workloads as mtls.workloads[0]; allowed: one workload policy per selector in a namespace (merge their ports)'],
  ["selector label key with two slashes", withNs({ mtls: { workloads: [workload({ selector: { "a/b/c": "x" } })] } }),
    'istio-mtls:mtls.workloads[0].selector["a/b/c"]: "a/b/c" is not a label key; allowed: a label key: optional DNS-name prefix and "/", then at most 63 letters, digits, "-", "_" or "." starting and ending with a letter or digit'],
  ["DestinationRule host with a scheme", withNs({ destinationRules: [dr({ host: "http://httpbin.foo" })] }),
    'istio-mtls:destinationRules[0].host: "http://httpbin.foo" is not a host; allowed: a service host: FQDN ("httpbin.foo.svc.cluster.local"), short name ("httpbin") or leading wildcard ("*.local", "*"); no scheme, no port'],
  ["DestinationRule host with an inner wildcard", withNs({ destinationRules: [dr({ host: "httpbin.*.svc.cluster.local" })] }),
    'istio-mtls:destinationRules[0].host: "httpbin.*.svc.cluster.local" is not a host; allowed: a service host: FQDN ("httpbin.foo.svc.cluster.local"), short name ("httpbin") or leading wildcard ("*.local", "*"); no scheme, no port'],
  ["client TLS mode misspelt", withNs({ destinationRules: [dr({ mode: "ISTIO_MTLS" })] }),
    'istio-mtls:destinationRules[0].mode: "ISTIO_MTLS" is not a client TLS mode; allowed: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL'],
  ["exportTo with a capitalised namespace", withNs({ destinationRules: [dr({ exportTo: [".", "Foo"] })] }),
    `istio-mtls:destinationRules[0].exportTo[1]: "Foo" is not an exportTo entry; allowed: ".", "*" or a namespace name (${DNS_LABEL})`],
  ["DestinationRule that sets no TLS", withNs({ destinationRules: [dr({ mode: undefined })] }),
    'istio-mtls:destinationRules[0]: {"host":"httpbin.legacy.svc.cluster.local"} sets no TLS mode; allowed: mode, or a portLevel entry with a mode'],
  ["DestinationRule port 0", withNs({ destinationRules: [dr({ portLevel: [{ port: 0, mode: "DISABLE" }] })] }),
    "istio-mtls:destinationRules[0].portLevel[0].port: 0 is not a port; allowed: 1..65535"],
  ["DestinationRule port listed twice", withNs({ destinationRules: [dr({ portLevel: [{ port: 8000 }, { port: "8000", mode: "DISABLE" }] })] }),
    "istio-mtls:destinationRules[0].portLevel[1].port: 8000 repeats portLevel[0]; allowed: each Service port once"],
  ["DestinationRule in an unmanaged namespace", withNs({ destinationRules: [dr({ namespace: "default" })] }),
    'istio-mtls:destinationRules[0].namespace: "default" is not a namespace this stack manages; allowed: a namespace in istio-mtls:namespaces: foo, bar, legacy, istio-system (mesh root namespace)'],
  ["JWKS over http", withNs({ endUserAuth: [jwt({ jwksUri: "http://idp.example.com/jwks.json" })] }),
    'istio-mtls:endUserAuth[0].jwksUri: "http://idp.example.com/jwks.json" is not a JWKS URI; allowed: an https:// URL'],
  ["empty issuer", withNs({ endUserAuth: [jwt({ issuer: " " })] }),
    'istio-mtls:endUserAuth[0].issuer: " " is not an issuer; allowed: the token issuer ("iss" claim), non-empty'],
  ["path without a leading slash", withNs({ endUserAuth: [jwt({ paths: ["headers"] })] }),
    'istio-mtls:endUserAuth[0].paths[0]: "headers" is not a path; allowed: a path starting with "/", or a "*" prefix/suffix match'],
  ["authorization without a source", withNs({ authorization: [authz({})] }),
    'istio-mtls:authorization[0]: {"name":"allow"} names no source; allowed: principals, namespaces, or both (non-empty)'],
  ["principal written as a SPIFFE URI", withNs({ authorization: [authz({ principals: ["spiffe://cluster.local/ns/bar/sa/sleep"] })] }),
    'istio-mtls:authorization[0].principals[0]: "spiffe://cluster.local/ns/bar/sa/sleep" is not a principal; allowed: an Istio principal "<trustDomain>/ns/<namespace>/sa/<serviceAccount>" (no "spiffe://"), "*", or one with a leading or trailing "*"'],
  ["principal from another trust domain", withNs({ authorization: [authz({ principals: ["example.org/ns/bar/sa/sleep"] })] }),
    'istio-mtls:authorization[0].principals[0]: "example.org/ns/bar/sa/sleep" has trust domain example.org, not the mesh\'s; allowed: cluster.local/ns/<namespace>/sa/<serviceAccount> (istio.mesh.trustDomain) or "*"'],
  ["ingress with the gateway switched off", withDemo({ ingress: { enabled: true }, istio: { ingressGateway: false } }),
    "istio-mtls:istio.ingressGateway: false leaves ingress.enabled without a gateway to serve it; allowed: true or unset while ingress.enabled is true and istio.install is true"],
  ["ingress TLS without a cert-manager CA", withDemo({ ingress: { enabled: true, tls: true, host: "httpbin.example.com" }, ca: { type: "istiod" } }),
    'istio-mtls:ingress.tls: true needs a cert-manager issuer but ca.type is "istiod"; allowed: false, or ca.type: "cert-manager"'],
  ["DestinationRule whose port entries set no mode", withNs({ destinationRules: [dr({ mode: undefined, portLevel: [{ port: 8000 }] })] }),
    'istio-mtls:destinationRules[0]: {"host":"httpbin.legacy.svc.cluster.local"} sets no TLS mode; allowed: mode, or a portLevel entry with a mode'],
  ["end-user auth with an empty selector", withNs({ endUserAuth: [jwt({ selector: {} })] }),
    "istio-mtls:endUserAuth[0].selector: {} is empty (the policy must name the workloads that verify tokens); allowed: at least one label, e.g. {app: httpbin}"],
  ["authorization with an empty selector", withNs({ authorization: [authz({ selector: {}, namespaces: ["bar"] })] }),
    "istio-mtls:authorization[0].selector: {} is empty (that would lock down every workload of the namespace); allowed: at least one label, e.g. {app: httpbin}"],
  ["workload policy named like the namespace policy", withNs({ mtls: { namespaces: { foo: "STRICT" }, workloads: [workload({ name: "default" })] } }),
    'istio-mtls:mtls.workloads[0].name: "default" is the name of the namespace policy of foo (mtls.namespaces.foo); allowed: a name other than "default"'],
  ["an end-user auth name whose token requirement policy would exceed Kubernetes' 253 characters", withNs({ endUserAuth: [jwt({ name: `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}` })] }),
    `istio-mtls:endUserAuth[0].name: "${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}" makes the token requirement policy name 255 characters long; allowed: a name of at most 241 characters (AuthorizationPolicy "<name>-require-jwt": at most 253)`],
  ["authorization named like an end-user auth token policy", withNs({ endUserAuth: [jwt({})], authorization: [authz({ name: "jwt-require-jwt", namespaces: ["bar"] })] }),
    'istio-mtls:authorization[0].name: "jwt-require-jwt" is the AuthorizationPolicy that endUserAuth[0] creates to require its token; allowed: a name not ending in "-require-jwt" for an end-user auth policy of foo'],
  ["ingress TLS for a wildcard host", withDemo({ ingress: { enabled: true, tls: true } }),
    'istio-mtls:ingress.host: "*" is a wildcard while ingress.tls is true; allowed: a DNS name without "*", which the serving certificate names'],
  ["ingress without the demo it exposes", { ingress: { enabled: true } },
    "istio-mtls:ingress.enabled: true exposes the demo's httpbin, but demo.enabled is false; allowed: demo.enabled: true, or ingress.enabled: false"],
  ["ingress without a namespace with sidecars", { namespaces: [{ name: "legacy", injection: false }], demo: { enabled: true }, ingress: { enabled: true } },
    "istio-mtls:ingress.enabled: true needs a namespace with injection: true for the exposed httpbin; none has it; allowed: a namespace with injection: true in istio-mtls:namespaces, or ingress.enabled: false"],
  ["end-user auth requires no token but names paths", withNs({ endUserAuth: [jwt({ requireToken: "false", paths: ["/headers"] })] }),
    'istio-mtls:endUserAuth[0].paths: ["/headers"] has no effect while requireToken is false; allowed: omit paths, or requireToken: true'],
  ["gateway Service type misspelt", { ingress: { enabled: true, serviceType: "Loadbalancer" } },
    'istio-mtls:ingress.serviceType: "Loadbalancer" is not a gateway Service type; allowed: LoadBalancer, NodePort, ClusterIP'],
  ["gateway Service type that the chart cannot serve", { ingress: { enabled: true, serviceType: "ExternalName" } },
    'istio-mtls:ingress.serviceType: "ExternalName" is not a gateway Service type; allowed: LoadBalancer, NodePort, ClusterIP'],
  ["gateway Service type without a gateway", { ingress: { serviceType: "NodePort" } },
    'istio-mtls:ingress.serviceType: "NodePort" has no effect: this stack installs no ingress gateway; allowed: LoadBalancer (the default), or ingress.enabled: true with istio.install: true'],
  ["negative request timeout given as a string", { probe: { requestTimeoutSeconds: "-1" } },
    "istio-mtls:probe.requestTimeoutSeconds: -1 is not a number of seconds; allowed: an integer from 1 to 300"],
  ["fractional concurrency", { probe: { concurrency: 1.5 } }, "istio-mtls:probe.concurrency: 1.5 is not a concurrency; allowed: an integer from 1 to 100"],
  ["a deadline longer than the probe takes", { probe: { deadlineSeconds: 7200 } },
    "istio-mtls:probe.deadlineSeconds: 7200 is not a number of seconds; allowed: an integer from 1 to 3600"],
  ["a concurrency larger than the probe takes", { probe: { concurrency: 200 } }, "istio-mtls:probe.concurrency: 200 is not a concurrency; allowed: an integer from 1 to 100"],
  ["a request timeout longer than the probe takes", { probe: { requestTimeoutSeconds: 301 } },
    "istio-mtls:probe.requestTimeoutSeconds: 301 is not a number of seconds; allowed: an integer from 1 to 300"],
  ["deadline shorter than one request", { probe: { requestTimeoutSeconds: 10, deadlineSeconds: 5 } },
    "istio-mtls:probe.deadlineSeconds: 5 is shorter than one request (probe.requestTimeoutSeconds 10); allowed: 10 or more"],
  ["intent client without a namespace", withNs({ intent: [intent({ from: "sleep" })] }),
    'istio-mtls:intent[0].from: "sleep" is not a client; allowed: "<workload>.<namespace>", e.g. "sleep.foo"'],
  ["intent target without a port", withNs({ intent: [intent({ to: "httpbin.bar" })] }),
    'istio-mtls:intent[0].to: "httpbin.bar" is not a target; allowed: "<service>.<namespace>:<port>", e.g. "httpbin.bar:8000"'],
  ["intent expectation unknown", withNs({ intent: [intent({ expect: "ok" })] }),
    'istio-mtls:intent[0].expect: "ok" is not an expectation; allowed: mtls, allowed, refused'],
  ["intent on a namespace the stack does not manage", withNs({ intent: [intent({ to: "httpbin.qux:8000" })] }),
    'istio-mtls:intent[0].to: "httpbin.qux:8000" is in namespace qux, which this stack does not manage; allowed: a namespace in istio-mtls:namespaces: foo, bar, legacy'],
  ["the same intent twice", withNs({ intent: [intent({}), intent({ expect: "refused" })] }),
    'istio-mtls:intent[1]: "sleep.foo httpbin.bar:8000" repeats intent[0]; allowed: one expectation per client and target'],
];

for (const [title, config, line] of CASES) {
  test(`rejects: ${title}`, (t) => {
    const lines = rejected(t, config);
    t.deepEqual(lines, [line]);
  });
}

test("there are at least 25 rejected configurations, each a different mistake", (t) => {
  t.true(CASES.length >= 25);
  t.is(new Set(CASES.map(([title]) => title)).size, CASES.length);
  // Each message has the three parts: the key, the value found (or "missing"), what is allowed.
  for (const [, , line] of CASES) t.regex(line, /^istio-mtls:[A-Za-z][^:]*: .+; allowed: .+$/);
});
