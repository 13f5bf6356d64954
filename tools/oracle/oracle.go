package oracle

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	envoycore "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/simulation"
	"istio.io/istio/pilot/test/xds"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/wellknown"
)

// IstioVersion is the VERSION file of the pinned istio.io/istio (1.31), as
// injected proxies report it; tools/oracle/build.sh checks the two agree.
const IstioVersion = "1.31.0"

// Cell is one (client workload, Service port) outcome, named as the model names it.
type Cell struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Code     int      `json:"code"`
	MTLS     bool     `json:"mtls"`
	Evidence Evidence `json:"evidence"`
}

// Evidence: what istiod generated for this request, and what was replayed through it.
type Evidence struct {
	ClientSidecar bool               `json:"clientSidecar"`
	Cluster       string             `json:"cluster,omitempty"`
	Endpoints     []EndpointEvidence `json:"endpoints"`
	Note          string             `json:"note,omitempty"`
}

type EndpointEvidence struct {
	Workload string `json:"workload"`
	Address  string `json:"address"`
	// Endpoint metadata envoy.transport_socket_match (EDS), e.g. "tlsMode=istio".
	Metadata string `json:"metadata,omitempty"`
	// The transport socket the client uses for this endpoint and what it sends.
	Socket string `json:"socket"`
	Sends  string `json:"sends"`
	// Server side: its sidecar's matched inbound filter chain, or the failure.
	ServerSidecar bool         `json:"serverSidecar"`
	FilterChain   string       `json:"filterChain,omitempty"`
	Inbound       string       `json:"inbound,omitempty"`
	RBAC          *RBACVerdict `json:"rbac,omitempty"`
	Code          int          `json:"code"`
	MTLS          bool         `json:"mtls"`
}

// Output for one scenario: cells, or why there are none.
type Output struct {
	ID       string   `json:"id,omitempty"`
	Cells    []Cell   `json:"cells,omitempty"`
	Rejected string   `json:"rejected,omitempty"`
	Limit    string   `json:"limit,omitempty"`
	Error    string   `json:"error,omitempty"`
	Notices  []string `json:"notices,omitempty"`
}

type workload struct {
	name, namespace string
	pod             *corev1.Pod
	sidecar         bool
	why             string
	ip              string
}

func (w *workload) id() string { return w.name + "." + w.namespace }

type servicePort struct {
	svc  *corev1.Service
	port corev1.ServicePort
	// Endpoints: running pods the selector matches, with the container port this port reaches.
	endpoints []endpointRef
}

type endpointRef struct {
	w          *workload
	targetPort int
}

func (sp *servicePort) id() string {
	return fmt.Sprintf("%s.%s:%d", sp.svc.Name, sp.svc.Namespace, sp.port.Port)
}

func (sp *servicePort) host() string {
	return fmt.Sprintf("%s.%s.svc.cluster.local", sp.svc.Name, sp.svc.Namespace)
}

// Evaluate answers one scenario. t carries the FakeDiscoveryServer's lifetime.
func Evaluate(t *testing.T, text string) Output {
	in, err := ReadInput(text, time.Now())
	if err != nil {
		return failure(err)
	}
	out, err := evaluate(t, in)
	if err != nil {
		return failure(err)
	}
	return out
}

func failure(err error) Output {
	var lim Limit
	var rej Rejected
	switch {
	case errors.As(err, &lim):
		return Output{Limit: lim.Why}
	case errors.As(err, &rej):
		return Output{Rejected: rej.Error()}
	}
	return Output{Error: err.Error()}
}

