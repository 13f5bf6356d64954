/** Invariants of the model over random policy sets on the demo mesh (fast-check). */
import test from "ava";
import fc from "fast-check";
import { isDeepStrictEqual } from "node:util";
import { predict } from "../../mesh/predict";
import type { Cell, Prediction } from "../../mesh/prediction";
import { CLIENT_TLS_MODES, MTLS_MODES, type KubeObject } from "../../mesh/types";
import { authorizationPolicy, demo, destinationRule, peerAuthentication } from "./fixtures";

const NAMESPACES = ["istio-system", "foo", "bar", "legacy"];
const stamp = fc.integer({ min: 1, max: 28 }).map((d) => `2024-02-${String(d).padStart(2, "0")}T00:00:00Z`);
const selector = fc.constantFrom(undefined, { matchLabels: { app: "httpbin" } }, { matchLabels: { app: "sleep" } });
const mode = fc.constantFrom(...MTLS_MODES);

const peerAuthnArb = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom("default", "a", "b", "httpbin"),
    selector,
    mode: fc.option(mode, { nil: undefined }),
    port: fc.option(fc.record({ port: fc.constantFrom("8080", "9999"), mode }), { nil: undefined }),
    ts: stamp,
  })
  .map((r) =>
    peerAuthentication(
      r.ns,
      r.name,
      {
        ...(r.selector ? { selector: r.selector } : {}),
        ...(r.mode ? { mtls: { mode: r.mode } } : {}),
        ...(r.selector && r.port ? { portLevelMtls: { [r.port.port]: { mode: r.port.mode } } } : {}),
      },
      r.ts,
    ),
  );

const tlsOf = (mode: string) => (mode === "MUTUAL" ? { mode, clientCertificate: "/etc/certs/cert.pem", privateKey: "/etc/certs/key.pem" } : { mode });

const destinationRuleArb = fc
  .record({
    ns: fc.constantFrom(...NAMESPACES),
    name: fc.constantFrom("default", "x", "y"),
    host: fc.constantFrom("*.local", "*", "httpbin", "httpbin.legacy.svc.cluster.local", "httpbin.foo.svc.cluster.local", "*.bar.svc.cluster.local"),
    tls: fc.option(fc.constantFrom(...CLIENT_TLS_MODES), { nil: undefined }),
    port: fc.option(fc.option(fc.constantFrom(...CLIENT_TLS_MODES), { nil: undefined }), { nil: null }),
    exportTo: fc.constantFrom(undefined, ["."], ["*"], ["foo"]),
    ts: stamp,
  })
  .map((r) =>
    destinationRule(
      r.ns,
      r.name,
      {
        host: r.host,
        ...(r.exportTo ? { exportTo: r.exportTo } : {}),
        // Istio refuses an empty trafficPolicy or port entry, and MUTUAL without a client certificate.
        trafficPolicy: {
          loadBalancer: { simple: "ROUND_ROBIN" },
          ...(r.tls ? { tls: tlsOf(r.tls) } : {}),
          ...(r.port !== null ? { portLevelSettings: [{ port: { number: 8000 }, ...(r.port ? { tls: tlsOf(r.port) } : { loadBalancer: { simple: "ROUND_ROBIN" } }) }] } : {}),
        },
      },
      r.ts,
    ),
  );

const RULES = [
  undefined,
  [{}],
  [{ from: [{ source: { principals: ["cluster.local/ns/foo/*"] } }] }],
  [{ from: [{ source: { notPrincipals: ["*"] } }] }],
  [{ to: [{ operation: { paths: ["/ip"] } }] }],
  [{ when: [{ key: "request.headers[x]", values: ["y"] }] }],
];
const authzArb = fc
  .record({ ns: fc.constantFrom(...NAMESPACES), name: fc.constantFrom("p", "q", "r"), selector, action: fc.constantFrom("ALLOW", "DENY"), rules: fc.constantFrom(...RULES) })
  // Istio's validation rejects a DENY without rules (it would never apply): not a mesh that can exist.
  .filter((r) => !(r.action === "DENY" && r.rules === undefined))
  .map((r) => authorizationPolicy(r.ns, r.name, { ...(r.selector ? { selector: r.selector } : {}), action: r.action, ...(r.rules ? { rules: r.rules } : {}) }));

