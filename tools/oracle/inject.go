package oracle

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/operator/pkg/render"
	"istio.io/istio/pkg/kube/inject"
)

// Chart is what the istio-discovery chart of this Istio commit renders for one
// revision: its sidecar injector webhook and the injector's configuration.
type Chart struct {
	Webhook *admissionv1.MutatingWebhookConfiguration
	Config  inject.Config
	Values  inject.ValuesConfig
}

var (
	chartMu    sync.Mutex
	chartCache = map[string]*Chart{}
)

// RenderChart renders the chart as `istioctl manifest generate --set
// revision=<rev>` does ("default" is the default revision, no --set).
func RenderChart(revision string) (*Chart, error) {
	chartMu.Lock()
	defer chartMu.Unlock()
	if c, ok := chartCache[revision]; ok {
		return c, nil
	}
	var set []string
	if revision != "default" {
		set = []string{"revision=" + revision}
	}
	sets, _, err := render.GenerateManifest(nil, set, false, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("render revision %s: %v", revision, err)
	}
	c := &Chart{}
	injectorCM := "istio-sidecar-injector"
	if revision != "default" {
		injectorCM += "-" + revision
	}
	for _, s := range sets {
		for _, m := range s.Manifests {
			switch {
			case m.GetKind() == "MutatingWebhookConfiguration":
				w := &admissionv1.MutatingWebhookConfiguration{}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m.Object, w); err != nil {
					return nil, err
				}
				c.Webhook = w
			case m.GetKind() == "ConfigMap" && m.GetName() == injectorCM:
				data, _, _ := unstructuredStringMap(m.Object, "data")
				if c.Config, err = inject.UnmarshalConfig([]byte(data["config"])); err != nil {
					return nil, err
				}
				if c.Values, err = inject.NewValuesConfig(data["values"]); err != nil {
					return nil, err
				}
			}
		}
	}
	if c.Webhook == nil || c.Config.Templates == nil {
		return nil, fmt.Errorf("revision %s: the chart rendered no MutatingWebhookConfiguration or no %s ConfigMap", revision, injectorCM)
	}
	// IntoObject (below) decides with policy "enabled" and no never/always
	// selectors: true only if the chart's configuration says the same.
	if c.Config.Policy != inject.InjectionPolicyEnabled || len(c.Config.NeverInjectSelector)+len(c.Config.AlwaysInjectSelector) > 0 {
		return nil, Limit{fmt.Sprintf("revision %s: injector policy %q with selectors is not what IntoObject evaluates", revision, c.Config.Policy)}
	}
	chartCache[revision] = c
	return c, nil
}

func unstructuredStringMap(obj map[string]any, field string) (map[string]string, bool, error) {
	raw, ok := obj[field].(map[string]any)
	out := map[string]string{}
	for k, v := range raw {
		if s, isString := v.(string); isString {
			out[k] = s
		}
	}
	return out, ok, nil
}

// injectionWebhooks: the input's MutatingWebhookConfigurations (the revisions
// installed), else the default revision's as the chart renders it.
func injectionWebhooks(in *Input) ([]*admissionv1.MutatingWebhookConfiguration, []string, error) {
	if len(in.Webhooks) > 0 {
		return in.Webhooks, nil, nil
	}
	c, err := RenderChart("default")
	if err != nil {
		return nil, nil, err
	}
	return []*admissionv1.MutatingWebhookConfiguration{c.Webhook}, []string{"no MutatingWebhookConfiguration in the input: the default revision's webhook is taken as the only one installed"}, nil
}

func selectorMatches(sel *metav1.LabelSelector, l map[string]string) (bool, error) {
	// A missing selector matches everything (admissionregistration/v1).
	if sel == nil {
		return true, nil
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, err
	}
	return s.Matches(labels.Set(l)), nil
}

// isInjector: the chart names its webhooks <prefix>sidecar-injector.istio.io;
// other mutating webhooks of a cluster do not add Istio sidecars.
func isInjector(w admissionv1.MutatingWebhook) bool {
	return strings.HasSuffix(w.Name, "sidecar-injector.istio.io") && coversPodCreate(w)
}

func coversPodCreate(w admissionv1.MutatingWebhook) bool {
	for _, r := range w.Rules {
		pods, create := false, false
		for _, res := range r.Resources {
			pods = pods || res == "pods" || res == "*"
		}
		for _, op := range r.Operations {
			create = create || op == admissionv1.Create || op == admissionv1.OperationAll
		}
		if pods && create {
			return true
		}
	}
	return false
}

// Injection: which webhook the API server calls for the pod (its namespace
// and object selectors), then the injector's own decision and template
// (inject.IntoObject, which runs injectRequired as the webhook does).
type Injection struct {
	Pod     *corev1.Pod
	Sidecar bool
	Why     string
}

// The injector's answer depends only on the pod and the mesh config: scenarios
// repeat the same pods, and running the template is a third of a scenario's time.
var (
	injectMu    sync.Mutex
	injectCache = map[string]Injection{}
)

func remember(key string, i Injection) {
	injectMu.Lock()
	injectCache[key] = i
	injectMu.Unlock()
}

func injectPod(pod *corev1.Pod, ns *corev1.Namespace, webhooks []*admissionv1.MutatingWebhookConfiguration, m *meshconfig.MeshConfig) (Injection, error) {
	var called string
	for _, cfg := range webhooks {
		for _, w := range cfg.Webhooks {
			if !isInjector(w) {
				continue
			}
			nsOK, err := selectorMatches(w.NamespaceSelector, ns.Labels)
			if err != nil {
				return Injection{}, err
			}
			objOK, err := selectorMatches(w.ObjectSelector, pod.Labels)
			if err != nil {
				return Injection{}, err
			}
			if nsOK && objOK {
				called = cfg.Name + "/" + w.Name
				break
			}
		}
		if called != "" {
			break
		}
	}
	if called == "" {
		return Injection{Pod: pod, Why: "no injection webhook selects the pod"}, nil
	}
	key, err := json.Marshal(pod)
	if err != nil {
		return Injection{}, err
	}
	cacheKey := string(key) + "\x00" + m.String()
	injectMu.Lock()
	hit, ok := injectCache[cacheKey]
	injectMu.Unlock()
	if ok {
		hit.Pod = hit.Pod.DeepCopy()
		if hit.Sidecar {
			hit.Why = "injected by " + called
		} else {
			hit.Why = called + " called; injector: " + hit.Why
		}
		return hit, nil
	}
	chart, err := RenderChart("default")
	if err != nil {
		return Injection{}, err
	}
	var skipped string
	out, err := inject.IntoObject(nil, chart.Config.Templates, chart.Values, "", m, pod, func(s string) { skipped += s })
	if err != nil {
		return Injection{}, fmt.Errorf("inject %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	if skipped != "" {
		remember(cacheKey, Injection{Pod: pod.DeepCopy(), Why: strings.TrimSpace(skipped)})
		return Injection{Pod: pod, Why: called + " called; injector: " + strings.TrimSpace(skipped)}, nil
	}
	injected, ok := out.(*corev1.Pod)
	if !ok {
		return Injection{}, fmt.Errorf("inject %s/%s: got %T", pod.Namespace, pod.Name, out)
	}
	remember(cacheKey, Injection{Pod: injected.DeepCopy(), Sidecar: true})
	return Injection{Pod: injected, Sidecar: true, Why: "injected by " + called}, nil
}
