/**
 * The real transport's cluster access, against a local HTTP "API server": `kubernetes:kubeconfig`
 * as a path (absolute, relative, `~/…`) or as the document, as the Kubernetes provider reads it,
 * `kubernetes:context`, and the public-only reads the probe makes.
 */
import test from "ava";
import { createServer, type Server } from "node:http";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parse } from "yaml";
import { kubernetesTransport } from "../../probe/transport";

const requests: string[] = [];
let server: Server;
let dir: string;
let kubeconfigPath: string;
let kubeconfigText: string;

const podList = (namespace: string) => ({
  kind: "PodList",
  apiVersion: "v1",
  metadata: {},
  items: [
    {
      metadata: { name: `sleep-${namespace}-7d9f`, namespace, labels: { app: "sleep" } },
      status: {
        phase: "Running",
        containerStatuses: [{ name: "sleep", ready: true, image: "curl", imageID: "", restartCount: 0 }],
        initContainerStatuses: [{ name: "istio-proxy", ready: true, image: "proxyv2", imageID: "", restartCount: 0 }],
      },
    },
  ],
});

const certificateRequestList = {
  apiVersion: "cert-manager.io/v1",
  kind: "CertificateRequestList",
  metadata: {},
  items: [
    {
      apiVersion: "cert-manager.io/v1",
      kind: "CertificateRequest",
      metadata: { name: "cacerts-1", namespace: "istio-system", annotations: { "cert-manager.io/certificate-name": "cacerts", "cert-manager.io/certificate-revision": "1" } },
      status: { conditions: [{ type: "Ready", status: "True", reason: "Issued" }], ca: Buffer.from("ROOT PEM").toString("base64") },
    },
  ],
};

const kubeconfig = (server: string, contexts: string[] = ["local"], current = "local") =>
  [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: local",
    "  cluster:",
    `    server: ${server}`,
    // client-node refuses plain HTTP otherwise; the local fake API server has no TLS.
    "    insecure-skip-tls-verify: true",
    "users:",
    "- name: probe",
    "  user:",
    "    token: not-a-secret",
    "contexts:",
    ...contexts.flatMap((c) => [`- name: ${c}`, "  context:", "    cluster: local", "    user: probe"]),
    `current-context: ${current}`,
    "",
  ].join("\n");

test.before(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const url = new URL(req.url ?? "/", "http://x");
    const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    res.setHeader("content-type", "application/json");
    if (req.method === "GET" && pods) res.end(JSON.stringify(podList(pods[1]!)));
    else if (req.method === "GET" && url.pathname === "/apis/cert-manager.io/v1/namespaces/istio-system/certificaterequests") res.end(JSON.stringify(certificateRequestList));
    else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `no route ${url.pathname}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  dir = mkdtempSync(join(tmpdir(), "cluster-access-"));
  kubeconfigText = kubeconfig(`http://127.0.0.1:${port}`);
  kubeconfigPath = join(dir, "config");
  writeFileSync(kubeconfigPath, kubeconfigText);
});

test.after.always(() => server?.close());

async function listsPodsThrough(access: Parameters<typeof kubernetesTransport>[0]) {
  const before = requests.length;
  const pods = await kubernetesTransport(access).listPods("foo", { app: "sleep" });
  return { pods, request: requests.slice(before).at(-1) };
}

test.serial("kubernetes:kubeconfig as the PATH of a kubeconfig file: pods are listed through it", async (t) => {
  const { pods, request } = await listsPodsThrough({ kubeconfig: kubeconfigPath });
  t.is(request, "GET /api/v1/namespaces/foo/pods?labelSelector=app%3Dsleep");
  t.deepEqual(pods, [
    {
      namespace: "foo",
      name: "sleep-foo-7d9f",
      phase: "Running",
      terminating: false,
      containers: [
        { name: "sleep", ready: true },
        { name: "istio-proxy", ready: true, init: true },
      ],
    },
  ]);
});

test.serial("kubernetes:kubeconfig as the DOCUMENT itself: pods are listed through it", async (t) => {
  const { pods, request } = await listsPodsThrough({ kubeconfig: kubeconfigText });
  t.is(request, "GET /api/v1/namespaces/foo/pods?labelSelector=app%3Dsleep");
  t.is(pods[0]?.name, "sleep-foo-7d9f");
});

test.serial("kubernetes:kubeconfig as a JSON document, as Pulumi stores an object-valued config key", async (t) => {
  const json = JSON.stringify(parse(kubeconfigText));
  const { pods } = await listsPodsThrough({ kubeconfig: json });
  t.is(pods[0]?.name, "sleep-foo-7d9f");
});

