/**
 * AuthorizationPolicy principals under another trust domain (istio/istio
 * pilot/pkg/security/trustdomain/bundle.go ReplaceTrustDomainAliases, via
 * pilot/pkg/security/authz/model/model.go MigrateTrustDomain): "cluster.local" points to the
 * mesh's trust domain.
 */
import test from "ava";
import { predict } from "../../../mesh/predict";
import { principalForTrustDomain } from "../../../mesh/model/trust-domain";
import type { KubeObject } from "../../../mesh/types";
import { authorizationPolicy, cell, demo, find } from "../fixtures";

test("principals naming cluster.local or the trust domain are enforced under the mesh's trust domain", (t) => {
  t.is(principalForTrustDomain("cluster.local/ns/foo/sa/sleep", "example.org"), "example.org/ns/foo/sa/sleep");
  t.is(principalForTrustDomain("example.org/ns/foo/sa/sleep", "example.org"), "example.org/ns/foo/sa/sleep");
  t.is(principalForTrustDomain("*.org/ns/foo/sa/sleep", "example.org"), "*.org/ns/foo/sa/sleep", "a wildcard trust domain that matches stays as written");
  t.is(principalForTrustDomain("other.org/ns/foo/sa/sleep", "example.org"), "other.org/ns/foo/sa/sleep", "another trust domain is kept, and never matches");
  t.is(principalForTrustDomain("*/ns/foo/sa/sleep", "example.org"), "*/ns/foo/sa/sleep", "a * trust domain is not enforced");
  t.is(principalForTrustDomain("cluster.local/ns/bar/*", "example.org"), "cluster.local/ns/bar/*", "not <td>/ns/<ns>/sa/<sa>: kept");
  t.is(principalForTrustDomain("cluster.local/ns/foo/sa/sleep", "cluster.local"), "cluster.local/ns/foo/sa/sleep");
});

test("found by the differential test: ALLOW cluster.local/ns/bar/sa/sleep lets sleep.bar in under trust domain example.org", (t) => {
  const mesh: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "istio", namespace: "istio-system" }, data: { mesh: "trustDomain: example.org\n" } };
  const allow = (principal: string) => authorizationPolicy("foo", "ap", { rules: [{ from: [{ source: { principals: [principal] } }] }] });
  const p = predict([...demo(), mesh, allow("cluster.local/ns/bar/sa/sleep")]);
  t.is(cell(find(p, "sleep.bar", "httpbin.foo:8000")), "200 mtls");
  t.is(cell(find(p, "sleep.foo", "httpbin.foo:8000")), "403 mtls");
  // Wrong world: a principal of another trust domain does not match.
  t.is(cell(find(predict([...demo(), mesh, allow("other.org/ns/bar/sa/sleep")]), "sleep.bar", "httpbin.foo:8000")), "403 mtls");
});
