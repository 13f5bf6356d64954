package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// runner runs the process of one pod, as a kubelet runs a container: it
// starts it with the container's arguments and environment, reports it in the
// pod's status, probes its readiness, restarts it when it exits and stops it
// when the pod goes away.
type runner struct {
	k         *kubelet
	comp      *component
	pod       *corev1.Pod // as first seen; the fields used here do not change
	container *corev1.Container
	env       []string // the container's environment, resolved once
	cancel    context.CancelFunc
	done      chan struct{}
	// deleted: the pod is gone, so its status is no longer reported.
	deleted atomic.Bool

	restarts int
	// What was last reported, to patch only changes.
	reported   *corev1.ContainerStatus
	readySince metav1.Time
}

func (r *runner) logf(format string, args ...any) {
	log.Printf("%s/%s (%s): %s", r.pod.Namespace, r.pod.Name, r.comp.binary, fmt.Sprintf(format, args...))
}

// path is a file in the pod's folder (removed with the pod).
func (r *runner) path(name string) string {
	return filepath.Join(r.k.stateDir, "pods", r.pod.Namespace+"_"+r.pod.Name, name)
}

func (r *runner) logPath() string {
	return filepath.Join(r.k.stateDir, "logs", "pods", r.pod.Namespace+"_"+r.pod.Name+"_"+r.container.Name+".log")
}

func (r *runner) kubeconfig() string { return r.path("kubeconfig") }

// envValue is a variable of the container's resolved environment.
func (r *runner) envValue(name string) string {
	for _, kv := range r.env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v
		}
	}
	return ""
}

const (
	tick            = 300 * time.Millisecond
	aliveForReady   = time.Second // without a probe: Ready once the process has run this long
	maxGracePeriod  = 10 * time.Second
	maxBackoff      = 10 * time.Second
	tokenExpiration = 24 * time.Hour
)

func (r *runner) run(ctx context.Context) {
	defer close(r.done)
	defer func() {
		if err := os.RemoveAll(r.path("")); err != nil {
			r.logf("removing %s: %v", r.path(""), err)
		}
		// The kubelet stops, the pod stays: it no longer runs.
		stopped, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		r.report(stopped, false, waiting("ContainerCreating", "local-kubelet stopped"), nil)
	}()
	var err error
	if r.env, err = r.k.containerEnv(ctx, r.pod, r.container); err != nil {
		r.report(ctx, false, waiting("CreateContainerConfigError", err.Error()), nil)
		r.logf("environment: %v", err)
		<-ctx.Done()
		return
	}
	var last *corev1.ContainerStateTerminated
	for {
		if !r.waitPrerequisites(ctx) {
			return
		}
		term, err := r.runOnce(ctx, last)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.logf("not started: %v", err)
			term = &corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), FinishedAt: metav1.Now()}
		}
		last = term
		if r.restarts >= r.k.maxRestarts {
			msg := fmt.Sprintf("gave up after %d restarts; log: %s", r.restarts, r.logPath())
			r.logf("%s", msg)
			r.report(ctx, false, waiting("CrashLoopBackOff", msg), last)
			<-ctx.Done()
			return
		}
		r.restarts++
		backoff := min(time.Second<<(r.restarts-1), maxBackoff)
		r.logf("exited (%s, code %d); restart %d/%d in %s; log: %s", term.Reason, term.ExitCode, r.restarts, r.k.maxRestarts, backoff, r.logPath())
		r.report(ctx, false, waiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container", backoff)), last)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// waitPrerequisites returns false when the pod went away while waiting.
func (r *runner) waitPrerequisites(ctx context.Context) bool {
	if r.comp.waitFor == nil {
		return true
	}
	said := ""
	for {
		missing, err := r.comp.waitFor(ctx, r)
		switch {
		case err != nil && ctx.Err() == nil:
			r.logf("checking what to wait for: %v", err)
		case err == nil && missing == "":
			return true
		case err == nil && missing != said:
			r.logf("waiting for %s", missing)
			r.report(ctx, false, waiting("ContainerCreating", "waiting for "+missing), nil)
			said = missing
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(tick):
		}
	}
}

// runOnce starts the process and watches it until it exits (its termination
// is returned) or ctx ends (the pod is gone or the kubelet stops: it is
// stopped).
func (r *runner) runOnce(ctx context.Context, last *corev1.ContainerStateTerminated) (*corev1.ContainerStateTerminated, error) {
	cmd, err := r.start(ctx)
	if err != nil {
		return nil, err
	}
	started := metav1.Now()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	r.logf("started pid %d: %s (log: %s)", cmd.Process.Pid, strings.Join(cmd.Args, " "), r.logPath())
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}
	r.report(ctx, false, running, last)

	probe := r.container.ReadinessProbe
	if probe == nil {
		// Deviation: a kubelet marks a container without a readiness probe
		// Ready as soon as it runs; its liveness endpoint, when it has one, is
		// the better sign that the process works.
		probe = r.container.LivenessProbe
	}
	// The probe runs every tick, not every periodSeconds (nor after
	// initialDelaySeconds): Ready comes as soon as the process answers.
	// failureThreshold consecutive failures make a Ready process not Ready.
	failureThreshold := 3
	if probe != nil && probe.FailureThreshold > 0 {
		failureThreshold = int(probe.FailureThreshold)
	}
	ready, failures := false, 0
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			r.stop(cmd, exited)
			return nil, nil
		case err := <-exited:
			return termination(err, started), nil
		case <-ticker.C:
			ok, detail := r.probe(ctx, probe, started)
			switch {
			case ok:
				failures = 0
			case ready:
				failures++
			}
			if ok != ready && (ok || failures >= failureThreshold) {
				ready = ok
				r.logf("Ready=%v (%s)", ready, detail)
				r.report(ctx, ready, running, last)
			}
		}
	}
}