func evaluate(t *testing.T, in *Input) (Output, error) {
	webhooks, notices, err := injectionWebhooks(in)
	if err != nil {
		return Output{}, err
	}
	// One pod per running workload, injected as the API server would have it.
	var workloads []*workload
	addPod := func(name string, pod *corev1.Pod) error {
		inj, err := injectPod(pod, in.namespace(pod.Namespace), webhooks, in.Mesh)
		if err != nil {
			return err
		}
		w := &workload{name: name, namespace: pod.Namespace, pod: inj.Pod.DeepCopy(), sidecar: inj.Sidecar, why: inj.Why}
		workloads = append(workloads, w)
		return nil
	}
	for _, d := range in.Deployments {
		if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
			continue
		}
		pod := &corev1.Pod{ObjectMeta: *d.Spec.Template.ObjectMeta.DeepCopy(), Spec: *d.Spec.Template.Spec.DeepCopy()}
		pod.Name = d.Name + "-0"
		pod.Namespace = d.Namespace
		pod.GenerateName = ""
		pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: d.Name + "-rs", Controller: ptr(true)}}
		if err := addPod(d.Name, pod); err != nil {
			return Output{}, err
		}
	}
	for _, p := range in.Pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if err := addPod(p.Name, p.DeepCopy()); err != nil {
			return Output{}, err
		}
	}
	sort.SliceStable(workloads, func(i, j int) bool {
		a, b := workloads[i], workloads[j]
		if a.namespace != b.namespace {
			return a.namespace < b.namespace
		}
		return a.name < b.name
	})
	for i, w := range workloads {
		if w.pod.Spec.HostNetwork {
			return Output{}, Limit{"hostNetwork pods"}
		}
		w.ip = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		w.pod.Status = corev1.PodStatus{
			Phase:      corev1.PodRunning,
			PodIP:      w.ip,
			PodIPs:     []corev1.PodIP{{IP: w.ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		}
	}

	// Services and their EndpointSlices, as the endpoint slice controller would write them.
	var ports []*servicePort
	kube := []runtime.Object{}
	for _, ns := range in.Namespaces {
		kube = append(kube, in.namespace(ns.Name))
	}
	seenNs := map[string]bool{}
	for name := range in.Namespaces {
		seenNs[name] = true
	}
	for i, s := range in.Services {
		svc := s.DeepCopy()
		if !seenNs[svc.Namespace] {
			seenNs[svc.Namespace] = true
			kube = append(kube, in.namespace(svc.Namespace))
		}
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)
			svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		}
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return Output{}, Limit{"headless Services"}
		}
		kube = append(kube, svc)
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		var spList []*servicePort
		for _, p := range svc.Spec.Ports {
			spList = append(spList, &servicePort{svc: svc, port: p})
		}
		for _, w := range workloads {
			if w.namespace != svc.Namespace || !sel.Matches(labels.Set(w.pod.Labels)) {
				continue
			}
			slice := &discoveryv1.EndpointSlice{
				ObjectMeta: metav1.ObjectMeta{
					Name: svc.Name + "-" + w.pod.Name, Namespace: svc.Namespace,
					Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name},
				},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints: []discoveryv1.Endpoint{{
					Addresses:  []string{w.ip},
					Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
					TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: w.pod.Name, Namespace: w.namespace},
				}},
			}
			for _, sp := range spList {
				target, ok := resolveTargetPort(sp.port, w.pod)
				if !ok {
					continue
				}
				sp.endpoints = append(sp.endpoints, endpointRef{w: w, targetPort: target})
				name := sp.port.Name
				proto := sp.port.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: &name, Port: ptr(int32(target)), Protocol: &proto})
			}
			kube = append(kube, slice)
		}
		ports = append(ports, spList...)
	}
	for _, w := range workloads {
		kube = append(kube, w.pod)
	}
	sort.SliceStable(ports, func(i, j int) bool {
		a, b := ports[i], ports[j]
		if a.svc.Namespace != b.svc.Namespace {
			return a.svc.Namespace < b.svc.Namespace
		}
		if a.svc.Name != b.svc.Name {
			return a.svc.Name < b.svc.Name
		}
		return a.port.Port < b.port.Port
	})

	s := xds.NewFakeDiscoveryServer(t, xds.FakeOptions{KubernetesObjects: kube, Configs: in.Configs, MeshConfig: in.Mesh})
	e := &evaluator{t: t, s: s, in: in, workloads: workloads, servers: map[*workload]*simulation.Simulation{}, inbound: map[string]inboundResult{}}
	out := Output{Notices: notices}
	for _, c := range workloads {
		for _, sp := range ports {
			cell, err := e.cell(c, sp)
			if err != nil {
				return Output{}, fmt.Errorf("%s → %s: %w", c.id(), sp.id(), err)
			}
			out.Cells = append(out.Cells, cell)
		}
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }

