/**
 * `npm run bench`: predicts a synthetic mesh of 2,000 workloads × 2,000 Service ports (4 million
 * pairs) with a realistic mix of policies, and prints the time per phase, pairs per second and the
 * heap in use. Arguments: [workloads] [namespaces], default 2000 50.
 */
import { predict } from "../mesh/predict";
import type { KubeObject } from "../mesh/types";

const WORKLOADS = Number(process.argv[2] ?? 2000);
const NAMESPACES = Number(process.argv[3] ?? 50);

/** Deterministic pseudo-random numbers, so two runs bench the same mesh. */
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

function buildMesh(): KubeObject[] {
  const objects: KubeObject[] = [];
  const ns = (i: number) => `team-${i % NAMESPACES}`;
  for (let i = 0; i < NAMESPACES; i++) {
    // 80% of namespaces are in the mesh.
    objects.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: `team-${i}`, labels: i % 5 === 4 ? {} : { "istio-injection": "enabled" } } });
    // 30% STRICT namespaces, some DISABLE, the rest inherit the mesh.
    if (i % 10 < 3) objects.push(pa(`team-${i}`, "default", { mtls: { mode: "STRICT" } }));
    else if (i % 10 === 3) objects.push(pa(`team-${i}`, "default", { mtls: { mode: "DISABLE" } }));
    // A namespace-wide DestinationRule in one namespace out of ten, exported to itself only.
    if (i % 10 === 5) objects.push(dr(`team-${i}`, "local", { host: `*.team-${i}.svc.cluster.local`, exportTo: ["."], trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } }));
  }
  objects.push(pa("istio-system", "default", { mtls: { mode: "PERMISSIVE" } }));
  objects.push(dr("istio-system", "api-server", { host: "kubernetes.default.svc.cluster.local", trafficPolicy: { tls: { mode: "DISABLE" } } }));
  for (let w = 0; w < WORKLOADS; w++) {
    const namespace = ns(w);
    const app = `app-${w}`;
    objects.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: app, namespace },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app, tier: w % 3 === 0 ? "web" : "backend" } },
          spec: { serviceAccountName: app, containers: [{ name: "main", image: "x", ports: [{ name: "http", containerPort: 8080 }, { name: "grpc", containerPort: 9090 }] }] },
        },
      },
    });
    // Half the workloads serve: one Service with two ports each, 2,000 Service ports in all.
    if (w < WORKLOADS / 2) {
      objects.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: app, namespace },
        spec: { selector: { app }, ports: [{ name: "http", port: 8000, targetPort: 8080 }, { name: "grpc", port: 9000, targetPort: "grpc" }] },
      });
      const r = rand();
      if (r < 0.1) objects.push(pa(namespace, app, { selector: { matchLabels: { app } }, mtls: { mode: "STRICT" }, portLevelMtls: { "9090": { mode: "PERMISSIVE" } } }));
      if (r > 0.8) {
        objects.push(ap(namespace, `${app}-allow`, { selector: { matchLabels: { app } }, rules: [{ from: [{ source: { namespaces: [namespace, ns(w + 1)] } }] }, { from: [{ source: { principals: ["cluster.local/ns/team-0/*"] } }], to: [{ operation: { methods: ["GET"], paths: ["/headers", "/status/*"] } }] }] }));
      }
      if (r > 0.7 && r <= 0.8) objects.push(ap(namespace, `${app}-deny`, { selector: { matchLabels: { app } }, action: "DENY", rules: [{ from: [{ source: { notPrincipals: ["*"] } }] }] }));
      if (r > 0.65 && r <= 0.7) {
        objects.push({ apiVersion: "security.istio.io/v1", kind: "RequestAuthentication", metadata: { name: app, namespace }, spec: { selector: { matchLabels: { app } }, jwtRules: [{ issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks" }] } });
      }
      if (r > 0.6 && r <= 0.62) objects.push(dr(namespace, app, { host: app, trafficPolicy: { tls: { mode: "DISABLE" }, portLevelSettings: [{ port: { number: 9000 }, tls: { mode: "ISTIO_MUTUAL" } }] } }));
    }
  }
  return objects;
}

function pa(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name, namespace }, spec };
}
function dr(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name, namespace }, spec };
}
function ap(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", metadata: { name, namespace }, spec };
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
const t0 = performance.now();
const objects = buildMesh();
const t1 = performance.now();
const heapBefore = process.memoryUsage().heapUsed;
const cpu0 = process.cpuUsage();
const prediction = predict(objects);
const cpu = process.cpuUsage(cpu0);
const t2 = performance.now();
const heapAfter = process.memoryUsage().heapUsed;
const pairs = prediction.probes.length;
const codes = new Map<number, number>();
let mtls = 0;
for (const p of prediction.probes) {
  codes.set(p.code, (codes.get(p.code) ?? 0) + 1);
  if (p.mtls) mtls++;
}
const reasons = new Set(prediction.probes.map((p) => p.reason)).size;
const seconds = (t2 - t1) / 1000;
console.log(`mesh: ${WORKLOADS} workloads in ${NAMESPACES} namespaces, ${objects.length} objects (built in ${(t1 - t0).toFixed(0)} ms)`);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
// CPU time as well as wall time: on a shared machine the wall clock also counts other processes.
console.log(
  `predict: ${pairs.toLocaleString("en-US")} pairs in ${seconds.toFixed(2)} s wall = ${Math.round(pairs / seconds).toLocaleString("en-US")} pairs/s; ` +
    `${cpuSeconds.toFixed(2)} s CPU = ${Math.round(pairs / cpuSeconds).toLocaleString("en-US")} pairs per CPU second`,
);
console.log(`heap: ${mb(heapAfter)} used after predict (${mb(heapAfter - heapBefore)} for the prediction), rss ${mb(process.memoryUsage().rss)}`);
console.log(`codes: ${[...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c === 0 ? "000" : c} × ${n.toLocaleString("en-US")}`).join(", ")}; mTLS ${mtls.toLocaleString("en-US")}; ${reasons.toLocaleString("en-US")} distinct reasons`);
