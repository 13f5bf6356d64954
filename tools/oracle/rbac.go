package oracle

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	rbacpb "github.com/envoyproxy/go-control-plane/envoy/config/rbac/v3"
	rbachttp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	rbactcp "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/rbac/v3"
	matcherpb "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Envoy's RBAC filter is C++; this evaluates the RBAC config Istio generated
// for the matched inbound filter chain, as Envoy's RoleBasedAccessControlEngine
// does (source/extensions/filters/common/rbac/engine_impl.cc, matchers.cc):
// a policy matches when one of its permissions and one of its principals
// match; ALLOW denies unless a policy matches, DENY denies when one does.
// Only what AuthorizationPolicy principals, namespaces and ports generate is
// read; any other matcher is an error (a Limit), never a guess.

// Peer is the downstream connection as the server sidecar sees it.
type Peer struct {
	// URI SAN of the client certificate (spiffe://...), set only over mTLS.
	Principal string
	// The connection's local (destination) port: the workload port.
	Port uint32
}

// RBACVerdict is the result of every RBAC filter of the chain, in order.
type RBACVerdict struct {
	Allowed bool   `json:"allowed"`
	Why     string `json:"why"`
}

const peerPrincipalKey = "io.istio.peer_principal"

// rbacFilter is what the network and HTTP RBAC filter configs share.
type rbacFilter interface {
	proto.Message
	GetRules() *rbacpb.RBAC
}

// runFilter evaluates one RBAC filter's typed config (a matcher tree is a limit).
func runFilter(config *anypb.Any, c rbacFilter, hasMatcher func() bool, peer Peer) (RBACVerdict, error) {
	if err := config.UnmarshalTo(c); err != nil {
		return RBACVerdict{}, err
	}
	if hasMatcher() {
		return RBACVerdict{}, Limit{"RBAC with a matcher tree is not evaluated"}
	}
	return evaluateRBAC(c.GetRules(), peer)
}

// EvaluateChain runs the chain's network RBAC filters, then its HTTP ones.
func EvaluateChain(fc *listener.FilterChain, peer Peer) (RBACVerdict, error) {
	var checked []string
	step := func(v RBACVerdict, err error) bool {
		if err == nil && v.Allowed {
			checked = append(checked, v.Why)
		}
		return err == nil && v.Allowed
	}
	for _, f := range fc.GetFilters() {
		switch f.GetName() {
		case "envoy.filters.network.rbac":
			c := &rbactcp.RBAC{}
			if v, err := runFilter(f.GetTypedConfig(), c, func() bool { return c.GetMatcher() != nil }, peer); !step(v, err) {
				return v, err
			}
		case "envoy.filters.network.http_connection_manager":
			m := &hcm.HttpConnectionManager{}
			if err := f.GetTypedConfig().UnmarshalTo(m); err != nil {
				return RBACVerdict{}, err
			}
			for _, hf := range m.GetHttpFilters() {
				switch hf.GetName() {
				case "envoy.filters.http.rbac":
					c := &rbachttp.RBAC{}
					if v, err := runFilter(hf.GetTypedConfig(), c, func() bool { return c.GetMatcher() != nil }, peer); !step(v, err) {
						return v, err
					}
				case "envoy.filters.http.ext_authz", "envoy.filters.http.jwt_authn":
					return RBACVerdict{}, Limit{hf.GetName() + " (CUSTOM authorization or JWT) is not evaluated"}
				}
			}
		}
	}
	if len(checked) == 0 {
		return RBACVerdict{Allowed: true, Why: "no RBAC filter"}, nil
	}
	return RBACVerdict{Allowed: true, Why: strings.Join(checked, "; ")}, nil
}

// evaluateRBAC: nil rules enforce nothing; ALLOW with no policy denies all.
func evaluateRBAC(r *rbacpb.RBAC, peer Peer) (RBACVerdict, error) {
	if r == nil {
		return RBACVerdict{Allowed: true, Why: "RBAC without rules"}, nil
	}
	// Envoy evaluates policies in lexicographic order of their names.
	names := make([]string, 0, len(r.GetPolicies()))
	for n := range r.GetPolicies() {
		names = append(names, n)
	}
	sort.Strings(names)
	matched := ""
	for _, n := range names {
		ok, err := policyMatches(r.GetPolicies()[n], peer)
		if err != nil {
			return RBACVerdict{}, fmt.Errorf("policy %s: %w", n, err)
		}
		if ok {
			matched = n
			break
		}
	}
	switch r.GetAction() {
	case rbacpb.RBAC_ALLOW:
		if matched == "" {
			return RBACVerdict{Allowed: false, Why: fmt.Sprintf("ALLOW RBAC: none of %d policies matches", len(names))}, nil
		}
		return RBACVerdict{Allowed: true, Why: "ALLOW RBAC: " + matched + " matches"}, nil
	case rbacpb.RBAC_DENY:
		if matched != "" {
			return RBACVerdict{Allowed: false, Why: "DENY RBAC: " + matched + " matches"}, nil
		}
		return RBACVerdict{Allowed: true, Why: fmt.Sprintf("DENY RBAC: none of %d policies matches", len(names))}, nil
	case rbacpb.RBAC_LOG:
		return RBACVerdict{Allowed: true, Why: "LOG RBAC"}, nil
	}
	return RBACVerdict{}, Limit{fmt.Sprintf("RBAC action %v", r.GetAction())}
}

