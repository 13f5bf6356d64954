// Package oracle answers, with istiod's own code, what the model predicts: for
// each (client workload, Service port) of a set of YAML objects, the HTTP code
// a `curl http://<service>.<namespace>:<port>/headers` sees and whether the
// request used Istio mTLS, with the xDS evidence behind it.
package oracle

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubeyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigyaml "sigs.k8s.io/yaml"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pkg/config"
	"istio.io/istio/pkg/config/mesh"
	kubelib "istio.io/istio/pkg/kube"
)

// Limit is an input the oracle does not evaluate (never a guess): the
// differential test counts it as a documented oracle limit, not a disagreement.
type Limit struct{ Why string }

func (l Limit) Error() string { return "oracle limit: " + l.Why }

// Rejected is an object istiod's validation refuses (crd.ParseInputs runs the
// same ValidateConfig as the validating webhook): it never reaches a cluster.
type Rejected struct {
	Object string
	Why    string
}

func (r Rejected) Error() string { return fmt.Sprintf("%s: %s", r.Object, r.Why) }

// Input is the scenario as the API server would hold it after `kubectl apply`.
type Input struct {
	Mesh        *meshconfig.MeshConfig
	Namespaces  map[string]*corev1.Namespace
	Deployments []*appsv1.Deployment
	Pods        []*corev1.Pod
	Services    []*corev1.Service
	Webhooks    []*admissionv1.MutatingWebhookConfiguration
	Configs     []config.Config
}

// Istio kinds the oracle evaluates; any other Istio kind is a limit.
var istioKinds = map[string]bool{
	"security.istio.io/PeerAuthentication":    true,
	"security.istio.io/AuthorizationPolicy":   true,
	"networking.istio.io/DestinationRule":     true,
	"security.istio.io/RequestAuthentication": false,
}

// Kinds read as they are, or skipped because they change no request outcome.
var skippedKinds = map[string]bool{"ServiceAccount": true, "Secret": true}

// ReadInput parses multi-document YAML. Objects without a creationTimestamp
// get one shared time: applied together, as one `kubectl apply -f` does.
func ReadInput(text string, appliedAt time.Time) (*Input, error) {
	in := &Input{Namespaces: map[string]*corev1.Namespace{}}
	dec := kubeyaml.NewYAMLOrJSONDecoder(strings.NewReader(text), 4096)
	decode := kubelib.IstioCodec.UniversalDeserializer().Decode
	for {
		var raw map[string]any
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("yaml: %v", err)
		}
		if len(raw) == 0 {
			continue
		}
		apiVersion, _ := raw["apiVersion"].(string)
		kind, _ := raw["kind"].(string)
		group, _, _ := strings.Cut(apiVersion, "/")
		if !strings.Contains(apiVersion, "/") {
			group = ""
		}
		doc, err := sigyaml.Marshal(raw)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(group, ".istio.io") {
			supported, known := istioKinds[group+"/"+kind]
			if !known || !supported {
				return nil, Limit{fmt.Sprintf("%s %s is not evaluated (the oracle reads PeerAuthentication, DestinationRule, AuthorizationPolicy)", apiVersion, kind)}
			}
			cfgs, _, err := crd.ParseInputs(string(doc))
			if err != nil {
				return nil, Rejected{Object: objectName(kind, raw), Why: err.Error()}
			}
			for _, c := range cfgs {
				if c.Namespace == "" {
					c.Namespace = "default"
				}
				// istiod's CRD client sets the cluster's domain suffix (crdclient
				// TranslateObject); short hosts resolve with it (ResolveShortnameToFQDN).
				c.Domain = "cluster.local"
				if c.CreationTimestamp.IsZero() {
					c.CreationTimestamp = appliedAt
				}
				in.Configs = append(in.Configs, c)
			}
			continue
		}
		if skippedKinds[kind] {
			continue
		}
		obj, _, err := decode(doc, nil, nil)
		if err != nil {
			return nil, Limit{fmt.Sprintf("%s %s: %v", apiVersion, kind, err)}
		}
		if err := in.add(obj); err != nil {
			return nil, err
		}
	}
	if in.Mesh == nil {
		in.Mesh = mesh.DefaultMeshConfig()
	}
	in.sort()
	return in, nil
}

func objectName(kind string, raw map[string]any) string {
	md, _ := raw["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	name, _ := md["name"].(string)
	if ns == "" {
		ns = "default"
	}
	return fmt.Sprintf("%s %s/%s", kind, ns, name)
}

func defaultNamespace(ns *string) {
	if *ns == "" {
		*ns = "default"
	}
}

func (in *Input) add(obj runtime.Object) error {
	switch o := obj.(type) {
	case *corev1.Namespace:
		in.Namespaces[o.Name] = o
	case *corev1.Service:
		defaultNamespace(&o.Namespace)
		in.Services = append(in.Services, o)
	case *appsv1.Deployment:
		defaultNamespace(&o.Namespace)
		in.Deployments = append(in.Deployments, o)
	case *corev1.Pod:
		defaultNamespace(&o.Namespace)
		in.Pods = append(in.Pods, o)
	case *admissionv1.MutatingWebhookConfiguration:
		in.Webhooks = append(in.Webhooks, o)
	case *corev1.ConfigMap:
		defaultNamespace(&o.Namespace)
		// istiod reads MeshConfig from ConfigMap istio in its namespace (the root namespace by default).
		if o.Name == "istio" && o.Namespace == "istio-system" {
			m, err := mesh.ApplyMeshConfigDefaults(o.Data["mesh"])
			if err != nil {
				return Rejected{Object: "ConfigMap istio-system/istio", Why: err.Error()}
			}
			in.Mesh = m
		}
	default:
		return Limit{fmt.Sprintf("kind %T is not read", obj)}
	}
	return nil
}

func (in *Input) sort() {
	sort.SliceStable(in.Services, func(i, j int) bool {
		a, b := in.Services[i], in.Services[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
}

// namespace returns the Namespace object, or the one a cluster would have
// (objects in a namespace imply it exists, without labels). The API server
// adds kubernetes.io/metadata.name to every namespace; webhooks select on it.
func (in *Input) namespace(name string) *corev1.Namespace {
	ns, ok := in.Namespaces[name]
	if !ok {
		ns = &corev1.Namespace{}
		ns.Name = name
	}
	ns = ns.DeepCopy()
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["kubernetes.io/metadata.name"] = name
	return ns
}

// yamlDocs joins objects as one multi-document YAML text.
func yamlDocs(objs ...any) (string, error) {
	var b bytes.Buffer
	for _, o := range objs {
		y, err := sigyaml.Marshal(o)
		if err != nil {
			return "", err
		}
		b.WriteString("---\n")
		b.Write(y)
	}
	return b.String(), nil
}
