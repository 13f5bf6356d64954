package oracle

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	rbacpb "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	matcherpb "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
)

// ---- RBAC evaluation --------------------------------------------------------

func principalFS(m *matcherpb.StringMatcher) *rbacpb.Principal {
	return &rbacpb.Principal{Identifier: &rbacpb.Principal_FilterState{FilterState: &matcherpb.FilterStateMatcher{
		Key: peerPrincipalKey, Matcher: &matcherpb.FilterStateMatcher_StringMatch{StringMatch: m},
	}}}
}

func exact(s string) *matcherpb.StringMatcher {
	return &matcherpb.StringMatcher{MatchPattern: &matcherpb.StringMatcher_Exact{Exact: s}}
}

func regex(s string) *matcherpb.StringMatcher {
	return &matcherpb.StringMatcher{MatchPattern: &matcherpb.StringMatcher_SafeRegex{SafeRegex: &matcherpb.RegexMatcher{Regex: s}}}
}

func anyPermission() *rbacpb.Permission {
	return &rbacpb.Permission{Rule: &rbacpb.Permission_Any{Any: true}}
}

func rbac(action rbacpb.RBAC_Action, principals ...*rbacpb.Principal) *rbacpb.RBAC {
	return &rbacpb.RBAC{Action: action, Policies: map[string]*rbacpb.Policy{
		"p": {Permissions: []*rbacpb.Permission{anyPermission()}, Principals: principals},
	}}
}

const sleepFoo = "spiffe://cluster.local/ns/foo/sa/sleep"

func TestRBACPrincipalNeedsAPeer(t *testing.T) {
	allow := rbac(rbacpb.RBAC_ALLOW, principalFS(exact(sleepFoo)))
	if v, _ := evaluateRBAC(allow, Peer{Principal: sleepFoo, Port: 8080}); !v.Allowed {
		t.Errorf("mTLS peer %s: want allowed, got %+v", sleepFoo, v)
	}
	// Wrong world: a plaintext request (no peer) must not match a principal.
	if v, _ := evaluateRBAC(allow, Peer{Port: 8080}); v.Allowed {
		t.Errorf("plaintext: want denied, got %+v", v)
	}
	if v, _ := evaluateRBAC(allow, Peer{Principal: "spiffe://cluster.local/ns/bar/sa/sleep", Port: 8080}); v.Allowed {
		t.Errorf("another principal: want denied, got %+v", v)
	}
}

func TestRBACNotPrincipalsMatchesPlaintext(t *testing.T) {
	// DENY notPrincipals ["*"]: Istio generates NOT(any authenticated peer); plaintext matches it.
	notAny := &rbacpb.Principal{Identifier: &rbacpb.Principal_NotId{NotId: principalFS(regex(".+"))}}
	deny := rbac(rbacpb.RBAC_DENY, notAny)
	if v, _ := evaluateRBAC(deny, Peer{Port: 8080}); v.Allowed {
		t.Errorf("plaintext against DENY notPrincipals *: want denied, got %+v", v)
	}
	if v, _ := evaluateRBAC(deny, Peer{Principal: sleepFoo, Port: 8080}); !v.Allowed {
		t.Errorf("mTLS against DENY notPrincipals *: want allowed, got %+v", v)
	}
}

func TestRBACNamespaceRegexAndPorts(t *testing.T) {
	ns := principalFS(regex(".*/ns/foo/.*"))
	p := &rbacpb.RBAC{Action: rbacpb.RBAC_ALLOW, Policies: map[string]*rbacpb.Policy{"p": {
		Permissions: []*rbacpb.Permission{{Rule: &rbacpb.Permission_DestinationPort{DestinationPort: 8080}}},
		Principals:  []*rbacpb.Principal{ns},
	}}}
	if v, _ := evaluateRBAC(p, Peer{Principal: sleepFoo, Port: 8080}); !v.Allowed {
		t.Errorf("namespace foo, port 8080: want allowed, got %+v", v)
	}
	if v, _ := evaluateRBAC(p, Peer{Principal: sleepFoo, Port: 9090}); v.Allowed {
		t.Errorf("port 9090: want denied, got %+v", v)
	}
	// The regex is anchored: "foo" inside another namespace name does not match.
	if v, _ := evaluateRBAC(p, Peer{Principal: "spiffe://cluster.local/ns/foobar/sa/sleep", Port: 8080}); v.Allowed {
		t.Errorf("namespace foobar: want denied, got %+v", v)
	}
}

func TestRBACEmptyAllowDeniesAndNilRulesAllow(t *testing.T) {
	if v, _ := evaluateRBAC(&rbacpb.RBAC{Action: rbacpb.RBAC_ALLOW}, Peer{Principal: sleepFoo}); v.Allowed {
		t.Errorf("ALLOW without policies: want denied, got %+v", v)
	}
	if v, _ := evaluateRBAC(nil, Peer{}); !v.Allowed {
		t.Errorf("no rules: want allowed, got %+v", v)
	}
}

func TestRBACUnsupportedMatcherIsALimit(t *testing.T) {
	header := &rbacpb.Principal{Identifier: &rbacpb.Principal_Header{}}
	_, err := evaluateRBAC(rbac(rbacpb.RBAC_ALLOW, header), Peer{Principal: sleepFoo})
	var lim Limit
	if !errors.As(err, &lim) {
		t.Fatalf("a header principal: want a Limit, got %v", err)
	}
	cond := rbac(rbacpb.RBAC_DENY, principalFS(exact(sleepFoo)))
	cond.Policies["p"].Permissions = []*rbacpb.Permission{{Rule: &rbacpb.Permission_UrlPath{}}}
	if _, err := evaluateRBAC(cond, Peer{Principal: sleepFoo}); !errors.As(err, &lim) {
		t.Fatalf("a path permission: want a Limit, got %v", err)
	}
}