func policyMatches(p *rbacpb.Policy, peer Peer) (bool, error) {
	if p.GetCondition() != nil || p.GetCheckedCondition() != nil {
		return false, Limit{"RBAC policy with a CEL condition"}
	}
	if ok, err := some(p.GetPermissions(), peer, permissionMatches); err != nil || !ok {
		return false, err
	}
	return some(p.GetPrincipals(), peer, principalMatches)
}

// every and some: Envoy's and_rules/and_ids and or_rules/or_ids (and a
// policy's lists), stopping at the first answer; an error is never a match.
func every[T any](items []T, peer Peer, match func(T, Peer) (bool, error)) (bool, error) {
	for _, x := range items {
		if ok, err := match(x, peer); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func some[T any](items []T, peer Peer, match func(T, Peer) (bool, error)) (bool, error) {
	for _, x := range items {
		if ok, err := match(x, peer); err != nil || ok {
			return ok && err == nil, err
		}
	}
	return false, nil
}

func permissionMatches(p *rbacpb.Permission, peer Peer) (bool, error) {
	switch r := p.GetRule().(type) {
	case *rbacpb.Permission_Any:
		return r.Any, nil
	case *rbacpb.Permission_AndRules:
		return every(r.AndRules.GetRules(), peer, permissionMatches)
	case *rbacpb.Permission_OrRules:
		return some(r.OrRules.GetRules(), peer, permissionMatches)
	case *rbacpb.Permission_NotRule:
		ok, err := permissionMatches(r.NotRule, peer)
		return !ok, err
	case *rbacpb.Permission_DestinationPort:
		return r.DestinationPort == peer.Port, nil
	case *rbacpb.Permission_DestinationPortRange:
		return int64(peer.Port) >= int64(r.DestinationPortRange.GetStart()) && int64(peer.Port) < int64(r.DestinationPortRange.GetEnd()), nil
	}
	return false, Limit{fmt.Sprintf("RBAC permission %T is not evaluated", p.GetRule())}
}

func principalMatches(p *rbacpb.Principal, peer Peer) (bool, error) {
	switch id := p.GetIdentifier().(type) {
	case *rbacpb.Principal_Any:
		return id.Any, nil
	case *rbacpb.Principal_AndIds:
		return every(id.AndIds.GetIds(), peer, principalMatches)
	case *rbacpb.Principal_OrIds:
		return some(id.OrIds.GetIds(), peer, principalMatches)
	case *rbacpb.Principal_NotId:
		ok, err := principalMatches(id.NotId, peer)
		return !ok, err
	case *rbacpb.Principal_Authenticated_:
		// Envoy's AuthenticatedMatcher: no TLS peer certificate, no match.
		if peer.Principal == "" {
			return false, nil
		}
		if id.Authenticated.GetPrincipalName() == nil {
			return true, nil
		}
		return stringMatches(id.Authenticated.GetPrincipalName(), peer.Principal)
	case *rbacpb.Principal_FilterState:
		// Istio's peer principal in filter state (istio_authn), present only over mTLS.
		if id.FilterState.GetKey() != peerPrincipalKey {
			return false, Limit{"filter state key " + id.FilterState.GetKey()}
		}
		sm, ok := id.FilterState.GetMatcher().(*matcherpb.FilterStateMatcher_StringMatch)
		if !ok {
			return false, Limit{fmt.Sprintf("filter state matcher %T", id.FilterState.GetMatcher())}
		}
		if peer.Principal == "" {
			return false, nil
		}
		return stringMatches(sm.StringMatch, peer.Principal)
	}
	return false, Limit{fmt.Sprintf("RBAC principal %T is not evaluated", p.GetIdentifier())}
}

// stringMatches is Envoy's StringMatcher (regex: RE2, whole value).
func stringMatches(m *matcherpb.StringMatcher, v string) (bool, error) {
	value := v
	fold := func(s string) string { return s }
	if m.GetIgnoreCase() {
		fold = strings.ToLower
		value = fold(v)
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcherpb.StringMatcher_Exact:
		return value == fold(p.Exact), nil
	case *matcherpb.StringMatcher_Prefix:
		return strings.HasPrefix(value, fold(p.Prefix)), nil
	case *matcherpb.StringMatcher_Suffix:
		return strings.HasSuffix(value, fold(p.Suffix)), nil
	case *matcherpb.StringMatcher_Contains:
		return strings.Contains(value, fold(p.Contains)), nil
	case *matcherpb.StringMatcher_SafeRegex:
		re, err := regexp.Compile("^(?:" + p.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return false, err
		}
		return re.MatchString(v), nil
	}
	return false, Limit{fmt.Sprintf("string matcher %T", m.GetMatchPattern())}
}
