import test from "ava";
import {
  buildAuthorizationPolicies,
  buildMeshPeerAuthentication,
  buildNamespacePeerAuthentication,
  buildWorkloadPeerAuthentication,
  buildDestinationRules,
  buildEndUserAuth,
  validateAuthorizationPolicies,
  validateDestinationRules,
  validateEndUserAuthPolicies,
} from "../../../mesh/builders";
import type { DestinationRuleSettings, EndUserAuthSettings } from "../../../mesh/settings";

test("DestinationRule: top-level mode, port-level settings sorted by Service port, exportTo", (t) => {
  const [dr] = buildDestinationRules([
    {
      namespace: "foo",
      name: "httpbin-legacy",
      host: "httpbin.legacy.svc.cluster.local",
      mode: "ISTIO_MUTUAL",
      portLevel: [{ port: 9000 }, { port: 8000, mode: "DISABLE" }],
      exportTo: ["."],
    },
  ]);
  t.deepEqual(dr, {
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "httpbin-legacy", namespace: "foo" },
    spec: {
      host: "httpbin.legacy.svc.cluster.local",
      trafficPolicy: {
        tls: { mode: "ISTIO_MUTUAL" },
        portLevelSettings: [{ port: { number: 8000 }, tls: { mode: "DISABLE" } }, { port: { number: 9000 } }],
      },
      exportTo: ["."],
    },
  });
});

test("DestinationRule: exportTo omitted stays omitted (visible to all)", (t) => {
  const [dr] = buildDestinationRules([{ namespace: "istio-system", name: "all", host: "*.local", mode: "ISTIO_MUTUAL" }]);
  t.deepEqual(dr.spec, { host: "*.local", trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } });
});

const drRejected: [string, DestinationRuleSettings, RegExp][] = [
  ["unknown mode", { namespace: "foo", name: "d", host: "h", mode: "STRICT" as never }, /^DestinationRule foo\/d: spec\.trafficPolicy\.tls\.mode: unknown TLS mode "STRICT"; allowed: DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL/],
  ["bad port", { namespace: "foo", name: "d", host: "h", portLevel: [{ port: 0, mode: "DISABLE" }] }, /spec\.trafficPolicy\.portLevelSettings \(port 0\): 0 is not a port/],
  ["no TLS setting", { namespace: "foo", name: "d", host: "h", portLevel: [{ port: 80 }] }, /spec\.trafficPolicy: no tls\.mode at the top or on any port/],
  ["bad exportTo", { namespace: "foo", name: "d", host: "h", mode: "DISABLE", exportTo: ["Foo"] }, /spec\.exportTo\[0\]: "Foo" is not a valid name/],
  ["bad host", { namespace: "foo", name: "d", host: "http://x", mode: "DISABLE" }, /spec\.host: "http:\/\/x" is not a host/],
];
for (const [title, dr, message] of drRejected) {
  test(`DestinationRule refused: ${title}`, (t) => {
    t.regex(t.throws(() => validateDestinationRules([dr]))!.message, message);
  });
}

const jwt: EndUserAuthSettings = {
  namespace: "foo",
  name: "httpbin-jwt",
  selector: { app: "httpbin" },
  issuer: "testing@secure.istio.io",
  jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.28/security/tools/jwt/samples/jwks.json",
  audiences: ["httpbin"],
  requireToken: true,
  paths: ["/headers"],
};

