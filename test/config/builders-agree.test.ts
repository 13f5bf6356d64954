/**
 * Property: whatever config.ts accepts, the manifest builders accept too, so a stack never passes
 * validation and then fails half-way through registering resources.
 */
import test from "ava";
import fc from "fast-check";
import { ConfigError, loadStackConfig } from "../../config";
import { desiredMeshObjects } from "../../mesh/builders/desired";
import { validateMeshCa } from "../../mesh/builders/mesh-ca";
import { DEMO_NAMESPACES } from "./load";

/** Mostly valid values, sometimes a mistake, so both sides of the property are exercised. */
function mostly<T>(valid: T[], invalid: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 30 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
}

const ns = mostly(["foo", "bar", "legacy"], ["istio-system", "qux"]);
const name = mostly(["httpbin", "a.b", "x", "sleep-policy", "p1", "p2", "p3", "p4"], ["default", "Bad"]);
const mtlsMode = mostly(["UNSET", "DISABLE", "PERMISSIVE", "STRICT"], ["OFF"]);
const tlsMode = mostly(["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"], ["TLS"]);
const port = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 65535 }), weight: 30 }, { arbitrary: fc.constantFrom(0, 70000), weight: 1 });
const selector = mostly<Record<string, string>>([{ app: "httpbin" }, { app: "sleep" }, { app: "httpbin", version: "v1" }], [{}, { "app/x/y": "z" }]);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const workload = fc.record(
  {
    namespace: ns,
    name,
    selector,
    mode: opt(mtlsMode),
    portLevelMtls: opt(fc.dictionary(port.map(String), mtlsMode, { maxKeys: 3 })),
  },
  { requiredKeys: ["namespace", "name", "selector"] },
);
const destinationRule = fc.record(
  {
    namespace: ns,
    name,
    host: mostly(["httpbin", "httpbin.legacy.svc.cluster.local", "*.local", "*"], ["a.*.b", "http://x"]),
    mode: opt(tlsMode),
    portLevel: opt(fc.array(fc.record({ port, mode: opt(tlsMode) }, { requiredKeys: ["port"] }), { maxLength: 2 })),
    exportTo: opt(fc.array(mostly([".", "*", "foo"], ["Foo"]), { maxLength: 2 })),
  },
  { requiredKeys: ["namespace", "name", "host"] },
);
const endUserAuth = fc.record(
  {
    namespace: ns,
    name,
    selector,
    issuer: mostly(["me", "https://accounts.example.com"], ["", " "]),
    jwksUri: mostly(["https://idp.example.com/jwks.json"], ["http://idp.example.com/jwks.json", "nope"]),
    requireToken: opt(fc.boolean()),
    paths: opt(fc.array(mostly(["/headers", "*/ip", "/status/*"], ["headers"]), { maxLength: 2 })),
  },
  { requiredKeys: ["namespace", "name", "selector", "issuer", "jwksUri"] },
);
const authorization = fc.record(
  {
    namespace: ns,
    name: fc.oneof({ arbitrary: name, weight: 20 }, { arbitrary: fc.constant("httpbin-require-jwt"), weight: 1 }),
    selector,
    principals: opt(fc.array(mostly(["cluster.local/ns/bar/sa/sleep", "*", "*/sa/sleep"], ["spiffe://cluster.local/ns/bar/sa/sleep", "example.org/ns/bar/sa/sleep"]), { maxLength: 2 })),
    namespaces: opt(fc.array(mostly(["bar", "*"], ["Bar"]), { maxLength: 2 })),
  },
  { requiredKeys: ["namespace", "name", "selector"] },
);
const ca = fc.record({
  keyAlgorithm: fc.constantFrom("ECDSA", "RSA"),
  keySize: opt(mostly([256, 384, 2048, 3072, 4096], [1024])),
  rootDuration: mostly(["87600h", "43800h"], ["1h", "30m"]),
  intermediateDuration: mostly(["8760h", "2160h", "720h30m"], ["87600h", "1h30m"]),
  intermediateRenewBefore: mostly(["720h", "1h", "10m"], ["1000h", "1m"]),
});

const config = fc.record({
  namespaces: fc.constant(DEMO_NAMESPACES),
  demo: fc.constant({ enabled: true }),
  ca,
  mtls: fc.record(
    { mesh: opt(mtlsMode), namespaces: fc.dictionary(ns, mtlsMode, { maxKeys: 3 }), workloads: fc.array(workload, { maxLength: 2 }) },
    { requiredKeys: [] },
  ),
  destinationRules: fc.array(destinationRule, { maxLength: 2 }),
  endUserAuth: fc.array(endUserAuth, { maxLength: 2 }),
  authorization: fc.array(authorization, { maxLength: 2 }),
});

test("a config that loads builds: config.ts is never looser than the manifest builders", (t) => {
  let accepted = 0;
  fc.assert(
    fc.property(config, (raw) => {
      const r = raw as Record<string, unknown>;
      let c;
      try {
        c = loadStackConfig((k) => r[k], Object.keys(r));
      } catch (e) {
        if (e instanceof ConfigError) return true;
        throw e;
      }
      accepted++;
      desiredMeshObjects(c);
      validateMeshCa({ certManagerNamespace: c.certManager.namespace, istioNamespace: c.istio.namespace, ...c.ca });
      return true;
    }),
    { numRuns: 3000, seed: 20251 },
  );
  // The generator must reach the accepting side often enough for the property to mean something.
  t.true(accepted > 100, `only ${accepted} of 3000 generated configs were accepted`);
});
