import test from "ava";
import fc from "fast-check";
import { buildPeerAuthentications, buildWorkloadPeerAuthentication, validateMtlsPolicies } from "../../../mesh/builders";
import { MTLS_MODES, type MtlsMode } from "../../../mesh/types";

const mode = fc.constantFrom<MtlsMode>(...MTLS_MODES);
const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/);
const ports = fc.dictionary(fc.integer({ min: 1, max: 65535 }).map(String), mode, { minKeys: 1, maxKeys: 6 });

test("workload PeerAuthentication: ports ascending as strings, selector keys sorted, input order irrelevant", (t) => {
  fc.assert(
    fc.property(fc.dictionary(label, label, { minKeys: 1, maxKeys: 5 }), ports, (selector, portModes) => {
      const asNumbers = Object.fromEntries(Object.entries(portModes).map(([p, m]) => [Number(p), m])) as Record<number, MtlsMode>;
      const reversed = Object.fromEntries(Object.entries(selector).reverse());
      const a = buildWorkloadPeerAuthentication({ namespace: "foo", name: "w", selector, portLevelMtls: asNumbers });
      const b = buildWorkloadPeerAuthentication({ namespace: "foo", name: "w", selector: reversed, portLevelMtls: asNumbers });
      const keys = Object.keys(a.spec.portLevelMtls!);
      t.deepEqual(keys, [...keys].sort((x, y) => Number(x) - Number(y)));
      t.deepEqual(Object.keys(a.spec.selector!.matchLabels!), Object.keys(selector).sort());
      t.is(JSON.stringify(a), JSON.stringify(b));
      for (const k of keys) t.is(a.spec.portLevelMtls![k].mode, portModes[k]);
    }),
    { numRuns: 200 },
  );
});

test("every policy set the validator accepts builds one PeerAuthentication per policy, names unique", (t) => {
  const namespaces = fc.uniqueArray(fc.record({ namespace: label, mode }), { selector: (p) => p.namespace, maxLength: 4 });
  const workloads = fc.uniqueArray(
    fc.record({ namespace: label, name: label, selector: fc.dictionary(label, label, { minKeys: 1, maxKeys: 2 }), mode: fc.option(mode, { nil: undefined }) }),
    { selector: (w) => `${w.namespace}/${w.name}`, maxLength: 4 },
  );
  fc.assert(
    fc.property(fc.option(mode, { nil: undefined }), namespaces, workloads, (meshMode, ns, ws) => {
      const policies = { mesh: meshMode === undefined ? undefined : { mode: meshMode }, namespaces: ns, workloads: ws };
      let valid = true;
      try {
        validateMtlsPolicies(policies, "istio-system");
      } catch {
        valid = false;
      }
      if (!valid) return;
      const built = buildPeerAuthentications(policies, "istio-system");
      t.is(built.length, (meshMode ? 1 : 0) + ns.length + ws.length);
      const ids = built.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      t.is(new Set(ids).size, ids.length);
      t.true(built.filter((p) => p.metadata.namespace === "istio-system").every((p) => p.spec.selector === undefined));
    }),
    { numRuns: 300 },
  );
});