test("RequestAuthentication + DENY without request principal on the listed paths", (t) => {
  t.deepEqual(buildEndUserAuth([jwt]), [
    {
      apiVersion: "security.istio.io/v1",
      kind: "RequestAuthentication",
      metadata: { name: "httpbin-jwt", namespace: "foo" },
      spec: {
        selector: { matchLabels: { app: "httpbin" } },
        jwtRules: [{ issuer: jwt.issuer, jwksUri: jwt.jwksUri, audiences: ["httpbin"] }],
      },
    },
    {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "httpbin-jwt-require-jwt", namespace: "foo" },
      spec: {
        selector: { matchLabels: { app: "httpbin" } },
        action: "DENY",
        rules: [{ from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/headers"] } }] }],
      },
    },
  ]);
});

test("token required on every path: no `to`; token optional: RequestAuthentication only", (t) => {
  const every = buildEndUserAuth([{ ...jwt, paths: undefined }]);
  t.deepEqual((every[1].spec as { rules: unknown }).rules, [{ from: [{ source: { notRequestPrincipals: ["*"] } }] }]);
  const optional = buildEndUserAuth([{ ...jwt, requireToken: false, paths: [], audiences: undefined }]);
  t.is(optional.length, 1);
  t.deepEqual(optional[0].spec, { selector: { matchLabels: { app: "httpbin" } }, jwtRules: [{ issuer: jwt.issuer, jwksUri: jwt.jwksUri }] });
});

test("end-user auth refused: non-https JWKS, empty selector, paths without requireToken", (t) => {
  t.regex(
    t.throws(() => validateEndUserAuthPolicies([{ ...jwt, jwksUri: "http://keys.example.com/jwks.json" }]))!.message,
    /^RequestAuthentication foo\/[^:]+: spec\.jwtRules\[0\]\.jwksUri: "http:\/\/keys\.example\.com\/jwks\.json" is not an https URL; allowed: https:\/\/ only/,
  );
  t.regex(t.throws(() => validateEndUserAuthPolicies([{ ...jwt, jwksUri: "not a url" }]))!.message, /is not an https URL/);
  t.regex(t.throws(() => validateEndUserAuthPolicies([{ ...jwt, selector: {} }]))!.message, /^RequestAuthentication foo\/[^:]+: spec\.selector: empty/);
  t.regex(t.throws(() => validateEndUserAuthPolicies([{ ...jwt, requireToken: false }]))!.message, /paths set but requireToken is false/);
});

test("AuthorizationPolicy ALLOW: principals and namespaces as separate (ORed) sources", (t) => {
  t.deepEqual(
    buildAuthorizationPolicies([
      { namespace: "foo", name: "httpbin-viewers", selector: { app: "httpbin" }, principals: ["cluster.local/ns/bar/sa/sleep"], namespaces: ["foo"] },
    ]),
    [
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "httpbin-viewers", namespace: "foo" },
        spec: {
          selector: { matchLabels: { app: "httpbin" } },
          action: "ALLOW",
          rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/sleep"] } }, { source: { namespaces: ["foo"] } }] }],
        },
      },
    ],
  );
});

test("AuthorizationPolicy refused: nothing allowed, spiffe:// principal, empty selector", (t) => {
  const p = { namespace: "foo", name: "a", selector: { app: "httpbin" } };
  t.regex(t.throws(() => validateAuthorizationPolicies([p]))!.message, /^AuthorizationPolicy foo\/a: spec\.rules\[0\]\.from: neither principals nor namespaces/);
  t.regex(
    t.throws(() => validateAuthorizationPolicies([{ ...p, principals: ["spiffe://cluster.local/ns/a/sa/b"] }]))!.message,
    /principals\[0\]: "spiffe:\/\/cluster\.local\/ns\/a\/sa\/b"; allowed: .*without the spiffe:\/\/ prefix/,
  );
  t.regex(t.throws(() => validateAuthorizationPolicies([{ ...p, selector: {}, namespaces: ["x"] }]))!.message, /selector: empty/);
});

test("PeerAuthentication: a reviewed exception becomes the annotations the policy pack checks", (t) => {
  const pa = buildWorkloadPeerAuthentication({
    namespace: "bar",
    name: "httpbin",
    selector: { app: "httpbin" },
    portLevelMtls: { 8080: "PERMISSIVE" },
    exception: { reason: "legacy clients", expires: "2027-02-15" },
  });
  t.deepEqual(pa.metadata.annotations, { "istio-mtls.dev/exception-expires": "2027-02-15", "istio-mtls.dev/exception-reason": "legacy clients" });
  t.is(buildWorkloadPeerAuthentication({ namespace: "bar", name: "h", selector: { app: "h" }, mode: "STRICT" }).metadata.annotations, undefined);
  const bad = t.throws(() =>
    buildWorkloadPeerAuthentication({ namespace: "bar", name: "h", selector: { app: "h" }, mode: "PERMISSIVE", exception: { reason: "x", expires: "2027-13-45" } }),
  );
  t.regex(bad!.message, /^PeerAuthentication bar\/h: metadata\.annotations\["istio-mtls\.dev\/exception-expires"\]: "2027-13-45" is not a date; allowed: YYYY-MM-DD$/);
});

test("exceptions at mesh and namespace level, and calendar dates only (parseDay, as config and pack)", (t) => {
  const exception = { reason: "migration", expires: "2027-02-15" };
  const annotations = { "istio-mtls.dev/exception-expires": "2027-02-15", "istio-mtls.dev/exception-reason": "migration" };
  t.deepEqual(buildMeshPeerAuthentication({ mode: "PERMISSIVE", exception }, "istio-system").metadata.annotations, annotations);
  t.deepEqual(buildNamespacePeerAuthentication({ namespace: "bar", mode: "PERMISSIVE", exception }).metadata.annotations, annotations);
  const bad = t.throws(() => buildNamespacePeerAuthentication({ namespace: "bar", mode: "PERMISSIVE", exception: { reason: "x", expires: "2027-02-30" } }));
  t.is(bad!.message, 'PeerAuthentication bar/default: metadata.annotations["istio-mtls.dev/exception-expires"]: "2027-02-30" is not a date; allowed: YYYY-MM-DD');
  t.throws(() => buildWorkloadPeerAuthentication({ namespace: "bar", name: "h", selector: { app: "h" }, mode: "PERMISSIVE", exception: { reason: "x", expires: "2027-04-31" } }));
});
