// local-kubelet runs the pods of istiod and cert-manager on the local
// cluster (tools/cluster/up.sh) as a kubelet would: each such pod kwok has
// scheduled and given an address (but not marked Ready: tools/cluster/build.sh
// gives kwok a stage for them, written by `local-kubelet kwok-stages`) becomes
// a local process built from Go modules, with the container's arguments and
// environment and its service account's credentials, and is reported Ready
// only once the process answers its readiness probe. The process is restarted
// when it exits (a few times) and stopped when the pod is deleted. Pods of
// other workloads stay kwok's.
//
// Usage:
//
//	local-kubelet run --kubeconfig FILE --state-dir DIR --bin-path DIR[:DIR...] [--max-restarts N]
//	local-kubelet kwok-stages POD_READY_STAGE_FILE
//
// Process logs: DIR/logs/pods/<namespace>_<pod>_<container>.log.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	podresource "k8s.io/kubernetes/pkg/api/v1/resource"
	"k8s.io/kubernetes/pkg/fieldpath"
	"k8s.io/kubernetes/third_party/forked/golang/expansion"
)

type kubelet struct {
	client      kubernetes.Interface
	cluster     *clientcmdapi.Cluster // the API server and its CA, for the pods' kubeconfigs
	stateDir    string
	binPath     []string
	maxRestarts int
	// This machine's resources: a container's resourceFieldRef without a
	// limit gets the node's allocatable, as on a kubelet; the node is this one.
	allocatable corev1.ResourceList
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	if len(os.Args) == 3 && os.Args[1] == "kwok-stages" {
		if err := writeKwokStages(os.Args[2], os.Stdout); err != nil {
			log.Fatalf("kwok-stages: %v", err)
		}
		return
	}
	if len(os.Args) < 2 || os.Args[1] != "run" {
		fmt.Fprintln(os.Stderr, "usage: local-kubelet run --kubeconfig FILE --state-dir DIR --bin-path DIR[:DIR...] [--max-restarts N]\n       local-kubelet kwok-stages POD_READY_STAGE_FILE")
		os.Exit(2)
	}
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	kubeconfig := fs.String("kubeconfig", "", "admin kubeconfig of the cluster")
	stateDir := fs.String("state-dir", "", "folder for the pods' files and logs")
	binPath := fs.String("bin-path", "", "folders holding the components' binaries, ':'-separated")
	maxRestarts := fs.Int("max-restarts", 5, "restarts of an exiting process before giving up")
	_ = fs.Parse(os.Args[2:])
	if *kubeconfig == "" || *stateDir == "" || *binPath == "" {
		log.Fatal("run: --kubeconfig, --state-dir and --bin-path are required")
	}
	k, err := newKubelet(*kubeconfig, *stateDir, filepath.SplitList(*binPath), *maxRestarts)
	if err != nil {
		log.Fatalf("run: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	k.run(ctx)
}

func newKubelet(kubeconfig, stateDir string, binPath []string, maxRestarts int) (*kubelet, error) {
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return nil, err
	}
	current := raw.Contexts[raw.CurrentContext]
	if current == nil || raw.Clusters[current.Cluster] == nil {
		return nil, fmt.Errorf("%s: no cluster for the current context", kubeconfig)
	}
	restConfig, err := clientcmd.NewDefaultClientConfig(*raw, nil).ClientConfig()
	if err != nil {
		return nil, err
	}
	restConfig.UserAgent = "local-kubelet"
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"pods", "logs/pods"} {
		if err := os.MkdirAll(filepath.Join(stateDir, d), 0o700); err != nil {
			return nil, err
		}
	}
	return &kubelet{
		client: client, cluster: raw.Clusters[current.Cluster], stateDir: stateDir, binPath: binPath, maxRestarts: maxRestarts,
		allocatable: corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI),
			corev1.ResourceMemory: memTotal(),
		},
	}, nil
}

// binary finds a component's binary on the bin path.
func (k *kubelet) binary(name string) (string, error) {
	for _, d := range k.binPath {
		p := filepath.Join(d, name)
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in %s (built by tools/build.sh or tools/cluster/build.sh)", name, strings.Join(k.binPath, ":"))
}

// run watches the pods (an informer) and keeps one runner per pod of a
// component that kwok has marked Running with an address, until the pod is
// deleted; on return every process is stopped.
func (k *kubelet) run(ctx context.Context) {
	factory := informers.NewSharedInformerFactory(k.client, 0)
	pods := factory.Core().V1().Pods()
	changed := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case changed <- struct{}{}:
		default:
		}
	}
	if _, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke,
	}); err != nil {
		log.Fatalf("watching pods: %v", err)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), pods.Informer().HasSynced) {
		return
	}
	log.Printf("watching pods; runs %s; bin path %s; state in %s", componentNames(), strings.Join(k.binPath, ":"), k.stateDir)

	runners := map[types.UID]*runner{}
	var wg sync.WaitGroup
	for {
		list, err := pods.Lister().List(labels.Everything())
		if err != nil {
			log.Printf("listing pods: %v", err)
		}
		wanted := map[types.UID]bool{}
		for _, p := range list {
			c := componentFor(p.Labels)
			if c == nil || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
				continue
			}
			wanted[p.UID] = true
			if runners[p.UID] == nil {
				r := newRunner(k, c, p.DeepCopy())
				runners[p.UID] = r
				rctx, cancel := context.WithCancel(ctx)
				r.cancel = cancel
				wg.Go(func() { r.run(rctx) })
			}
		}
		for uid, r := range runners {
			if !wanted[uid] {
				r.logf("pod deleted: stopping")
				r.deleted.Store(true)
				r.cancel() // the runner stops the process; wg waits for it on exit
				delete(runners, uid)
			}
		}
		select {
		case <-ctx.Done():
			log.Printf("stopping %d process(es)", len(runners))
			wg.Wait()
			return
		case <-changed:
		case <-time.After(tick):
		}
	}
}