const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
const policiesArb = fc.tuple(
  fc.uniqueArray(peerAuthnArb, { selector: key, maxLength: 6 }),
  fc.uniqueArray(destinationRuleArb, { selector: key, maxLength: 4 }),
  fc.uniqueArray(authzArb, { selector: key, maxLength: 3 }),
).map(([a, b, c]) => [...a, ...b, ...c]);

const DEMO = demo();
const LEGACY_CLIENT = "sleep.legacy";
const sidecarServer = (p: Cell) => !p.to.includes(".legacy:");

function cells(p: Prediction): Map<string, Cell> {
  return new Map(p.probes.map((x) => [`${x.from} ${x.to}`, x]));
}

test("adding a STRICT PeerAuthentication never lets a plaintext client through to a sidecar server it could not reach", (t) => {
  const strictArb = fc
    .record({ ns: fc.constantFrom(...NAMESPACES), selector, ts: stamp, name: fc.constantFrom("strict-1", "strict-2") })
    .map((r) => peerAuthentication(r.ns, r.name, { ...(r.selector ? { selector: r.selector } : {}), mtls: { mode: "STRICT" } }, r.ts));
  fc.assert(
    fc.property(policiesArb, strictArb, (policies, strict) => {
      const before = cells(predict([...DEMO, ...policies]));
      const after = predict([...DEMO, ...policies, strict]);
      for (const p of after.probes) {
        if (p.from !== LEGACY_CLIENT || !sidecarServer(p)) continue;
        if (before.get(`${p.from} ${p.to}`)!.code !== 200 && p.code === 200) return false;
      }
      return true;
    }),
    { numRuns: 150 },
  );
  t.pass();
});

test("a server without sidecar is never refused by a policy: plaintext always passes, sidecars at worst 503", (t) => {
  fc.assert(
    fc.property(policiesArb, (policies) => {
      for (const p of predict([...DEMO, ...policies], { request: { token: { kind: "invalid" } } }).probes) {
        if (sidecarServer(p)) continue;
        if (!p.client.sidecar && p.code !== 200) return false;
        if (p.client.sidecar && p.code !== 200 && p.code !== 503) return false;
      }
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test("with timestamps set, the prediction does not depend on input order", (t) => {
  fc.assert(
    fc.property(policiesArb, fc.integer({ min: 0, max: 1 << 30 }), (policies, seed) => {
      const objects = [...DEMO, ...policies];
      const shuffled = [...objects];
      let s = seed;
      for (let i = shuffled.length - 1; i > 0; i--) {
        s = (s * 1103515245 + 12345) & 0x7fffffff;
        const j = s % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      return isDeepStrictEqual(predict(shuffled), predict(objects));
    }),
    { numRuns: 100 },
  );
  t.pass();
});

test("without policies every pair succeeds, whichever workloads have sidecars", (t) => {
  const injection = fc.record({ foo: fc.boolean(), bar: fc.boolean(), legacy: fc.boolean() });
  fc.assert(
    fc.property(injection, (inj) => {
      const objects = DEMO.map((o) =>
        o.kind === "Namespace" ? { ...o, metadata: { ...o.metadata, labels: inj[o.metadata.name as "foo"] ? { "istio-injection": "enabled" } : {} } } : o,
      );
      const p = predict(objects);
      return p.probes.length === 18 && p.probes.every((x) => x.code === 200 && x.mtls === (x.client.sidecar && !!x.serverIdentity));
    }),
  );
  t.pass();
});

test("mTLS is reported only with a sidecar on both ends, and then with both identities", (t) => {
  fc.assert(
    fc.property(policiesArb, (policies) =>
      predict([...DEMO, ...policies]).probes.every((p) => !p.mtls || (p.client.sidecar && sidecarServer(p) && !!p.clientIdentity && !!p.serverIdentity)),
    ),
    { numRuns: 200 },
  );
  t.pass();
});
