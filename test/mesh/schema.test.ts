import test from "ava";
import { join } from "node:path";
import { validateObject, validateSourceObjects } from "../../mesh/schema";
import { fieldPath } from "../../mesh/shape-problem";
import type { KubeObject } from "../../mesh/types";
import { readYamlPaths, readYamlText } from "../../mesh/yaml";

const FIXTURES = join(__dirname, "..", "fixtures", "yaml");

function obj(apiVersion: string, kind: string, spec: unknown, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name: "x", namespace: "foo" }, spec, ...extra };
}

const PA = (spec: unknown) => obj("security.istio.io/v1", "PeerAuthentication", spec);
const DR = (spec: unknown) => obj("networking.istio.io/v1", "DestinationRule", spec);
const AP = (spec: unknown) => obj("security.istio.io/v1", "AuthorizationPolicy", spec);
const RA = (spec: unknown) => obj("security.istio.io/v1", "RequestAuthentication", spec);

const messages = (o: KubeObject): string[] => validateObject(o).map((i) => i.message);

test("an unknown field in a PeerAuthentication spec: file:line:col of the key and the field path", (t) => {
  const file = join(FIXTURES, "unknown-field.yaml");
  const errors = validateSourceObjects(readYamlPaths([file]));
  t.deepEqual(
    errors.map((e) => e.message),
    [`${file}:8:5: PeerAuthentication foo/default: unknown field "spec.mtls.mod" (allowed in spec.mtls: mode)`],
  );
});

test("an invalid mode: the value found and the allowed values", (t) => {
  const file = join(FIXTURES, "bad-enum.yaml");
  t.deepEqual(
    validateSourceObjects(readYamlPaths([file])).map((e) => e.message),
    [`${file}:8:11: PeerAuthentication istio-system/default: spec.mtls.mode: "strict" is not one of UNSET, DISABLE, PERMISSIVE, STRICT`],
  );
});

test("valid specs of the four kinds pass, including DestinationRule fields the model does not read", (t) => {
  t.deepEqual(messages(PA({ selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "STRICT" }, portLevelMtls: { "8080": { mode: "DISABLE" } } })), []);
  t.deepEqual(messages(PA({})), []);
  t.deepEqual(messages(obj("security.istio.io/v1beta1", "PeerAuthentication", undefined)), []);
  t.deepEqual(
    messages(
      DR({
        host: "*.local",
        exportTo: ["."],
        trafficPolicy: {
          loadBalancer: { simple: "ROUND_ROBIN" },
          connectionPool: { tcp: { maxConnections: 100 }, http: { http2MaxRequests: 10 } },
          outlierDetection: { consecutive5xxErrors: 7, interval: "5m" },
          tls: { mode: "ISTIO_MUTUAL", sni: "x" },
          portLevelSettings: [{ port: { number: 8000 }, tls: { mode: "DISABLE" }, loadBalancer: { simple: "LEAST_REQUEST" } }],
        },
        subsets: [{ name: "v1", labels: { version: "v1" }, trafficPolicy: { tls: { mode: "SIMPLE", credentialName: "c" } } }],
      }),
    ),
    [],
  );
  t.deepEqual(
    messages(
      AP({
        selector: { matchLabels: { app: "httpbin" } },
        action: "DENY",
        rules: [
          {
            from: [{ source: { notPrincipals: ["*"], namespaces: ["foo"], ipBlocks: ["10.0.0.0/8"] } }],
            to: [{ operation: { methods: ["GET"], paths: ["/headers"], ports: ["8080"] } }],
            when: [{ key: "request.auth.claims[iss]", values: ["x"] }],
          },
          {},
        ],
      }),
    ),
    [],
  );
  t.deepEqual(
    messages(
      RA({
        selector: { matchLabels: { app: "httpbin" } },
        jwtRules: [{ issuer: "i", jwksUri: "https://x/jwks", audiences: ["a"], fromHeaders: [{ name: "x-jwt", prefix: "Bearer " }], outputClaimToHeaders: [{ header: "x-sub", claim: "sub" }] }],
      }),
    ),
    [],
  );
});