// ---- whole scenarios through the fake istiod -----------------------------------

func demoNamespace(name string, labels string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata:
  name: %s
  labels: {%s}
`, name, labels)
}

func demoDeployment(app, containerPorts string) string {
	return fmt.Sprintf(`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: NS}
spec:
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      serviceAccountName: %[1]s
      containers: [{name: %[1]s, image: %[1]s%[2]s}]
`, app, containerPorts)
}

func demoApps(ns string) string {
	return strings.ReplaceAll(`---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: NS}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
`+demoDeployment("httpbin", ", ports: [{containerPort: 8080}]")+demoDeployment("sleep", ""), "NS", ns) + "---\n"
}

func demo() string {
	return demoNamespace("foo", "istio-injection: enabled") + demoApps("foo") +
		demoNamespace("legacy", "") + demoApps("legacy")
}

func cells(t *testing.T, yaml string) map[string]Cell {
	t.Helper()
	out := Evaluate(t, yaml)
	if out.Error != "" || out.Limit != "" || out.Rejected != "" {
		t.Fatalf("no cells: %+v", out)
	}
	m := map[string]Cell{}
	for _, c := range out.Cells {
		m[c.From+"→"+c.To] = c
	}
	return m
}

func want(t *testing.T, got map[string]Cell, pair string, code int, mtls bool) {
	t.Helper()
	c, ok := got[pair]
	if !ok {
		t.Errorf("%s: no cell", pair)
		return
	}
	if c.Code != code || c.MTLS != mtls {
		t.Errorf("%s: want %d mtls=%v, got %d mtls=%v (%+v)", pair, code, mtls, c.Code, c.MTLS, c.Evidence)
	}
}

func TestDemoWithoutPolicies(t *testing.T) {
	got := cells(t, demo())
	want(t, got, "sleep.foo→httpbin.foo:8000", 200, true)
	want(t, got, "sleep.foo→httpbin.legacy:8000", 200, false)
	want(t, got, "sleep.legacy→httpbin.foo:8000", 200, false)
	if !got["sleep.foo→httpbin.foo:8000"].Evidence.ClientSidecar || got["sleep.legacy→httpbin.foo:8000"].Evidence.ClientSidecar {
		t.Errorf("injection: foo has istio-injection=enabled, legacy no label")
	}
}

func TestStrictAndDestinationRules(t *testing.T) {
	got := cells(t, demo()+`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: all, namespace: foo}
spec:
  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`)
	want(t, got, "sleep.legacy→httpbin.foo:8000", 0, false)
	want(t, got, "sleep.foo→httpbin.foo:8000", 200, true)
	// ISTIO_MUTUAL to a workload without sidecar: TLS reaches a plaintext app.
	want(t, got, "sleep.foo→httpbin.legacy:8000", 503, false)
}

func TestShortHostResolvesInTheRuleNamespace(t *testing.T) {
	// host "httpbin" in legacy is httpbin.legacy.svc.cluster.local, for every client it is exported to.
	got := cells(t, demo()+`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: short, namespace: legacy}
spec:
  host: httpbin
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
`)
	want(t, got, "sleep.foo→httpbin.legacy:8000", 503, false)
}

func TestAuthorizationPolicyDeniesByNamespace(t *testing.T) {
	got := cells(t, demo()+`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: only-legacy-no, namespace: foo}
spec:
  action: DENY
  rules: [{from: [{source: {notNamespaces: ["foo"]}}]}]
`)
	want(t, got, "sleep.foo→httpbin.foo:8000", 200, true)
	// Plaintext has no namespace: notNamespaces matches it.
	want(t, got, "sleep.legacy→httpbin.foo:8000", 403, false)
}

func TestRejectedAndLimits(t *testing.T) {
	out := Evaluate(t, demo()+`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-nothing, namespace: foo}
spec: {action: DENY}
`)
	if out.Rejected == "" {
		t.Errorf("DENY without rules: want rejected, got %+v", out)
	}
	out = Evaluate(t, demo()+`apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: foo}
spec: {jwtRules: [{issuer: x}]}
`)
	if out.Limit == "" {
		t.Errorf("RequestAuthentication: want a limit, got %+v", out)
	}
}

func TestRevisionNeedsItsWebhook(t *testing.T) {
	ns := demoNamespace("foo", "istio.io/rev: canary") + demoApps("foo")
	// No MutatingWebhookConfiguration in the input: only the default revision is installed.
	got := cells(t, ns)
	if got["sleep.foo→httpbin.foo:8000"].Evidence.ClientSidecar {
		t.Errorf("istio.io/rev=canary without canary installed: want no sidecar")
	}
	canary, err := RenderChart("canary")
	if err != nil {
		t.Fatal(err)
	}
	canary.Webhook.APIVersion, canary.Webhook.Kind = "admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"
	hook, err := yamlDocs(canary.Webhook)
	if err != nil {
		t.Fatal(err)
	}
	got = cells(t, ns+hook)
	if !got["sleep.foo→httpbin.foo:8000"].Evidence.ClientSidecar {
		t.Errorf("istio.io/rev=canary with the canary webhook: want a sidecar")
	}
	want(t, got, "sleep.foo→httpbin.foo:8000", 200, true)
}
