import test from "ava";
import { ConfigError, loadStackConfig } from "../../config";
import { DEMO_NAMESPACES, rejected } from "./load";

test("every problem across keys is reported in one ConfigError, one line each", (t) => {
  const lines = rejected(t, {
    mtl: {},
    production: "yes",
    namespaces: DEMO_NAMESPACES,
    mtls: {
      mesh: "STRICTER",
      workloads: [{ namespace: "foo", name: "httpbin", selector: { app: "httpbin" }, portLevelMtls: { "80800": "STRICT", "8080": "LAX" } }],
    },
    ca: { keySize: 512 },
    probe: { concurrency: 0 },
    intent: [{ from: "sleep.foo", to: "httpbin.qux:8000", expect: "mtls" }],
  });
  t.deepEqual(lines, [
    'istio-mtls:mtl: "mtl" is not a config key (did you mean "mtls"?); allowed: production, istio, certManager, ca, namespaces, demo, mtls, destinationRules, endUserAuth, authorization, ingress, probe, intent',
    'istio-mtls:production: "yes" is not a boolean; allowed: true or false',
    'istio-mtls:mtls.mesh: "STRICTER" is not an mTLS mode; allowed: UNSET, DISABLE, PERMISSIVE, STRICT',
    'istio-mtls:mtls.workloads[0].portLevelMtls.8080: "LAX" is not an mTLS mode; allowed: UNSET, DISABLE, PERMISSIVE, STRICT',
    "istio-mtls:mtls.workloads[0].portLevelMtls.80800: 80800 is not a port; allowed: 1..65535",
    "istio-mtls:probe.concurrency: 0 is not a concurrency; allowed: an integer from 1 to 100",
    "istio-mtls:ca.keySize: 512 is not a key size for ECDSA; allowed: 256, 384",
    'istio-mtls:intent[0].to: "httpbin.qux:8000" is in namespace qux, which this stack does not manage; allowed: a namespace in istio-mtls:namespaces: foo, bar, legacy',
  ]);
});

test("the error message has a count and the lines, and the issues keep their paths", (t) => {
  const e = t.throws(() => loadStackConfig((k) => ({ production: 1, demo: { enabled: "maybe" } })[k as "production"]), { instanceOf: ConfigError })!;
  t.is(
    e.message,
    "invalid stack config (2 errors):\n" +
      "istio-mtls:production: 1 is not a boolean; allowed: true or false\n" +
      'istio-mtls:demo.enabled: "maybe" is not a boolean; allowed: true or false',
  );
  t.deepEqual(e.issues.map((i) => i.path), [["production"], ["demo", "enabled"]]);
});

test("a key with syntax errors is not checked again against other keys", (t) => {
  // The namespace list is broken, so references to namespaces are not judged against it.
  const lines = rejected(t, { namespaces: [{ name: "Foo" }], mtls: { namespaces: { foo: "STRICT" } } });
  t.is(lines.length, 1);
  t.regex(lines[0], /^istio-mtls:namespaces\[0\]\.name: "Foo" is not a namespace name/);
});

test("one error reads as a single error", (t) => {
  const e = t.throws(() => loadStackConfig((k) => (k === "production" ? "no" : undefined)), { instanceOf: ConfigError })!;
  t.true(e.message.startsWith("invalid stack config (1 error):\n"));
});
