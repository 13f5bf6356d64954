import test from "ava";
import fc from "fast-check";
import { didYouMean, formatKey } from "../../config/errors";
import {
  formatGoDuration,
  isServiceHost,
  isDnsLabel,
  isHttpsUrl,
  isLabelKey,
  isPrincipal,
  parseGoDuration,
  parsePrincipal,
  parseIstioVersion,
  parseSemver,
} from "../../config/values";

test("Go durations: units, fractions and sums as time.ParseDuration reads them", (t) => {
  t.is(parseGoDuration("87600h"), 87600 * 3_600_000);
  t.is(parseGoDuration("1h30m"), 5_400_000);
  t.is(parseGoDuration("1.5h"), 5_400_000);
  t.is(parseGoDuration("300ms"), 300);
  t.is(parseGoDuration("2m30s"), 150_000);
  for (const bad of ["", "10", "10y", "h", "1 h", "-1h", "0s", "1h 30m", "1d", "1000ns", "5us", ".5h"]) t.is(parseGoDuration(bad), undefined, bad);
});

test("property: h/m/s durations parse to their sum, and Go's spelling parses back to the same length", (t) => {
  fc.assert(
    fc.property(fc.nat(100_000), fc.nat(59), fc.nat(59), (h, m, s) => {
      fc.pre(h + m + s > 0);
      const ms = ((h * 60 + m) * 60 + s) * 1000;
      return parseGoDuration(`${h}h${m}m${s}s`) === ms && parseGoDuration(formatGoDuration(ms)) === ms;
    }),
  );
  t.is(formatGoDuration(3_600_000), "1h0m0s");
});

test("DNS-1123 labels", (t) => {
  for (const ok of ["foo", "a", "istio-system", "a1-b2", "x".repeat(63)]) t.true(isDnsLabel(ok), ok);
  for (const bad of ["", "Foo", "-a", "a-", "a.b", "a_b", "x".repeat(64)]) t.false(isDnsLabel(bad), bad);
});

test("label keys: optional DNS prefix, name up to 63 characters", (t) => {
  for (const ok of ["app", "app.kubernetes.io/name", "security.istio.io/tlsMode", "A_b.c-d"]) t.true(isLabelKey(ok), ok);
  for (const bad of ["", "/app", "a/b/c", "Example.COM/app", "-app", "x".repeat(64)]) t.false(isLabelKey(bad), bad);
});

test("DestinationRule hosts: names and a leading wildcard only", (t) => {
  for (const ok of ["*", "*.local", "httpbin", "httpbin.foo.svc.cluster.local", "*.foo.svc.cluster.local"]) t.true(isServiceHost(ok), ok);
  for (const bad of ["", "http://httpbin", "httpbin:8000", "httpbin.*.svc", "*httpbin", "**.local", "Httpbin"]) t.false(isServiceHost(bad), bad);
});

test("principals: Istio form, '*', or one leading or trailing '*'", (t) => {
  t.deepEqual(parsePrincipal("cluster.local/ns/foo/sa/sleep"), { trustDomain: "cluster.local", namespace: "foo", serviceAccount: "sleep" });
  for (const ok of ["*", "cluster.local/ns/foo/sa/sleep", "*/ns/foo/sa/sleep", "cluster.local/ns/foo/*"]) t.true(isPrincipal(ok), ok);
  for (const bad of ["", "spiffe://cluster.local/ns/foo/sa/sleep", "cluster.local/ns/*/sa/*", "**", "cluster.local/foo/sleep", "sleep"]) {
    t.false(isPrincipal(bad), bad);
  }
});

test("https URLs and versions", (t) => {
  t.true(isHttpsUrl("https://idp.example.com/.well-known/jwks.json"));
  for (const bad of ["http://idp.example.com", "idp.example.com", "https://", "file:///etc/jwks"]) t.false(isHttpsUrl(bad), bad);
  t.deepEqual(parseSemver("1.28.1"), [1, 28, 1]);
  t.deepEqual(parseSemver("v1.19.1", "v"), [1, 19, 1]);
  t.deepEqual(parseSemver("1.29.0-beta.1"), [1, 29, 0]);
  for (const bad of ["1.28", "v1.28.1", "1.28.x", ""]) t.is(parseSemver(bad), undefined, bad);
  t.deepEqual(parseIstioVersion("1.31-dev"), [1, 31, 0]);
  t.deepEqual(parseIstioVersion("1.28.1"), [1, 28, 1]);
  for (const bad of ["1.28", "1.31-", "1.31.dev", "v1.31-dev"]) t.is(parseIstioVersion(bad), undefined, bad);
});

test("key paths print like the YAML they point at", (t) => {
  t.is(formatKey(["mtls", "workloads", 0, "portLevelMtls", "80800"]), "istio-mtls:mtls.workloads[0].portLevelMtls.80800");
  t.is(formatKey(["mtls", "workloads", 0, "selector", "app.kubernetes.io/name"]), 'istio-mtls:mtls.workloads[0].selector["app.kubernetes.io/name"]');
});

test("suggestions only for near misses", (t) => {
  t.is(didYouMean("mtl", ["mtls", "intent"]), ' (did you mean "mtls"?)');
  t.is(didYouMean("destinationrules", ["destinationRules"]), ' (did you mean "destinationRules"?)');
  t.is(didYouMean("kubeconfig", ["mtls", "intent"]), "");
});
