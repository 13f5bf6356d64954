import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { ConfigError, loadStackConfigFile, readStackConfigFile, stackFileGetter, type StackConfig } from "../../config";

const ROOT = join(__dirname, "..", "..");

const ISTIO = {
  install: true,
  version: "1.28.1",
  chartRepository: "https://istio-release.storage.googleapis.com/charts",
  namespace: "istio-system",
  mesh: { rootNamespace: "istio-system", trustDomain: "cluster.local", enableAutoMtls: true },
  ingressGateway: false,
};
/** The ingress section both stack files leave at its defaults (the gateway Service a LoadBalancer). */
const INGRESS_OFF = { enabled: false, tls: false, host: "*", serviceType: "LoadBalancer" as const };

test("Pulumi.dev.yaml: the foo/bar/legacy demo with its policies and intent", (t) => {
  const expected: StackConfig = {
    production: false,
    istio: ISTIO,
    certManager: { install: true, version: "v1.19.1", namespace: "cert-manager" },
    ca: { type: "cert-manager", keyAlgorithm: "ECDSA", keySize: 256, rootDuration: "87600h", intermediateDuration: "8760h", intermediateRenewBefore: "720h" },
    namespaces: [
      { name: "foo", injection: true },
      { name: "bar", injection: true },
      { name: "legacy", injection: false },
    ],
    demo: { enabled: true },
    mtls: {
      namespaces: [{ namespace: "foo", mode: "STRICT" }],
      workloads: [
        {
          namespace: "bar",
          name: "httpbin",
          selector: { app: "httpbin" },
          mode: "STRICT",
          portLevelMtls: { 8080: "PERMISSIVE" },
          exception: { reason: "sleep.legacy has no sidecar yet; the demo shows port-level PERMISSIVE", expires: "2027-02-15" },
        },
      ],
    },
    destinationRules: [{ namespace: "legacy", name: "httpbin-legacy", host: "httpbin.legacy.svc.cluster.local", mode: "DISABLE" }],
    endUserAuth: [],
    authorization: [],
    ingress: INGRESS_OFF,
    probe: { enabled: true, alwaysRun: false, requestTimeoutSeconds: 5, deadlineSeconds: 180, concurrency: 4 },
    intent: [
      { from: "sleep.foo", to: "httpbin.foo:8000", expect: "mtls" },
      { from: "sleep.bar", to: "httpbin.foo:8000", expect: "mtls" },
      { from: "sleep.legacy", to: "httpbin.foo:8000", expect: "refused" },
      { from: "sleep.foo", to: "httpbin.bar:8000", expect: "mtls" },
      { from: "sleep.legacy", to: "httpbin.bar:8000", expect: "allowed" },
      { from: "sleep.foo", to: "httpbin.legacy:8000", expect: "allowed" },
      { from: "sleep.legacy", to: "httpbin.legacy:8000", expect: "allowed" },
    ],
  };
  t.deepEqual(loadStackConfigFile(join(ROOT, "Pulumi.dev.yaml")), expected);
});

test("Pulumi.prod.yaml: production, mesh-wide STRICT, no demo, the probe clients on", (t) => {
  const expected: StackConfig = {
    production: true,
    istio: ISTIO,
    certManager: { install: true, version: "v1.19.1", namespace: "cert-manager" },
    ca: { type: "cert-manager", keyAlgorithm: "ECDSA", keySize: 384, rootDuration: "87600h", intermediateDuration: "2160h", intermediateRenewBefore: "360h" },
    namespaces: [{ name: "shop", injection: true }],
    demo: { enabled: false },
    mtls: { mesh: { mode: "STRICT" }, namespaces: [], workloads: [] },
    destinationRules: [],
    endUserAuth: [],
    authorization: [],
    ingress: INGRESS_OFF,
    probe: { enabled: true, alwaysRun: false, requestTimeoutSeconds: 5, deadlineSeconds: 180, concurrency: 4 },
    intent: [],
  };
  t.deepEqual(loadStackConfigFile(join(ROOT, "Pulumi.prod.yaml")), expected);
});

test("every key in the stack files is an istio-mtls key, written as Pulumi expects", (t) => {
  for (const file of ["Pulumi.dev.yaml", "Pulumi.prod.yaml"]) {
    const keys = Object.keys(readStackConfigFile(join(ROOT, file)));
    t.true(keys.length > 0, file);
    t.true(keys.every((k) => k.startsWith("istio-mtls:")), `${file}: ${keys.join(", ")}`);
  }
});

function stackFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "istio-mtls-config-"));
  const path = join(dir, "Pulumi.test.yaml");
  writeFileSync(path, text);
  return path;
}

