# What the stack tests share (run.sh: the dev stack, prod.sh: prod), sourced after lib.sh with
# STACK set: the cached builds, Pulumi's environment (a file backend in WORK, no plugin
# downloads), kubectl and pulumi inside the cluster's network namespace, and the stack itself
# from a copy of the tracked files (node_modules linked; the work tree is untouched) with Istio
# and cert-manager from the charts of the Go modules the cluster is built from
# (tools/cluster/charts.sh), installed by the stack (istio.chartRepository,
# certManager.chartRepository).
# shellcheck source=test/helpers/pulumi-env.sh
source "$REPO/test/helpers/pulumi-env.sh"
PROJECT="$WORK/project"
STATE="${XDG_STATE_HOME:-$HOME/.local/state}/istio-mtls/cluster"
KUBECONFIG_FILE="$STATE/kubeconfig"
in_ns() { ip netns exec "$NS" "$@"; }
kc() { in_ns "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
# Config is written before the cluster is up; every command that reaches the cluster runs in the namespace.
cfg() { pulumi --cwd "$PROJECT" --stack "$STACK" --non-interactive config set "$@"; }
p() { in_ns pulumi --cwd "$PROJECT" --stack "$STACK" --non-interactive "$@"; }
chart_version() { sed -n 's/^version: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$CHARTS/$1/Chart.yaml"; }

# Builds (or finds cached) the cluster, the Pulumi toolchain and the local charts: BIN,
# TOOLCHAIN, CHARTS, CHART_VERSIONS; Pulumi's environment.
stack_tools() {
  bash "$REPO/tools/cluster/build.sh" | tee "$WORK/build.log"
  BIN="$(tail -1 "$WORK/build.log")"
  TOOLCHAIN="$(bash "$REPO/tools/build.sh" | tail -1)"
  CHARTS="$(bash "$REPO/tools/cluster/charts.sh" | tail -1)"
  CHART_VERSIONS="$(bash "$REPO/tools/cluster/charts.sh" --versions)"
  export PATH="$TOOLCHAIN:$REPO/node_modules/.bin:$PATH"
  pulumi_env "$WORK" cluster-test
}

# The stack STACK in PROJECT with $1 (a file of the repo) as its config, on the cluster's
# kubeconfig, its charts from CHARTS.
stack_project() {
  mkdir -p "$PROJECT" "$WORK/state"
  (cd "$REPO" && git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules/' \
    | while IFS= read -r -d '' f; do [ -f "$f" ] && cp --parents "$f" "$PROJECT"; done; true)
  ln -s "$REPO/node_modules" "$PROJECT/node_modules"
  cp "$REPO/$1" "$PROJECT/Pulumi.$STACK.yaml"
  pulumi --cwd "$PROJECT" --non-interactive stack init "$STACK" >/dev/null 2>&1
  cfg kubernetes:kubeconfig "$KUBECONFIG_FILE"
  cfg --path istio-mtls:istio.chartRepository "$CHARTS"
  cfg --path istio-mtls:istio.version "$(chart_version istiod)"
  cfg --path istio-mtls:certManager.chartRepository "$CHARTS"
  cfg --path istio-mtls:certManager.version "$(chart_version cert-manager)"
}

# What a stack owns in the cluster, one line each: its namespaces ($1, an extended regex of
# names), cluster-scoped objects of its kinds, and the CRDs the charts do not mark
# `helm.sh/resource-policy: keep` (Istio's and cert-manager's are, so that an uninstall never
# deletes every policy and certificate in the cluster).
crds() { kc get crd -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.annotations.helm\.sh/resource-policy}{"\n"}{end}' | grep -E '(istio|cert-manager)\.io '; }
owned_objects() {
  kc get namespaces -o name | grep -E "^namespace/($1)\$" || true
  kc get clusterissuers.cert-manager.io,mutatingwebhookconfigurations,validatingwebhookconfigurations,clusterroles,clusterrolebindings -o name 2>/dev/null \
    | grep -E 'istio|cert-manager' || true
  crds | grep -v ' keep$' || true
}

# The stack's first `pulumi up` (output in $1), which installs cert-manager. kwok completes
# cert-manager's startupapicheck Job without running it, so nothing waits, as that Helm hook does
# on a real cluster, for cainjector to put the webhook's CA into its configuration: an object the
# webhook validates (the ClusterIssuer) can reach it first and fail "x509: certificate signed by
# unknown authority". Exactly that failure is retried once, and said; any other fails the test.
stack_up() {
  local webhook_early='failed calling webhook "webhook.cert-manager.io".*x509: certificate signed by unknown authority'
  p up --yes >"$1" 2>&1 && return
  grep -qE "$webhook_early" "$1" || { grep -E 'error|failed|Error' "$1" | tail -n 30 >&2; fail "pulumi up failed"; }
  echo "   pulumi up reached cert-manager's webhook before cainjector gave it its CA (kwok does not run startupapicheck): once more"
  p up --yes >"$1" 2>&1 || { grep -E 'error|failed|Error' "$1" | tail -n 30 >&2; fail "pulumi up failed the second time"; }
}

# Lets pods/exec in the namespaces $2… run as kwok's local processes (ClusterExec $1): the host's
# sh and curl, as nobody (65534: kwok needs a user the host knows; the pods' is 65532, also
# unprivileged), in a working folder outside WORK (private to root), which nobody could not enter.
kwok_exec() {
  local name="$1" dir
  shift
  dir="$(mktemp -d)"
  REMOVE_DIRS+=("$dir")
  chmod 755 "$dir"
  kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {name: $name}
spec:
  selector: {matchNamespaces: [$(IFS=,; echo "$*")]}
  execs:
  - local:
      workDir: $dir
      securityContext: {runAsUser: 65534, runAsGroup: 65534}
EOF
}

# Stands in for the cluster's DNS and kube-proxy for one Service port, there being neither:
# <service>.<namespace> resolves to the Service's ClusterIP in the network namespace's /etc/hosts
# (made by up.sh; `ip netns exec` shows it to kwok and the probe scripts it runs), and go-httpbin
# answers on that address and the Service port. Sets SERVED_PID (also stopped at exit).
serve_service() {
  local namespace="$1" service="$2" port="$3" hosts="/etc/netns/$NS/hosts" address
  [ -f "$hosts" ] || fail "$hosts is missing: this cluster was started by an older tools/cluster/up.sh; run npm run cluster:down"
  address="$(kc -n "$namespace" get service "$service" -o jsonpath='{.spec.clusterIP}')"
  in_ns ip route replace local "$address/32" dev lo
  printf '%s %s.%s\n' "$address" "$service" "$namespace" >>"$hosts"
  ip netns exec "$NS" "$BIN/go-httpbin" -host "$address" -port "$port" </dev/null >"$WORK/go-httpbin-$service.$namespace.log" 2>&1 &
  SERVED_PID=$!
  STOP_PIDS+=("$SERVED_PID")
  for _ in $(seq 50); do in_ns curl -sf -o /dev/null "http://$service.$namespace:$port/status/200" && return; sleep 0.1; done
  cat "$WORK/go-httpbin-$service.$namespace.log" >&2
  fail "go-httpbin did not answer at $service.$namespace:$port ($address)"
}

# pulumi destroy, then wait until no object the stack created in namespaces matching $1 (and no
# cluster-scoped one) is left: namespaces go asynchronously, their finalizers cleaning up what they
# hold. The destroy output stays in $WORK/destroy.txt.
stack_destroy() {
  local before left
  before="$(owned_objects "$1" | wc -l)"
  p destroy --yes >"$WORK/destroy.txt" 2>&1 || { tail -n 40 "$WORK/destroy.txt" >&2; fail "pulumi destroy failed"; }
  grep -E '^ +(- )?[0-9]+ deleted' "$WORK/destroy.txt" | tail -1 | sed 's/^ *\(- \)\{0,1\}/   destroy: /'
  for _ in $(seq 120); do left="$(owned_objects "$1")"; [ -z "$left" ] && break; sleep 0.5; done
  [ -z "$left" ] || { echo "$left" >&2; fail "60 s after destroy, stack-created objects remain"; }
  echo "   before: ${before} stack-created namespaces, cluster-scoped objects and CRDs without keep; after: 0"
}
