import test from "ava";
import { planStack } from "../../../mesh/plan";
import { stackSettings } from "../../helpers/settings";
import { buildHttpbin, buildNamespace, buildSleep } from "../../../mesh/builders";

const SECURITY = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsGroup: 65532,
  runAsNonRoot: true,
  runAsUser: 65532,
  seccompProfile: { type: "RuntimeDefault" },
};

test("namespace: injection enabled, revision, disabled and unlabelled", (t) => {
  t.deepEqual(buildNamespace({ name: "foo", injection: true }), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "foo", labels: { "istio-injection": "enabled" } },
  });
  t.deepEqual(buildNamespace({ name: "foo", injection: true, revision: "1-28" }).metadata.labels, { "istio.io/rev": "1-28" });
  t.deepEqual(buildNamespace({ name: "legacy", injection: false }).metadata.labels, { "istio-injection": "disabled" });
  t.deepEqual(buildNamespace({ name: "plain" }), { apiVersion: "v1", kind: "Namespace", metadata: { name: "plain" } });
});

test("namespace: an invalid name is refused with the value and what is allowed", (t) => {
  const e = t.throws(() => buildNamespace({ name: "Foo_1", injection: true }));
  t.regex(e!.message, /namespace name: "Foo_1" is not a valid name; allowed: lower-case/);
});

test("httpbin: exact ServiceAccount, Service and Deployment", (t) => {
  const o = buildHttpbin("foo");
  t.deepEqual(o.serviceAccount, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "httpbin", namespace: "foo" } });
  t.deepEqual(o.service, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "httpbin", namespace: "foo", labels: { app: "httpbin", service: "httpbin" } },
    spec: { selector: { app: "httpbin" }, ports: [{ name: "http", port: 8000, protocol: "TCP", targetPort: 8080 }] },
  });
  const probe = (d: number) => ({ httpGet: { path: "/status/200", port: 8080 }, initialDelaySeconds: d, periodSeconds: 10 });
  t.deepEqual(o.deployment, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "httpbin", namespace: "foo", labels: { app: "httpbin", version: "v1" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "httpbin", version: "v1" } },
      template: {
        metadata: { labels: { app: "httpbin", version: "v1" } },
        spec: {
          serviceAccountName: "httpbin",
          containers: [
            {
              name: "httpbin",
              image: "docker.io/mccutchen/go-httpbin:v2.15.0",
              command: ["/bin/go-httpbin"],
              args: ["-port", "8080"],
              ports: [{ containerPort: 8080, name: "http", protocol: "TCP" }],
              readinessProbe: probe(2),
              livenessProbe: probe(5),
              resources: { limits: { cpu: "200m", memory: "128Mi" }, requests: { cpu: "10m", memory: "32Mi" } },
              securityContext: SECURITY,
            },
          ],
        },
      },
    },
  });
});

test("sleep: exact ServiceAccount and Deployment, container named sleep, no Service", (t) => {
  const o = buildSleep("legacy");
  t.deepEqual(o.serviceAccount, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sleep", namespace: "legacy" } });
  t.deepEqual(o.deployment, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "sleep", namespace: "legacy", labels: { app: "sleep" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "sleep" } },
      template: {
        metadata: { labels: { app: "sleep" } },
        spec: {
          serviceAccountName: "sleep",
          terminationGracePeriodSeconds: 0,
          containers: [
            {
              name: "sleep",
              image: "docker.io/curlimages/curl:8.16.0",
              command: ["/bin/sleep", "infinity"],
              resources: { limits: { cpu: "100m", memory: "32Mi" }, requests: { cpu: "5m", memory: "8Mi" } },
              securityContext: SECURITY,
            },
          ],
        },
      },
    },
  });
});

test("httpbin names its program: go-httpbin's image has only CMD, which args alone would replace", (t) => {
  const [c] = buildHttpbin("foo").deployment.spec.template.spec.containers as { command?: string[]; args?: string[] }[];
  // Without a command Kubernetes runs args[0] ("-port") as the program and the pod never starts.
  t.deepEqual(c.command, ["/bin/go-httpbin"]);
  t.deepEqual(c.args, ["-port", "8080"]);
});

test("images are the ones Istio's samples run (httpbin.yaml, curl.yaml/sleep.yaml)", (t) => {
  const image = (d: { spec: { template: { spec: Record<string, unknown> } } }) => (d.spec.template.spec.containers as { image: string }[])[0].image;
  t.is(image(buildHttpbin("a").deployment), "docker.io/mccutchen/go-httpbin:v2.15.0");
  t.is(image(buildSleep("a").deployment), "docker.io/curlimages/curl:8.16.0");
});

test("images are pinned by tag, never latest", (t) => {
  for (const d of [buildHttpbin("a").deployment, buildSleep("a").deployment]) {
    const image = (d.spec.template.spec.containers as { image: string }[])[0].image;
    t.regex(image, /:v?\d+\.\d+\.\d+$/);
  }
});

test("demo workloads of a namespace: five objects in apply order, then the probe clients", (t) => {
  const plan = planStack(stackSettings({ namespaces: [{ name: "bar", injection: true }], demo: { enabled: true } }));
  t.deepEqual(
    plan.phases.find((p) => p.name === "workloads")!.items.map((i) => ("object" in i ? `${i.object.kind}/${i.object.metadata.namespace}/${i.object.metadata.name}` : i.id)),
    [
      "ServiceAccount/bar/httpbin",
      "Service/bar/httpbin",
      "Deployment/bar/httpbin",
      "ServiceAccount/bar/sleep",
      "Deployment/bar/sleep",
      "ServiceAccount/bar/istio-mtls-probe",
      "Deployment/bar/istio-mtls-probe",
      "ServiceAccount/istio-mtls-probe/istio-mtls-probe",
      "Deployment/istio-mtls-probe/istio-mtls-probe",
    ],
  );
});
