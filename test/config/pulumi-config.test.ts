/**
 * How the values arrive from Pulumi: the CLI hands the program every config value as a string
 * (objects as JSON). `getObject` JSON-parses them; `pulumi config set x 5` stores "5", and
 * `pulumi config set --path probe.concurrency 4` may store "4" inside the object.
 */
import * as pulumi from "@pulumi/pulumi";
import test from "ava";
import { ConfigError, loadStackConfig, pulumiConfigGetter } from "../../config";

function withConfig(values: Record<string, string>): pulumi.Config {
  pulumi.runtime.setAllConfig(values);
  return new pulumi.Config("istio-mtls");
}

const VALUES = {
  "kubernetes:context": "kind-istio-mtls",
  "istio-mtls:production": "true",
  "istio-mtls:namespaces": '[{"name":"foo","injection":"false"}]',
  "istio-mtls:probe": '{"requestTimeoutSeconds":"5","deadlineSeconds":60,"concurrency":"2","alwaysRun":"true"}',
  "istio-mtls:ca": '{"keyAlgorithm":"RSA","keySize":"3072"}',
  "istio-mtls:mtls": '{"mesh":"STRICT","workloads":[{"namespace":"foo","name":"h","selector":{"app":"httpbin","version":1},"portLevelMtls":{"8080":"DISABLE"}}]}',
};

test.serial("getObject as index.ts calls it: YAML booleans and numbers, and their strings, are accepted", (t) => {
  const cfg = withConfig(VALUES);
  const c = loadStackConfig((k) => cfg.getObject(k), Object.keys(pulumi.runtime.allConfig()));
  t.true(c.production);
  t.deepEqual(c.namespaces, [{ name: "foo", injection: false }]);
  t.deepEqual(c.probe, { enabled: true, alwaysRun: true, requestTimeoutSeconds: 5, deadlineSeconds: 60, concurrency: 2 });
  t.is(c.ca.keySize, 3072);
  // A numeric label value in YAML is the label's text.
  t.deepEqual(c.mtls.workloads[0].selector, { app: "httpbin", version: "1" });
  t.deepEqual(c.mtls.mesh, { mode: "STRICT" });
});

test.serial("pulumiConfigGetter: the same values through Config.get, with non-JSON scalars kept as strings", (t) => {
  const cfg = withConfig({ ...VALUES, "istio-mtls:production": "false" });
  const c = loadStackConfig(pulumiConfigGetter(cfg), Object.keys(pulumi.runtime.allConfig()));
  t.false(c.production);
  t.is(c.probe.concurrency, 2);

  // getObject would throw Pulumi's own "not a valid JSON object"; the getter lets the schema say what is allowed.
  const bad = withConfig({ "istio-mtls:production": "yes" });
  t.throws(() => bad.getObject("production"));
  const e = t.throws(() => loadStackConfig(pulumiConfigGetter(bad), Object.keys(pulumi.runtime.allConfig())), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, ['istio-mtls:production: "yes" is not a boolean; allowed: true or false']);
});

test.serial("a misspelt key set with `pulumi config set` is reported with the allowed keys", (t) => {
  const cfg = withConfig({ "istio-mtls:probes": '{"enabled":false}' });
  const e = t.throws(() => loadStackConfig(pulumiConfigGetter(cfg), Object.keys(pulumi.runtime.allConfig())), { instanceOf: ConfigError })!;
  t.deepEqual(e.lines, [
    'istio-mtls:probes: "probes" is not a config key (did you mean "probe"?); allowed: production, istio, certManager, ca, namespaces, demo, mtls, destinationRules, endUserAuth, authorization, ingress, probe, intent',
  ]);
});

test("string scalars: only exact booleans and whole numbers are converted", (t) => {
  const get = (v: Record<string, unknown>) => (k: string) => v[k];
  t.is(loadStackConfig(get({ probe: { concurrency: " 7 " } })).probe.concurrency, 7);
  const e = t.throws(() => loadStackConfig(get({ production: "True", probe: { concurrency: "4.5", deadlineSeconds: "3m" } })), {
    instanceOf: ConfigError,
  })!;
  t.deepEqual(e.lines, [
    'istio-mtls:production: "True" is not a boolean; allowed: true or false',
    'istio-mtls:probe.deadlineSeconds: "3m" is not a number of seconds; allowed: an integer from 1 to 3600',
    'istio-mtls:probe.concurrency: "4.5" is not a concurrency; allowed: an integer from 1 to 100',
  ]);
});