// resolveTargetPort: targetPort unset is the port; a name is looked up in the pod's containers.
func resolveTargetPort(p corev1.ServicePort, pod *corev1.Pod) (int, bool) {
	switch {
	case p.TargetPort.Type == intstr.String && p.TargetPort.StrVal != "":
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == p.TargetPort.StrVal {
					return int(cp.ContainerPort), true
				}
			}
		}
		return 0, false
	case p.TargetPort.IntVal != 0:
		return int(p.TargetPort.IntVal), true
	}
	return int(p.Port), true
}

type evaluator struct {
	t         *testing.T
	s         *xds.FakeDiscoveryServer
	in        *Input
	workloads []*workload
	clients   map[*workload]*clientView
	servers   map[*workload]*simulation.Simulation
	inbound   map[string]inboundResult
}

type clientView struct {
	sim       *simulation.Simulation
	clusters  map[string]*cluster.Cluster
	endpoints map[string]*endpoint.ClusterLoadAssignment
}

func (e *evaluator) proxy(w *workload) *model.Proxy {
	return e.s.SetupProxy(&model.Proxy{
		Type:            model.SidecarProxy,
		IPAddresses:     []string{w.ip},
		ID:              w.pod.Name + "." + w.namespace,
		ConfigNamespace: w.namespace,
		Labels:          w.pod.Labels,
		Metadata: &model.NodeMetadata{
			Namespace:      w.namespace,
			Labels:         w.pod.Labels,
			ServiceAccount: w.pod.Spec.ServiceAccountName,
			WorkloadName:   w.name,
			ClusterID:      constants.DefaultClusterName,
			IstioVersion:   IstioVersion,
		},
	})
}

func (e *evaluator) client(w *workload) *clientView {
	if e.clients == nil {
		e.clients = map[*workload]*clientView{}
	}
	if v, ok := e.clients[w]; ok {
		return v
	}
	p := e.proxy(w)
	v := &clientView{sim: simulation.NewSimulation(e.t, e.s, p), clusters: map[string]*cluster.Cluster{}, endpoints: map[string]*endpoint.ClusterLoadAssignment{}}
	for _, c := range v.sim.Clusters {
		v.clusters[c.Name] = c
	}
	for _, cla := range e.s.Endpoints(p) {
		v.endpoints[cla.ClusterName] = cla
	}
	e.clients[w] = v
	return v
}

// What a client puts on the wire toward one endpoint.
type send struct {
	mode   simulation.TLSMode
	alpn   string
	socket string
}