test.serial("kubernetes:kubeconfig as a path relative to the working directory, or under ~ (expanded as the provider does)", async (t) => {
  const rel = relative(process.cwd(), kubeconfigPath);
  t.is((await listsPodsThrough({ kubeconfig: rel })).pods.length, 1);

  const home = mkdtempSync(join(tmpdir(), "cluster-access-home-"));
  mkdirSync(join(home, ".kube"));
  writeFileSync(join(home, ".kube", "probe-config"), kubeconfigText);
  const saved = process.env.HOME;
  process.env.HOME = home;
  try {
    t.is((await listsPodsThrough({ kubeconfig: "~/.kube/probe-config" })).pods.length, 1);
  } finally {
    process.env.HOME = saved;
  }
});

test.serial("no kubernetes:kubeconfig: default loading ($KUBECONFIG) as the provider does", async (t) => {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = kubeconfigPath;
  try {
    t.is((await listsPodsThrough({})).pods.length, 1);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});

test("a kubernetes:kubeconfig that is neither an existing file nor a kubeconfig document is an error naming the key and the value", (t) => {
  const missing = join(dir, "no-such-dir", "config");
  const e = t.throws(() => kubernetesTransport({ kubeconfig: missing }));
  t.regex(e!.message, /^kubernetes:kubeconfig: /);
  t.true(e!.message.includes(JSON.stringify(missing)), e!.message);
  t.regex(e!.message, /neither an existing file nor a kubeconfig document/);
  t.regex(e!.message, /allowed: /);
  t.notRegex(e!.message, /No active cluster/);

  const tilde = t.throws(() => kubernetesTransport({ kubeconfig: "~/.kube/does-not-exist" }));
  t.regex(tilde!.message, /^kubernetes:kubeconfig: "~\/\.kube\/does-not-exist" is neither an existing file/);
});

test("a multi-line kubernetes:kubeconfig that does not parse is an error that does not echo it (it may hold credentials)", (t) => {
  const e = t.throws(() => kubernetesTransport({ kubeconfig: "apiVersion: v1\nusers: [token: s3cr3t\n" }));
  t.regex(e!.message, /^kubernetes:kubeconfig: /);
  t.notRegex(e!.message, /s3cr3t/);
});

test("a kubernetes:kubeconfig naming a directory is an error", (t) => {
  const e = t.throws(() => kubernetesTransport({ kubeconfig: dir }));
  t.regex(e!.message, /^kubernetes:kubeconfig: .* is a directory/);
});

test("kubernetes:context that the kubeconfig does not define is an error naming the key, the value and the contexts it has", (t) => {
  const e = t.throws(() => kubernetesTransport({ kubeconfig: kubeconfigPath, context: "kind-nope" }));
  t.regex(e!.message, /^kubernetes:context: "kind-nope" is not a context of /);
  t.regex(e!.message, /allowed: local/);
  t.notRegex(e!.message, /No active cluster/);
});

test.serial("kubernetes:context selects one of several contexts", async (t) => {
  const file = join(dir, "two-contexts");
  writeFileSync(file, kubeconfigText.replace("current-context: local", "current-context: gone"));
  const e = t.throws(() => kubernetesTransport({ kubeconfig: file }));
  t.regex(e!.message, /current context "gone" is not one of its contexts/);
  t.regex(e!.message, /kubernetes:context/);
  t.is((await listsPodsThrough({ kubeconfig: file, context: "local" })).pods.length, 1);
});

test("the real transport reads only public material: no Secret reader, CertificateRequests listed from cert-manager.io/v1", async (t) => {
  const transport = kubernetesTransport({ kubeconfig: kubeconfigPath });
  t.deepEqual(Object.keys(transport).sort(), ["exec", "listCertificateRequests", "listPods", "readConfigMap"]);
  const crs = await transport.listCertificateRequests("istio-system");
  t.deepEqual(crs, [
    {
      name: "cacerts-1",
      annotations: { "cert-manager.io/certificate-name": "cacerts", "cert-manager.io/certificate-revision": "1" },
      conditions: [{ type: "Ready", status: "True", reason: "Issued" }],
      ca: Buffer.from("ROOT PEM").toString("base64"),
    },
  ]);
});

test("CertificateRequests not served (cert-manager absent) is a clear error", async (t) => {
  const transport = kubernetesTransport({ kubeconfig: kubeconfigPath });
  const e = await t.throwsAsync(transport.listCertificateRequests("elsewhere"));
  t.regex(e!.message, /certificaterequests\.cert-manager\.io in namespace elsewhere/);
});

test("a kubeconfig document without contexts, or with a broken cluster entry, is an error naming kubernetes:kubeconfig", (t) => {
  const empty = t.throws(() => kubernetesTransport({ kubeconfig: "apiVersion: v1\nkind: Config\n" }));
  t.regex(empty!.message, /^the kubernetes:kubeconfig document defines no context/);
  const broken = t.throws(() => kubernetesTransport({ kubeconfig: "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {}\n" }));
  t.regex(broken!.message, /^kubernetes:kubeconfig: the document is not a valid kubeconfig \(clusters\[0\]\.cluster\.server is missing\)/);
});
