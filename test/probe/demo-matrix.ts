/**
 * The demo matrix for probe tests and the probe benchmark: namespaces each with sleep and
 * httpbin; those named "legacy…" have no sidecar; foo runs STRICT, so legacy → foo is refused.
 * Gives both the model's side (a Prediction) and a fake cluster scenario that behaves like it.
 */
import { DEFAULT_REQUEST, type Cell, type Prediction } from "../../mesh/prediction";

export const sidecar = (ns: string) => !ns.startsWith("legacy");
export const sleepId = (ns: string) => `spiffe://cluster.local/ns/${ns}/sa/sleep`;
const refused = (from: string, to: string) => !sidecar(from) && to === "foo";

export function demoNamespaces(n: number): string[] {
  const base = ["foo", "bar", "legacy"];
  return Array.from({ length: n }, (_, i) => (i < base.length ? base[i]! : `${sidecar(base[i % 3]!) ? "ns" : "legacy"}${i}`));
}

export function demoPrediction(namespaces: string[]): Prediction {
  const probes: Cell[] = [];
  for (const from of namespaces)
    for (const to of namespaces) {
      const mtls = sidecar(from) && sidecar(to);
      probes.push({
        from: `sleep.${from}`,
        to: `httpbin.${to}:8000`,
        request: DEFAULT_REQUEST,
        code: refused(from, to) ? 0 : 200,
        mtls,
        reason: refused(from, to) ? "plaintext client (no sidecar) → STRICT at port 8080 (PeerAuthentication foo/default)" : mtls ? "auto mTLS" : "plaintext",
        ...(refused(from, to) ? { failure: "reset" as const } : {}),
        ...(mtls ? { clientIdentity: sleepId(from), serverIdentity: `spiffe://cluster.local/ns/${to}/sa/httpbin` } : {}),
        client: { namespace: from, name: "sleep", labels: { app: "sleep" }, serviceAccount: "sleep", sidecar: sidecar(from) },
        target: { namespace: to, service: "httpbin", port: 8000, targetPort: 8080 },
      });
    }
  return { probes };
}

/** A fake cluster (see fake-transport.cjs) that answers as the prediction says; `override` replaces responses. */
export function demoScenario(namespaces: string[], override: Record<string, unknown[]> = {}, extra: Record<string, unknown> = {}) {
  const responses: Record<string, unknown[]> = {};
  for (const from of namespaces)
    for (const to of namespaces)
      responses[`${from}|httpbin.${to}:8000/headers`] = refused(from, to)
        ? [{ code: 0, exit: 56 }]
        : [{ code: 200, exit: 0, ...(sidecar(from) && sidecar(to) ? { uri: sleepId(from) } : {}) }];
  return {
    pods: namespaces.map((ns) => ({
      namespace: ns,
      name: `sleep-${ns}-7d9f`,
      labels: { app: "sleep" },
      containers: [{ name: "sleep", ready: true }, ...(sidecar(ns) ? [{ name: "istio-proxy", ready: true }] : [])],
    })),
    responses: { ...responses, ...override },
    ...extra,
  };
}
