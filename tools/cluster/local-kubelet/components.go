package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// listenFlag is an address flag of a component. On a node every pod has its
// own network namespace; here all processes share one, so each listens on its
// pod's IP (local in the namespace) instead of all addresses, and pods whose
// charts use the same port (cert-manager's three metrics servers: 9402) do not
// collide. port 0: the flag takes an address without a port.
type listenFlag struct {
	name string
	port int
}

// component is one kind of pod this kubelet runs: the chart's pod labels, the
// container the process stands for, the binary (found on --bin-path) and how
// its flags and environment differ from the container's.
type component struct {
	binary    string
	labels    map[string]string
	container string
	listen    []listenFlag
	// env returns variables set on top of the container's (nil: none).
	env func(r *runner) map[string]string
	// waitFor returns what the process must wait for before it starts ("" once
	// nothing is missing).
	waitFor func(ctx context.Context, r *runner) (string, error)
}

// The charts: istio.io/istio manifests/charts/istio-control/istio-discovery
// (templates/deployment.yaml) and cert-manager deploy/charts/cert-manager
// (templates/{deployment,webhook-deployment,cainjector-deployment}.yaml).
var components = []component{
	{
		binary:    "pilot-discovery",
		labels:    map[string]string{"app": "istiod"},
		container: "discovery",
		// The defaults of pilot-discovery's flags (pilot/cmd/pilot-discovery/app/cmd.go).
		listen: []listenFlag{{"httpAddr", 8080}, {"httpsAddr", 15017}, {"grpcAddr", 15010},
			{"secureGRPCAddr", 15012}, {"monitoringAddr", 15014}, {"ctrlz_address", 0}},
		env: func(r *runner) map[string]string {
			return map[string]string{
				// The chart points KUBECONFIG at the optional istio-kubeconfig
				// Secret's mount (a remote cluster); here: the pod's own credentials.
				"KUBECONFIG": r.kubeconfig(),
				// The chart mounts the optional cacerts Secret at /etc/cacerts; the
				// kubelet mounts no volumes, so istiod reads the Secret itself (at
				// start) into a folder of its own.
				"USE_REMOTE_CERTS": "true",
				"ROOT_CA_DIR":      r.path("cacerts"),
			}
		},
		waitFor: istiodConfigMaps,
	},
	{
		binary:    "cert-manager-controller",
		labels:    map[string]string{"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"},
		container: "cert-manager-controller",
		// Upstream's defaults (internal/apis/config/controller/v1alpha1).
		listen: []listenFlag{{"metrics-listen-address", 9402}, {"internal-healthz-listen-address", 9403}},
	},
	{
		binary:    "cert-manager-webhook",
		labels:    map[string]string{"app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook"},
		container: "cert-manager-webhook",
		// --secure-port and --healthz-port take only a port: they listen on all
		// addresses (the chart's 10250 and 6080 are used by nothing else here).
		listen: []listenFlag{{"metrics-listen-address", 9402}},
	},
	{
		binary:    "cert-manager-cainjector",
		labels:    map[string]string{"app.kubernetes.io/name": "cainjector", "app.kubernetes.io/component": "cainjector"},
		container: "cert-manager-cainjector",
		listen:    []listenFlag{{"metrics-listen-address", 9402}},
	},
}

// componentFor returns the component a pod with these labels runs, or nil.
func componentFor(labels map[string]string) *component {
	for i := range components {
		c := &components[i]
		match := true
		for k, v := range c.labels {
			if labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return c
		}
	}
	return nil
}

// istiodConfigMaps: started before the istiod chart's ConfigMaps exist,
// istiod logs "Skipping sidecar injector, template not found" and never
// patches the injector webhook's caBundle. On a node the pod starts after the
// chart's ConfigMaps anyway (Helm applies ConfigMaps before Deployments).
func istiodConfigMaps(ctx context.Context, r *runner) (string, error) {
	suffix := ""
	if rev := r.envValue("REVISION"); rev != "" && rev != "default" {
		suffix = "-" + rev
	}
	var missing []string
	for _, name := range []string{"istio" + suffix, "istio-sidecar-injector" + suffix} {
		_, err := r.k.client.CoreV1().ConfigMaps(r.pod.Namespace).Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			missing = append(missing, r.pod.Namespace+"/"+name)
		case err != nil:
			return "", err
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	return "ConfigMaps " + strings.Join(missing, ", "), nil
}

// kwokComponentKey is a jq expression (kwok's stage selectors are jq) that
// yields the binary of the component a pod runs, or "".
func kwokComponentKey() string {
	var b strings.Builder
	b.WriteString(".metadata.labels | ")
	for i, c := range components {
		keys := make([]string, 0, len(c.labels))
		for k := range c.labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var conds []string
		for _, k := range keys {
			conds = append(conds, fmt.Sprintf("(.[%q] == %q)", k, c.labels[k]))
		}
		if i == 0 {
			b.WriteString("if ")
		} else {
			b.WriteString(" elif ")
		}
		fmt.Fprintf(&b, "%s then %q", strings.Join(conds, " and "), c.binary)
	}
	b.WriteString(` else "" end`)
	return b.String()
}

// The stage for the pods this kubelet runs: scheduled and given an address,
// as kwok's pod-ready does, but with the containers still being created and
// the pod not Ready; the kubelet reports the rest.
const localPodTemplate = `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  restartCount: 0
  started: false
  state:
    waiting:
      reason: ContainerCreating
{{ end }}
{{ $hostIPs := NodeIPsWith .spec.nodeName }}
{{ with $hostIPs }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ with $podIPs }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`

// writeKwokStages prints kwok's pod-ready stage (read from podReadyFile) with
// the pods of the components excluded, and a stage of ours for them.
func writeKwokStages(podReadyFile string, w io.Writer) error {
	data, err := os.ReadFile(podReadyFile)
	if err != nil {
		return err
	}
	var stage map[string]any
	if err := yaml.Unmarshal(data, &stage); err != nil {
		return fmt.Errorf("%s: %w", podReadyFile, err)
	}
	spec, _ := stage["spec"].(map[string]any)
	selector, _ := spec["selector"].(map[string]any)
	exprs, _ := selector["matchExpressions"].([]any)
	next, _ := spec["next"].(map[string]any)
	if exprs == nil || next == nil {
		return fmt.Errorf("%s: no spec.selector.matchExpressions or spec.next: not kwok's pod-ready stage", podReadyFile)
	}
	var binaries []string
	for _, c := range components {
		binaries = append(binaries, c.binary)
	}
	requirement := func(op string) map[string]any {
		return map[string]any{"key": kwokComponentKey(), "operator": op, "values": binaries}
	}

	selector["matchExpressions"] = append(slices.Clone(exprs), requirement("NotIn"))
	theirs, err := yaml.Marshal(stage)
	if err != nil {
		return err
	}
	ours, err := yaml.Marshal(map[string]any{
		"apiVersion": stage["apiVersion"],
		"kind":       stage["kind"],
		"metadata":   map[string]any{"name": "pod-local-kubelet"},
		"spec": map[string]any{
			"resourceRef": spec["resourceRef"],
			"selector":    map[string]any{"matchExpressions": append(slices.Clone(exprs), requirement("In"))},
			"next":        map[string]any{"statusTemplate": localPodTemplate},
		},
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n# %s, except the pods tools/cluster/local-kubelet runs\n%s---\n# Those pods: Running with an address, not Ready; local-kubelet reports the rest\n%s",
		podReadyFile, theirs, ours)
	return err
}