func (e *evaluator) cell(c *workload, sp *servicePort) (Cell, error) {
	cell := Cell{From: c.id(), To: sp.id(), Evidence: Evidence{ClientSidecar: c.sidecar}}
	type target struct {
		w        *workload
		port     int
		metadata string
		send     send
	}
	var targets []target
	if c.sidecar {
		v := e.client(c)
		r := v.sim.Run(simulation.Call{
			Address:    sp.svc.Spec.ClusterIP,
			Port:       int(sp.port.Port),
			Protocol:   simulation.HTTP,
			HostHeader: fmt.Sprintf("%s.%s:%d", sp.svc.Name, sp.svc.Namespace, sp.port.Port),
			Path:       "/headers",
			CallMode:   simulation.CallModeOutbound,
		})
		if r.Error != nil {
			return cell, fmt.Errorf("outbound call: %v (listener %q, route %q)", r.Error, r.ListenerMatched, r.RouteMatched)
		}
		cell.Evidence.Cluster = r.ClusterMatched
		cl := v.clusters[r.ClusterMatched]
		if cl == nil || cl.GetType() != cluster.Cluster_EDS {
			return cell, fmt.Errorf("outbound call reached cluster %q, not an EDS cluster of the Service", r.ClusterMatched)
		}
		cla := v.endpoints[r.ClusterMatched]
		for _, loc := range cla.GetEndpoints() {
			for _, lb := range loc.GetLbEndpoints() {
				addr := lb.GetEndpoint().GetAddress().GetSocketAddress()
				w := e.byIP(addr.GetAddress())
				if w == nil {
					return cell, fmt.Errorf("EDS endpoint %s is no pod of the input", addr.GetAddress())
				}
				md := lb.GetMetadata().GetFilterMetadata()["envoy.transport_socket_match"]
				snd, err := chooseSocket(cl, md)
				if err != nil {
					return cell, err
				}
				targets = append(targets, target{w: w, port: int(addr.GetPortValue()), metadata: structString(md), send: snd})
			}
		}
		if len(targets) == 0 {
			cell.Code = 503
			cell.Evidence.Note = "cluster has no endpoint: no healthy upstream"
			return cell, nil
		}
	} else {
		// Without a sidecar, kube-proxy sends the app's plaintext to one of the Service's endpoints.
		for _, ep := range sp.endpoints {
			targets = append(targets, target{w: ep.w, port: ep.targetPort, send: send{mode: simulation.Plaintext, socket: "none (no client sidecar)"}})
		}
		if len(targets) == 0 {
			cell.Code = 0
			cell.Evidence.Note = "Service has no endpoint: connection refused"
			return cell, nil
		}
	}
	sort.SliceStable(targets, func(i, j int) bool { return targets[i].w.id() < targets[j].w.id() })
	var chosen *EndpointEvidence
	for _, tg := range targets {
		ev := EndpointEvidence{Workload: tg.w.id(), Address: net.JoinHostPort(tg.w.ip, strconv.Itoa(tg.port)), Metadata: tg.metadata, Socket: tg.send.socket, Sends: string(tg.send.mode), ServerSidecar: tg.w.sidecar}
		failCode := 0
		if c.sidecar {
			failCode = 503
		}
		switch {
		case !tg.w.sidecar && tg.send.mode == simulation.Plaintext:
			ev.Code = 200
			ev.Inbound = "no server sidecar: the app answers"
		case !tg.w.sidecar:
			ev.Code = failCode
			ev.Inbound = "no server sidecar: TLS reaches a plaintext app"
		default:
			res, err := e.serve(c, tg.w, tg.port, tg.send)
			if err != nil {
				return cell, err
			}
			ev.FilterChain, ev.Inbound, ev.RBAC = res.chain, res.failure, res.rbac
			switch {
			case res.failure != "":
				ev.Code = failCode
			case res.rbac.Allowed:
				ev.Code = 200
				ev.MTLS = tg.send.mode == simulation.MTLS
			default:
				ev.Code = 403
				ev.MTLS = tg.send.mode == simulation.MTLS
			}
		}
		cell.Evidence.Endpoints = append(cell.Evidence.Endpoints, ev)
		// Load balancing may pick any endpoint: a failing one decides the cell.
		if chosen == nil || (chosen.Code == 200 && ev.Code != 200) {
			chosen = &cell.Evidence.Endpoints[len(cell.Evidence.Endpoints)-1]
		}
	}
	cell.Code, cell.MTLS = chosen.Code, chosen.MTLS
	return cell, nil
}

func (e *evaluator) byIP(ip string) *workload {
	for _, w := range e.workloads {
		if w.ip == ip {
			return w
		}
	}
	return nil
}