test("unknown fields anywhere in the four kinds, including the top level", (t) => {
  t.deepEqual(messages(PA({ mtls: { mode: "STRICT" }, portLevelMTLS: {} })), [
    'unknown field "spec.portLevelMTLS" (allowed in spec: selector, mtls, portLevelMtls)',
  ]);
  t.deepEqual(messages(PA({ selector: { labels: { app: "a" } } })), ['unknown field "spec.selector.labels" (allowed in spec.selector: matchLabels)']);
  t.deepEqual(messages(DR({ host: "h", trafficPolicy: { portLevelSettings: [{ port: { number: 80 }, tls: { mode: "DISABLE", verify: true } }] } })), [
    'unknown field "spec.trafficPolicy.portLevelSettings[0].tls.verify" (allowed in spec.trafficPolicy.portLevelSettings[0].tls: mode, clientCertificate, privateKey, caCertificates, credentialName, subjectAltNames, sni, insecureSkipVerify, caCrl)',
  ]);
  t.deepEqual(messages(DR({ host: "h", subsets: [{ name: "v1", weight: 3 }] })), ['unknown field "spec.subsets[0].weight" (allowed in spec.subsets[0]: name, labels, trafficPolicy)']);
  t.deepEqual(messages(AP({ rules: [{ from: [{ source: { principal: ["a"] } }] }] })), [
    'unknown field "spec.rules[0].from[0].source.principal" (allowed in spec.rules[0].from[0].source: principals, notPrincipals, requestPrincipals, notRequestPrincipals, namespaces, notNamespaces, serviceAccounts, notServiceAccounts, ipBlocks, notIpBlocks, remoteIpBlocks, notRemoteIpBlocks)',
  ]);
  t.deepEqual(messages(RA({ jwtRules: [{ issuer: "i", jwksURI: "https://x" }] })), [
    'unknown field "spec.jwtRules[0].jwksURI" (allowed in spec.jwtRules[0]: issuer, audiences, jwksUri, jwks, fromHeaders, fromParams, fromCookies, outputPayloadToHeader, forwardOriginalToken, outputClaimToHeaders, timeout, spaceDelimitedClaims)',
  ]);
  t.deepEqual(messages(obj("security.istio.io/v1", "PeerAuthentication", {}, { sepc: { mtls: {} } })), [
    'unknown field "sepc" (allowed at the top level: apiVersion, kind, metadata, spec, status)',
  ]);
});

test("enums: TLS mode and action; values are case-sensitive like the CRD's enum", (t) => {
  t.deepEqual(messages(DR({ host: "h", trafficPolicy: { tls: { mode: "istio_mutual" } } })), [
    'spec.trafficPolicy.tls.mode: "istio_mutual" is not one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL',
  ]);
  t.deepEqual(messages(AP({ action: "REJECT" })), ['spec.action: "REJECT" is not one of ALLOW, DENY, AUDIT, CUSTOM']);
  t.deepEqual(messages(PA({ portLevelMtls: { "8080": { mode: "PERMISIVE" } } })), [
    'spec.portLevelMtls.8080.mode: "PERMISIVE" is not one of UNSET, DISABLE, PERMISSIVE, STRICT',
  ]);
});

test("types, required fields and port ranges", (t) => {
  t.deepEqual(messages(DR({ trafficPolicy: {} })), ["spec.host: required field is missing"]);
  t.deepEqual(messages(PA({ selector: { matchLabels: { version: 1 } } })), ["spec.selector.matchLabels.version: must be a string, found number 1"]);
  t.deepEqual(messages(AP({ rules: [{ to: [{ operation: { ports: [8080] } }] }] })), ["spec.rules[0].to[0].operation.ports[0]: must be a string, found number 8080"]);
  t.deepEqual(messages(PA({ mtls: "STRICT" })), ['spec.mtls: must be a mapping, found "STRICT"']);
  t.deepEqual(messages(PA({ portLevelMtls: { "70000": { mode: "STRICT" }, http: { mode: "STRICT" } } })), [
    'spec.portLevelMtls: key "70000" must be a port number between 1 and 65535',
    'spec.portLevelMtls: key "http" must be a port number between 1 and 65535',
  ]);
  t.deepEqual(messages(DR({ host: "h", trafficPolicy: { portLevelSettings: [{ port: { number: 0 } }] } })), [
    "spec.trafficPolicy.portLevelSettings[0].port.number: must be a port number between 1 and 65535, found number 0",
  ]);
});

test("kinds and groups without a schema here are not checked", (t) => {
  t.deepEqual(messages(obj("v1", "Service", { anything: true })), []);
  t.deepEqual(messages(obj("networking.istio.io/v1", "VirtualService", { hosts: ["x"], bogus: 1 })), []);
  // A CRD of another group that happens to reuse the kind name.
  t.deepEqual(messages(obj("example.com/v1", "PeerAuthentication", { bogus: 1 })), []);
});

test("several issues in one object are reported in source order, each at its own line", (t) => {
  const objects = readYamlText(
    [
      "apiVersion: security.istio.io/v1",
      "kind: AuthorizationPolicy",
      "metadata: {name: deny, namespace: foo}",
      "spec:",
      "  action: deny",
      "  rules:",
      "    - from:",
      "        - source: {principal: [x]}",
      "      to:",
      "        - operation: {port: ['80']}",
    ].join("\n"),
    "ap.yaml",
  );
  t.deepEqual(
    validateSourceObjects(objects).map((e) => `${e.line}:${e.col} ${e.detail.replace(/ \(allowed.*$/, "")}`),
    [
      '5:11 AuthorizationPolicy foo/deny: spec.action: "deny" is not one of ALLOW, DENY, AUDIT, CUSTOM',
      '8:20 AuthorizationPolicy foo/deny: unknown field "spec.rules[0].from[0].source.principal"',
      '10:23 AuthorizationPolicy foo/deny: unknown field "spec.rules[0].to[0].operation.port"',
    ],
  );
});

test("fieldPath writes list indexes in brackets", (t) => {
  t.is(fieldPath(["spec", "rules", 0, "from", 1, "source"]), "spec.rules[0].from[1].source");
  t.is(fieldPath([]), "");
});
