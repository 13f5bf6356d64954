#!/usr/bin/env bash
# npm run cluster:up: starts a Kubernetes control plane built by build.sh
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok for one
# fake node, and local-kubelet, which runs the pods of istiod and cert-manager
# as local processes) inside the network namespace `istio-mtls`, which has only
# loopback: Service and pod addresses the API server may dial (webhooks, exec)
# are unreachable or local there, so no request leaves the machine.
# Clients must run inside it too: ip netns exec istio-mtls kubectl --kubeconfig <path> ...
#
# Idempotent: with every recorded process alive and the API server ready it
# does nothing; anything half-started is torn down (down.sh) and started anew.
# The last line printed is the kubeconfig path.
set -euo pipefail

CLUSTER_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NS=istio-mtls
STATE_ROOT="${XDG_STATE_HOME:-$HOME/.local/state}/istio-mtls"
S="$STATE_ROOT/cluster"
KUBECONFIG_FILE="$S/kubeconfig"
NODE=kwok-node-0
# Start order; down.sh stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok local-kubelet)

fail() { echo "cluster:up: FAIL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (ip netns)"
for c in ip openssl curl flock; do command -v "$c" >/dev/null || fail "$c not found (Debian: iproute2, openssl, curl, util-linux)"; done

start_time=$SECONDS
BIN="$(bash "$CLUSTER_TOOLS/build.sh" | tail -1)"
CLUSTER_DIR="$(dirname "$BIN")"
# pilot-discovery (istiod) is the Pulumi toolchain's, not built here: without
# it istiod pods fail, saying so, and everything else works.
TOOLCHAIN_BIN="$(bash "$CLUSTER_TOOLS/../build.sh" --print-bin-dir)"

in_ns() { ip netns exec "$NS" "$@"; }
kc() { in_ns "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
# A recorded pid counts only while it still runs the binary it was started
# as, so a reused pid is never taken for ours.
alive() {
  local pid exe
  [ -f "$S/pids/$1" ] || return 1
  read -r pid exe <"$S/pids/$1"
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]
}
healthy() {
  local c
  ip netns list | grep -qx "$NS\( .*\)\?" || return 1
  for c in "${COMPONENTS[@]}"; do alive "$c" || return 1; done
  [ "$(kc get --raw /readyz 2>/dev/null)" = ok ] || return 1
  kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

mkdir -p "$STATE_ROOT"
# One up or down at a time; down.sh, run from here, is told the lock is held.
exec 9>"$STATE_ROOT/.cluster.lock"
flock 9

if healthy; then
  echo "cluster:up: already up (netns ${NS}; $(kc version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1))"
  echo "$KUBECONFIG_FILE"
  exit 0
fi
if [ -e "$S" ] || ip netns list | grep -qx "$NS\( .*\)\?"; then
  echo "cluster:up: a previous cluster is not healthy; tearing it down first"
  ISTIO_MTLS_CLUSTER_LOCKED=1 bash "$CLUSTER_TOOLS/down.sh"
fi

phase_start=$SECONDS
phase() { echo "  $1 ($((SECONDS - phase_start))s)"; phase_start=$SECONDS; }

mkdir -p "$S/pki" "$S/logs" "$S/pids" "$S/etcd"
chmod 700 "$S"

# --- network namespace: loopback only; the fake pod range (kwok --cidr) is
# made local so a webhook call to a pod address lands on a local process.
ip netns add "$NS"
# Name resolution there: `ip netns exec` binds /etc/netns/$NS/hosts over /etc/hosts for every
# process it starts (kwok, and the probe scripts kwok runs for pods/exec), so a test can add a
# Service's name as the cluster's DNS would answer it. Written in place later, never replaced.
mkdir -p "/etc/netns/$NS"
cp /etc/hosts "/etc/netns/$NS/hosts"
in_ns ip link set lo up
in_ns ip route replace local 10.0.0.0/24 dev lo
phase "network namespace ${NS}: lo up, 10.0.0.0/24 local, /etc/netns/${NS}/hosts"

# --- certificates: one CA signs everything (P-256 keys: fast to make).
pki() { openssl "$@" 2>/dev/null; }
newkey() { pki genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/pki/$1.key"; }
# leaf <name> <subject> <extendedKeyUsage> [subjectAltName]
leaf() {
  newkey "$1"
  pki req -new -key "$S/pki/$1.key" -subj "$2" -out "$S/pki/$1.csr"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -z "${4:-}" ] || echo "subjectAltName=$4"
  } >"$S/pki/$1.ext"
  pki x509 -req -in "$S/pki/$1.csr" -CA "$S/pki/ca.crt" -CAkey "$S/pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 365 -extfile "$S/pki/$1.ext" -out "$S/pki/$1.crt"
  rm -f "$S/pki/$1.csr" "$S/pki/$1.ext"
}
newkey ca
pki req -x509 -new -key "$S/pki/ca.key" -subj "/CN=istio-mtls-cluster-ca" -days 365 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$S/pki/ca.crt"
leaf apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
leaf admin "/O=system:masters/CN=istio-mtls-admin" clientAuth
# The API server's client certificate toward the "kubelet" (kwok) for exec and logs.
leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
leaf kwok "/CN=${NODE}" serverAuth "IP:127.0.0.1,DNS:${NODE}"
# Service-account tokens are signed with this key and verified with its public half.
newkey sa
pki pkey -in "$S/pki/sa.key" -pubout -out "$S/pki/sa.pub"
chmod 600 "$S"/pki/*.key
phase "certificates (openssl, CA istio-mtls-cluster-ca)"

cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: istio-mtls
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: $S/pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $S/pki/admin.crt
    client-key: $S/pki/admin.key
contexts:
- name: istio-mtls
  context: {cluster: istio-mtls, user: admin}
current-context: istio-mtls
EOF

# start <name> <args...>: runs $BIN/<name> inside the namespace and records
# "pid binary". A simple command in the background, and `ip netns exec` execs
# its command, so $! is the server itself. fd 9 (the lock) is closed so the
# servers do not hold it.
start() {
  local name="$1"; shift
  ip netns exec "$NS" "$BIN/$name" "$@" </dev/null >>"$S/logs/$name.log" 2>&1 9>&- &
  echo "$! $BIN/$name" >"$S/pids/$name"
}
# wait_for <what> <seconds> <command...>: polls; on timeout shows the logs.
wait_for() {
  local what="$1" limit="$2" deadline c; shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    for c in "${COMPONENTS[@]}"; do
      if [ -f "$S/pids/$c" ] && ! alive "$c"; then
        tail -n 30 "$S/logs/$c.log" >&2; fail "$c exited while waiting for ${what} (log: $S/logs/$c.log)"
      fi
    done
    [ $SECONDS -lt $deadline ] || { for c in "${COMPONENTS[@]}"; do [ -f "$S/logs/$c.log" ] && tail -n 5 "$S/logs/$c.log" >&2; done; fail "${what}: not within ${limit}s"; }
    sleep 0.2
  done
}

# No fsync: the data is thrown away with the namespace.
start etcd --name istio-mtls --data-dir "$S/etcd" --unsafe-no-fsync \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster istio-mtls=http://127.0.0.1:2380 --log-level warn
wait_for "etcd /health" 30 in_ns curl -sf http://127.0.0.1:2379/health
phase "etcd on 127.0.0.1:2379"

# --endpoint-reconciler-type=none: the default reconciler refuses to advertise
# a loopback address. --enable-aggregator-routing: webhook and aggregated API
# calls go to endpoint (pod) addresses, which are local in the namespace.
start kube-apiserver \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port=6443 \
  --endpoint-reconciler-type=none --enable-aggregator-routing=true \
  --tls-cert-file="$S/pki/apiserver.crt" --tls-private-key-file="$S/pki/apiserver.key" \
  --client-ca-file="$S/pki/ca.crt" \
  --kubelet-client-certificate="$S/pki/apiserver-kubelet-client.crt" --kubelet-client-key="$S/pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$S/pki/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$S/pki/sa.pub" --service-account-signing-key-file="$S/pki/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false
wait_for "kube-apiserver /readyz" 90 bash -c "[ \"\$(ip netns exec $NS $BIN/kubectl --kubeconfig $KUBECONFIG_FILE get --raw /readyz)\" = ok ]"
phase "kube-apiserver ready on 127.0.0.1:6443"

start kube-controller-manager --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port=10257 \
  --service-account-private-key-file="$S/pki/sa.key" --root-ca-file="$S/pki/ca.crt" \
  --cluster-signing-cert-file="$S/pki/ca.crt" --cluster-signing-key-file="$S/pki/ca.key" \
  --service-cluster-ip-range=10.96.0.0/16 --profiling=false
start kube-scheduler --kubeconfig="$KUBECONFIG_FILE" --leader-elect=false \
  --bind-address=127.0.0.1 --secure-port=10259 --profiling=false
phase "kube-controller-manager, kube-scheduler started"

# kwok watches Exec/ClusterExec/Logs/ClusterLogs objects but does not create
# their CRDs; they must be served before it starts.
kc apply --server-side -f "$CLUSTER_DIR/kwok-crds.yaml" >/dev/null
kc wait --for=condition=Established --timeout=30s \
  crd/execs.kwok.x-k8s.io crd/clusterexecs.kwok.x-k8s.io crd/logs.kwok.x-k8s.io crd/clusterlogs.kwok.x-k8s.io >/dev/null
kc apply --server-side -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: ${NODE}
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
    kwok.x-k8s.io/node: fake
  labels:
    kubernetes.io/hostname: ${NODE}
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
# kwok also loads ~/.kwok/kwok.yaml when it exists: point its work dir here.
export KWOK_WORKDIR="$S/kwok"
mkdir -p "$KWOK_WORKDIR"
# Port 10260, not the kubelet's 10250: cert-manager's webhook uses 10250.
start kwok --kubeconfig="$KUBECONFIG_FILE" --config="$CLUSTER_DIR/kwok-stages.yaml" \
  --manage-all-nodes=true --node-ip=127.0.0.1 --node-port=10260 --server-address=127.0.0.1:10260 \
  --tls-cert-file="$S/pki/kwok.crt" --tls-private-key-file="$S/pki/kwok.key" \
  --enable-crds=Exec,ClusterExec,Logs,ClusterLogs --cidr=10.0.0.1/24
wait_for "node ${NODE} Ready" 60 bash -c "ip netns exec $NS $BIN/kubectl --kubeconfig $KUBECONFIG_FILE get node $NODE -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
phase "kwok: node ${NODE} Ready (kubelet endpoint 127.0.0.1:10260)"

# Pods of istiod (app=istiod) and cert-manager's controller, webhook and
# cainjector become processes (logs: $S/logs/pods/); kwok's stages leave them
# not Ready until local-kubelet sees their readiness probes pass.
start local-kubelet run --kubeconfig="$KUBECONFIG_FILE" --state-dir="$S" --bin-path="$TOOLCHAIN_BIN:$BIN"
wait_for "local-kubelet watching pods" 30 grep -q "watching pods" "$S/logs/local-kubelet.log"
phase "local-kubelet: runs istiod and cert-manager pods (binaries from $TOOLCHAIN_BIN and $BIN)"

healthy || fail "started, but not healthy (logs: $S/logs)"
echo "cluster:up: up in $((SECONDS - start_time))s; netns ${NS}; pids in $S/pids; logs in $S/logs"
echo "$KUBECONFIG_FILE"