func structString(s *structpb.Struct) string {
	if s == nil {
		return ""
	}
	var kv []string
	for k, v := range s.GetFields() {
		kv = append(kv, k+"="+v.GetStringValue())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// chooseSocket: Envoy picks the first transport_socket_matches entry whose
// match is a subset of the endpoint's envoy.transport_socket_match metadata,
// else the cluster's transport_socket (upstream/transport_socket_match_impl.cc).
func chooseSocket(cl *cluster.Cluster, md *structpb.Struct) (send, error) {
	for _, m := range cl.GetTransportSocketMatches() {
		if structSubset(m.GetMatch(), md) {
			return describeSocket("transport_socket_matches "+m.GetName(), m.GetTransportSocket())
		}
	}
	return describeSocket("transport_socket", cl.GetTransportSocket())
}

func structSubset(match, md *structpb.Struct) bool {
	for k, v := range match.GetFields() {
		got, ok := md.GetFields()[k]
		if !ok || !proto.Equal(v, got) {
			return false
		}
	}
	return true
}

// describeSocket: raw bytes, or TLS with Istio's workload certificate (SDS
// secret "default"): Istio mTLS. Other TLS (DestinationRule SIMPLE/MUTUAL) is a limit.
func describeSocket(where string, ts *envoycore.TransportSocket) (send, error) {
	if ts == nil {
		return send{mode: simulation.Plaintext, socket: where + ": none (plaintext)"}, nil
	}
	switch ts.GetName() {
	case wellknown.TransportSocketRawBuffer:
		return send{mode: simulation.Plaintext, socket: where + ": raw_buffer"}, nil
	case wellknown.TransportSocketTLS:
		c := &tlsv3.UpstreamTlsContext{}
		if err := ts.GetTypedConfig().UnmarshalTo(c); err != nil {
			return send{}, err
		}
		for _, sds := range c.GetCommonTlsContext().GetTlsCertificateSdsSecretConfigs() {
			if sds.GetName() == "default" {
				snd := send{mode: simulation.MTLS, socket: where + ": tls with the workload certificate (Istio mTLS)"}
				if alpn := c.GetCommonTlsContext().GetAlpnProtocols(); len(alpn) > 0 {
					snd.alpn = alpn[0]
				}
				return snd, nil
			}
		}
		return send{}, Limit{where + ": TLS without Istio's workload certificate (DestinationRule SIMPLE/MUTUAL) is not replayed"}
	}
	return send{}, Limit{where + ": transport socket " + ts.GetName() + " is not read"}
}

type inboundResult struct {
	chain   string
	failure string
	rbac    *RBACVerdict
}

// serve replays the connection into the server sidecar's inbound listener
// (virtualInbound, as iptables redirects it) and evaluates the chain's RBAC.
func (e *evaluator) serve(client, server *workload, port int, snd send) (inboundResult, error) {
	key := fmt.Sprintf("%s|%s|%d|%s|%s", client.id(), server.id(), port, snd.mode, snd.alpn)
	if r, ok := e.inbound[key]; ok {
		return r, nil
	}
	sim, ok := e.servers[server]
	if !ok {
		sim = simulation.NewSimulation(e.t, e.s, e.proxy(server))
		e.servers[server] = sim
	}
	var matched *listener.FilterChain
	r := sim.Run(simulation.Call{
		Address:  server.ip,
		Port:     port,
		Protocol: simulation.HTTP,
		TLS:      snd.mode,
		Alpn:     snd.alpn,
		Path:     "/headers",
		CallMode: simulation.CallModeInbound,
		CustomListenerValidations: []simulation.CustomFilterChainValidation{func(fc *listener.FilterChain) error {
			matched = fc
			return nil
		}},
	})
	res := inboundResult{chain: r.FilterChainMatched}
	if r.Error != nil {
		res.failure = r.Error.Error()
	} else {
		if matched == nil {
			return res, fmt.Errorf("inbound call matched chain %q but no chain was captured", r.FilterChainMatched)
		}
		peer := Peer{Port: uint32(port)}
		if snd.mode == simulation.MTLS {
			peer.Principal = fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", e.in.Mesh.GetTrustDomain(), client.namespace, serviceAccount(client.pod))
		}
		v, err := EvaluateChain(matched, peer)
		if err != nil {
			return res, err
		}
		res.rbac = &v
	}
	e.inbound[key] = res
	return res, nil
}

func serviceAccount(p *corev1.Pod) string {
	if p.Spec.ServiceAccountName != "" {
		return p.Spec.ServiceAccountName
	}
	return "default"
}