// start creates the process: the component's binary with the container's
// arguments ($(VAR) expanded from its environment, as a kubelet does) and
// environment, fresh credentials and a fresh folder.
func (r *runner) start(ctx context.Context) (*exec.Cmd, error) {
	bin, err := r.k.binary(r.comp.binary)
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(r.path("")); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.path(""), 0o700); err != nil {
		return nil, err
	}
	if err := r.writeKubeconfig(ctx); err != nil {
		return nil, fmt.Errorf("credentials of service account %s/%s: %w", r.pod.Namespace, r.pod.Spec.ServiceAccountName, err)
	}
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + r.path("")}, r.env...)
	if r.comp.env != nil {
		for k, v := range r.comp.env(r) {
			env = append(env, k+"="+v) // later entries win
		}
	}
	if len(r.container.Command) > 0 {
		r.logf("the container's command %q is not run: %s stands for it", r.container.Command, bin)
	}
	args := expandAll(r.container.Args, r.env)
	args = withListenAddresses(args, r.comp.listen, r.pod.Status.PodIP)
	args = append(args, "--kubeconfig="+r.kubeconfig())

	logFile, err := os.OpenFile(r.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	fmt.Fprintf(logFile, "=== %s local-kubelet: starting %s %s\n", time.Now().UTC().Format(time.RFC3339), bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = r.path("")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group (stopped as a whole), killed if the kubelet dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd, cmd.Start()
}

// writeKubeconfig gives the process its pod's identity, as a kubelet's
// projected service account token does: a token for the pod's service
// account, bound to the pod (invalid once it is deleted), so the chart's RBAC
// is what the process may do. The API server and its CA are the admin
// kubeconfig's.
func (r *runner) writeKubeconfig(ctx context.Context) error {
	tr, err := r.k.client.CoreV1().ServiceAccounts(r.pod.Namespace).CreateToken(ctx, r.pod.Spec.ServiceAccountName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			ExpirationSeconds: ptr.To(int64(tokenExpiration.Seconds())),
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: r.pod.Name, UID: r.pod.UID},
		}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = r.k.cluster.DeepCopy()
	cfg.AuthInfos["pod"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["pod"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "pod", Namespace: r.pod.Namespace}
	cfg.CurrentContext = "pod"
	return clientcmd.WriteToFile(*cfg, r.kubeconfig())
}

// stop ends the process as a kubelet does: SIGTERM, then SIGKILL after the
// pod's grace period (at most maxGracePeriod here).
func (r *runner) stop(cmd *exec.Cmd, exited <-chan error) {
	grace := maxGracePeriod
	if g := r.pod.Spec.TerminationGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < grace {
		grace = time.Duration(*g) * time.Second
	}
	pgid := -cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-exited:
		r.logf("stopped pid %d", cmd.Process.Pid)
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-exited
		r.logf("killed pid %d after %s", cmd.Process.Pid, grace)
	}
}