func newRunner(k *kubelet, c *component, pod *corev1.Pod) *runner {
	container := &pod.Spec.Containers[0]
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == c.container {
			container = &pod.Spec.Containers[i]
		}
	}
	r := &runner{k: k, comp: c, pod: pod, container: container, done: make(chan struct{})}
	r.logf("pod %s on %s, IP %s: running container %s", pod.UID, pod.Spec.NodeName, pod.Status.PodIP, container.Name)
	return r
}

func componentNames() string {
	var names []string
	for _, c := range components {
		names = append(names, fmt.Sprintf("%s (pods labelled %v)", c.binary, labels.Set(c.labels)))
	}
	return strings.Join(names, ", ")
}

// containerEnv resolves the container's environment as a kubelet does
// (envFrom, then env in order, $(VAR) references expanded), except that no
// Service variables (KUBERNETES_SERVICE_HOST...) are added: the processes
// reach the API server through their kubeconfig, not as in-cluster clients.
func (k *kubelet) containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container) ([]string, error) {
	values := map[string]string{}
	var order []string
	set := func(name, value string) {
		if _, ok := values[name]; !ok {
			order = append(order, name)
		}
		values[name] = value
	}
	for _, from := range c.EnvFrom {
		data, err := k.sourceData(ctx, pod.Namespace, from.ConfigMapRef, from.SecretRef)
		if err != nil {
			return nil, err
		}
		for name, v := range data {
			set(from.Prefix+name, v)
		}
	}
	mapping := expansion.MappingFuncFor(values)
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expansion.Expand(e.Value, mapping))
			continue
		}
		v, ok, err := k.valueFrom(ctx, pod, c, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	env := make([]string, 0, len(order))
	for _, name := range order {
		env = append(env, name+"="+values[name])
	}
	return env, nil
}

// valueFrom resolves one env source; ok is false for an absent optional key.
func (k *kubelet) valueFrom(ctx context.Context, pod *corev1.Pod, c *corev1.Container, from *corev1.EnvVarSource) (string, bool, error) {
	switch {
	case from.FieldRef != nil:
		v, err := podField(pod, from.FieldRef.FieldPath)
		return v, err == nil, err
	case from.ResourceFieldRef != nil:
		v, err := podresource.ExtractResourceValueByContainerNameAndNodeAllocatable(from.ResourceFieldRef, pod, c.Name, k.allocatable)
		return v, err == nil, err
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		cm, err := k.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := cm.Data[ref.Key]; ok {
				return v, true, nil
			}
			err = fmt.Errorf("configmap %s has no key %s", ref.Name, ref.Key)
		}
		return "", false, optional(ref.Optional, err)
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		s, err := k.client.CoreV1().Secrets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err == nil {
			if v, ok := s.Data[ref.Key]; ok {
				return string(v), true, nil
			}
			err = fmt.Errorf("secret %s has no key %s", ref.Name, ref.Key)
		}
		return "", false, optional(ref.Optional, err)
	}
	return "", false, errors.New("unsupported valueFrom")
}

func (k *kubelet) sourceData(ctx context.Context, ns string, cmRef *corev1.ConfigMapEnvSource, secretRef *corev1.SecretEnvSource) (map[string]string, error) {
	if cmRef != nil {
		cm, err := k.client.CoreV1().ConfigMaps(ns).Get(ctx, cmRef.Name, metav1.GetOptions{})
		if err != nil {
			return nil, optional(cmRef.Optional, err)
		}
		return cm.Data, nil
	}
	s, err := k.client.CoreV1().Secrets(ns).Get(ctx, secretRef.Name, metav1.GetOptions{})
	if err != nil {
		return nil, optional(secretRef.Optional, err)
	}
	data := map[string]string{}
	for name, v := range s.Data {
		data[name] = string(v)
	}
	return data, nil
}

func optional(opt *bool, err error) error {
	if opt != nil && *opt {
		return nil
	}
	return err
}

// podField is the downward API: metadata through Kubernetes' own fieldpath,
// the spec and status fields a kubelet adds itself.
func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIPs":
		var ips []string
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	}
	return fieldpath.ExtractFieldPathAsString(pod, path)
}

// expandAll expands $(VAR) in the arguments from the environment.
func expandAll(args, env []string) []string {
	values := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		values[k] = v
	}
	mapping := expansion.MappingFuncFor(values)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expansion.Expand(a, mapping)
	}
	return out
}

// memTotal is MemTotal of /proc/meminfo (0 if unreadable).
func memTotal() resource.Quantity {
	data, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(data), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return *resource.NewQuantity(kb*1024, resource.BinarySI)
		}
	}
	return resource.Quantity{}
}