test("readStackConfigFile returns the config map as written, other namespaces included", (t) => {
  const path = stackFile("config:\n  kubernetes:context: kind\n  istio-mtls:production: true\n  istio-mtls:probe:\n    concurrency: 2\n");
  t.deepEqual(readStackConfigFile(path), { "kubernetes:context": "kind", "istio-mtls:production": true, "istio-mtls:probe": { concurrency: 2 } });
  const c = loadStackConfigFile(path);
  t.true(c.production);
  t.is(c.probe.concurrency, 2);
});

test("`config: {}` loads the defaults; a file without a config block, or with a misspelt one, is an error naming it", (t) => {
  t.false(loadStackConfigFile(stackFile("config: {}\n")).production);
  t.deepEqual(readStackConfigFile(stackFile("encryptionsalt: abc\nconfig:\n")), {});
  t.throws(() => readStackConfigFile(stackFile("")), { message: /: expected a YAML map with a "config:" key, found an empty file; allowed: a stack file \(write "config: \{\}" for the defaults\)$/ });
  t.throws(() => readStackConfigFile(stackFile("encryptionsalt: abc\n")), { message: /: no "config:" block, so every setting would be a default; allowed: a "config:" map/ });
  t.throws(() => readStackConfigFile(stackFile("configs:\n  istio-mtls:production: true\n")), {
    message: /: "configs" is not a stack file key \(did you mean "config"\?\); allowed: config, environment, secretsprovider, encryptedkey, encryptionsalt$/,
  });
});

test("a near-miss of the istio-mtls namespace is an error naming the key; other providers' keys are not ours", (t) => {
  const e = t.throws(() => loadStackConfigFile(stackFile("config:\n  istio-mtl:production: true\n  kubernetes:context: kind\n")), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, [
    'istio-mtl:production: namespace "istio-mtl" is not istio-mtls (did you mean "istio-mtls:production"?); allowed: istio-mtls:<key>, or another provider\'s namespace (e.g. kubernetes:context)',
  ]);
  t.notThrows(() => loadStackConfigFile(stackFile("config:\n  kubernetes:context: kind\n  aws:region: eu-west-1\n")));
});

test("a misspelt key in a stack file is reported with the allowed keys", (t) => {
  const e = t.throws(() => loadStackConfigFile(stackFile("config:\n  istio-mtls:prodution: true\n")), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, [
    'istio-mtls:prodution: "prodution" is not a config key (did you mean "production"?); allowed: production, istio, certManager, ca, namespaces, demo, mtls, destinationRules, endUserAuth, authorization, ingress, probe, intent',
  ]);
});

test("YAML 1.2 scalars: yes is a string, not a boolean (as Pulumi reads it)", (t) => {
  const e = t.throws(() => loadStackConfigFile(stackFile("config:\n  istio-mtls:production: yes\n")), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, ['istio-mtls:production: "yes" is not a boolean; allowed: true or false']);
});

test("an unquoted port key in YAML still loads as the port", (t) => {
  const path = stackFile(
    "config:\n  istio-mtls:namespaces: [{name: foo}]\n  istio-mtls:mtls:\n    workloads:\n      - {namespace: foo, name: h, selector: {app: httpbin}, portLevelMtls: {8080: DISABLE}}\n",
  );
  t.deepEqual(loadStackConfigFile(path).mtls.workloads[0].portLevelMtls, { 8080: "DISABLE" });
});

test("encrypted values are refused by the file loader, naming the key", (t) => {
  const config = readStackConfigFile(stackFile("config:\n  istio-mtls:production:\n    secure: AAABAG==\n"));
  const e = t.throws(() => stackFileGetter(config)("production"), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, ['istio-mtls:production: "{secure: …}" is an encrypted value; allowed: plain values in the stack file (this config holds no secrets)']);
});

test("malformed stack files: the error names the file and what was expected", (t) => {
  const bad = stackFile("config:\n  a: [\n");
  t.throws(() => readStackConfigFile(bad), { message: new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3:1: not valid YAML: `) });
  t.throws(() => readStackConfigFile(stackFile("- a\n- b\n")), { message: /expected a YAML map with a "config:" key, found a list; allowed: a stack file/ });
  t.throws(() => readStackConfigFile(stackFile("config: [1]\n")), { message: /"config:" must be a map of "<namespace>:<key>" to value, found a list$/ });
  t.throws(() => readStackConfigFile(stackFile("config:\n  istio-mtls:demo: {}\n  istio-mtls:demo: {}\n")), { message: /:3:3: not valid YAML: .*unique/i });
});