// probe runs the readiness check; without one, the process must have run
// for aliveForReady.
func (r *runner) probe(ctx context.Context, p *corev1.Probe, started metav1.Time) (bool, string) {
	if p == nil || (p.HTTPGet == nil && p.TCPSocket == nil) {
		ok := time.Since(started.Time) >= aliveForReady
		return ok, fmt.Sprintf("no HTTP or TCP probe: running for %s", time.Since(started.Time).Round(time.Millisecond))
	}
	timeout := time.Second
	if p.TimeoutSeconds > 0 {
		timeout = time.Duration(p.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if p.TCPSocket != nil {
		addr := net.JoinHostPort(or(p.TCPSocket.Host, r.pod.Status.PodIP), r.port(p.TCPSocket.Port))
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return false, "tcp " + addr + ": " + err.Error()
		}
		conn.Close()
		return true, "tcp " + addr
	}
	g := p.HTTPGet
	scheme := strings.ToLower(string(or(g.Scheme, corev1.URISchemeHTTP)))
	url := scheme + "://" + net.JoinHostPort(or(g.Host, r.pod.Status.PodIP), r.port(g.Port)) + g.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	for _, h := range g.HTTPHeaders {
		req.Header.Add(h.Name, h.Value)
	}
	// As a kubelet: HTTPS probes do not verify the certificate.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return false, "GET " + url + ": " + err.Error()
	}
	resp.Body.Close()
	// A kubelet's success: 200 <= code < 400.
	return resp.StatusCode >= 200 && resp.StatusCode < 400, fmt.Sprintf("GET %s: %d", url, resp.StatusCode)
}

// port resolves a probe's port, by name from the container's ports.
func (r *runner) port(p intstr.IntOrString) string {
	if p.Type == intstr.Int {
		return strconv.Itoa(p.IntValue())
	}
	for _, cp := range r.container.Ports {
		if cp.Name == p.StrVal {
			return strconv.Itoa(int(cp.ContainerPort))
		}
	}
	return p.StrVal
}

// report patches the pod's status: the process's container, every other
// container Ready (none is run, as kwok treats them), and the pod's Ready and
// ContainersReady conditions. Only changes are sent.
func (r *runner) report(ctx context.Context, ready bool, state corev1.ContainerState, last *corev1.ContainerStateTerminated) {
	if r.deleted.Load() {
		return
	}
	mine := corev1.ContainerStatus{
		Name: r.container.Name, Image: r.container.Image, Ready: ready, Started: ptr.To(state.Running != nil),
		RestartCount: int32(r.restarts), State: state,
	}
	if last != nil {
		mine.LastTerminationState = corev1.ContainerState{Terminated: last}
	}
	if r.reported != nil && equalJSON(*r.reported, mine) {
		return
	}
	var statuses []corev1.ContainerStatus
	for _, c := range r.pod.Spec.Containers {
		if c.Name == r.container.Name {
			statuses = append(statuses, mine)
			continue
		}
		statuses = append(statuses, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Ready: true, Started: ptr.To(true),
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: r.pod.CreationTimestamp}}})
	}
	status := corev1.ConditionFalse
	reason := "ContainersNotReady"
	if ready {
		status, reason = corev1.ConditionTrue, ""
	}
	if r.reported == nil || r.reported.Ready != ready {
		r.readySince = metav1.Now()
	}
	cond := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: r.readySince}
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"conditions":        []corev1.PodCondition{cond(corev1.PodReady), cond(corev1.ContainersReady)},
		"containerStatuses": statuses,
	}})
	if err == nil {
		_, err = r.k.client.CoreV1().Pods(r.pod.Namespace).Patch(ctx, r.pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	}
	if err != nil {
		if ctx.Err() == nil {
			r.logf("status not reported: %v", err)
		}
		return
	}
	r.reported = &mine
}

func waiting(reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
}

// termination describes how the process ended, as a kubelet reports it.
func termination(err error, started metav1.Time) *corev1.ContainerStateTerminated {
	t := &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: started, FinishedAt: metav1.Now()}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		t.Reason = "Error"
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.ExitCode = 128 + int32(ws.Signal())
		} else {
			t.ExitCode = int32(exitErr.ExitCode())
		}
	} else if err != nil {
		t.Reason, t.Message, t.ExitCode = "Error", err.Error(), 1
	}
	return t
}

// withListenAddresses sets each listen flag's host to the pod's IP: in the
// container's value when it has one (--flag=value or --flag value; "0",
// which disables a server, is kept), else with the upstream default port.
func withListenAddresses(args []string, flags []listenFlag, podIP string) []string {
	out := append([]string(nil), args...)
	for _, f := range flags {
		want := func(value string) string {
			if f.port == 0 {
				return podIP
			}
			if value == "0" {
				return value
			}
			port := strconv.Itoa(f.port)
			if _, p, err := net.SplitHostPort(value); err == nil && p != "" {
				port = p
			}
			return net.JoinHostPort(podIP, port)
		}
		found := false
		for i := 0; i < len(out); i++ {
			switch {
			case strings.HasPrefix(out[i], "--"+f.name+"="):
				out[i] = "--" + f.name + "=" + want(strings.TrimPrefix(out[i], "--"+f.name+"="))
				found = true
			case out[i] == "--"+f.name && i+1 < len(out):
				out[i+1] = want(out[i+1])
				found = true
			}
		}
		if !found {
			out = append(out, "--"+f.name+"="+want(""))
		}
	}
	return out
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
