#!/usr/bin/env bash
# Builds a Kubernetes control plane from Go modules (tools/cluster/go.mod) into
# a versioned folder under the user's cache directory:
#   etcd                     go.etcd.io/etcd/server/v3 (root package)
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
#                            k8s.io/kubernetes cmd/...
#   kwok                     sigs.k8s.io/kwok cmd/kwok (fake nodes, pods/exec)
#   helm                     helm.sh/helm/v3 cmd/helm (local charts outside Pulumi)
#   local-kubelet            ./local-kubelet: runs the pods of istiod and
#                            cert-manager as local processes
#   cert-manager-controller, cert-manager-webhook, cert-manager-cainjector
#                            ./cert-manager (its own module, on
#                            github.com/cert-manager/cert-manager)
# and copies beside them, from kwok's module, its lifecycle stages
# (kwok-stages.yaml, which kwok needs in --config; its pod-ready stage leaves
# the pods local-kubelet runs to it) and the CRDs of the objects that configure
# exec and logs (kwok-crds.yaml: kwok watches them with --enable-crds but does
# not create them). istiod's binary, pilot-discovery, is tools/build.sh's.
#
# Usage: tools/cluster/build.sh [--print-bin-dir] [--force] [--resolve-only]
#   --print-bin-dir  print the bin folder for the current pins and exit
#   --force          rebuild even when the cached binaries answer their version flag
#   --resolve-only   download the pinned modules and check the files read from
#                    them (also the CRDs and charts tools/cluster/crds.sh and
#                    charts.sh serve), then exit;
#                    CI runs it with an empty GOMODCACHE
# The last line printed is always the bin folder.
set -euo pipefail

CLUSTER_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/lib.sh
source "$CLUSTER_TOOLS/../lib.sh"
require_go tools/cluster/build.sh

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/istio-mtls/cluster"

# Its own key (not tools/build.sh's): the cluster's pins (both modules here),
# our sources, this script's flags and the Go version decide these binaries,
# nothing of the Pulumi toolchain.
key() {
  (
    cd "$CLUSTER_TOOLS"
    go version
    cat build.sh ../lib.sh
    find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) ! -name '*_test.go' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-16
}
KEY="$(key)"
CLUSTER_DIR="${CACHE_ROOT}/${KEY}"
BIN="${CLUSTER_DIR}/bin"

parse_build_args tools/cluster/build.sh "$BIN" "$@"

ETCD_VERSION="$(mod_version "$CLUSTER_TOOLS" go.etcd.io/etcd/server/v3)"
K8S_VERSION="$(mod_version "$CLUSTER_TOOLS" k8s.io/kubernetes)"
KWOK_VERSION="$(mod_version "$CLUSTER_TOOLS" sigs.k8s.io/kwok)"
HELM_VERSION="$(mod_version "$CLUSTER_TOOLS" helm.sh/helm/v3)"
# go-httpbin: the server of the demo's httpbin image, which test:cluster runs behind the endpoint of a
# pod without sidecar. The pin must be the image's tag (mesh/builders/httpbin.ts HTTPBIN_IMAGE).
HTTPBIN_VERSION="$(mod_version "$CLUSTER_TOOLS" github.com/mccutchen/go-httpbin/v2)"
grep -q "export const HTTPBIN_IMAGE = \"docker.io/mccutchen/go-httpbin:${HTTPBIN_VERSION}\";" "$CLUSTER_TOOLS/../../mesh/builders/httpbin.ts" \
  || { echo "tools/cluster/build.sh: go-httpbin ${HTTPBIN_VERSION} (go.mod) is not the demo image's tag (mesh/builders/httpbin.ts HTTPBIN_IMAGE)" >&2; exit 1; }
CM_MODULE="$CLUSTER_TOOLS/cert-manager"
CM_VERSION="$(mod_version "$CM_MODULE" github.com/cert-manager/cert-manager)"
CM_BINARIES=(controller webhook cainjector)
# The staging modules must match k8s.io/kubernetes (go.mod's replace block).
K8S_STAGING_VERSION="$(mod_version "$CLUSTER_TOOLS" k8s.io/apiserver)"
[ "$K8S_STAGING_VERSION" = "v0.${K8S_VERSION#v1.}" ] \
  || { echo "tools/cluster/build.sh: k8s.io/apiserver is ${K8S_STAGING_VERSION}, expected v0.${K8S_VERSION#v1.}" >&2; exit 1; }

KWOK_DIR="$(mod_dir "$CLUSTER_TOOLS" sigs.k8s.io/kwok)"
# pod-ready.yaml goes through local-kubelet (write_kwok_data).
KWOK_POD_READY=stage/pod/fast/pod-ready.yaml
KWOK_STAGES=(stage/node/fast/node-initialize.yaml stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  stage/pod/fast/pod-complete.yaml stage/pod/fast/pod-delete.yaml)
KWOK_CRDS=(crd/bases/kwok.x-k8s.io_execs.yaml crd/bases/kwok.x-k8s.io_clusterexecs.yaml
  crd/bases/kwok.x-k8s.io_logs.yaml crd/bases/kwok.x-k8s.io_clusterlogs.yaml)
for f in "$KWOK_POD_READY" "${KWOK_STAGES[@]}" "${KWOK_CRDS[@]}"; do
  [ -f "$KWOK_DIR/kustomize/$f" ] || { echo "tools/cluster/build.sh: kustomize/$f is missing from sigs.k8s.io/kwok" >&2; exit 1; }
done
if [ "$resolve_only" = 1 ]; then
  (cd "$CLUSTER_TOOLS" && go mod download go.etcd.io/etcd/server/v3 k8s.io/kubernetes helm.sh/helm/v3 github.com/mccutchen/go-httpbin/v2)
  # vcert: the requirement of cert-manager's that the proxy refuses at its own pin (cert-manager/go.mod).
  (cd "$CM_MODULE" && go mod download github.com/cert-manager/cert-manager github.com/Venafi/vcert/v5)
  bash "$CLUSTER_TOOLS/crds.sh" >/dev/null
  bash "$CLUSTER_TOOLS/charts.sh" >/dev/null
  echo "modules resolved in $(go env GOMODCACHE): etcd ${ETCD_VERSION}, kubernetes ${K8S_VERSION}, kwok ${KWOK_VERSION}, helm ${HELM_VERSION}, go-httpbin ${HTTPBIN_VERSION}, cert-manager ${CM_VERSION}; CRDs and charts: $(bash "$CLUSTER_TOOLS/crds.sh" --versions)"
  exit 0
fi

# Prints "<name> <version>" lines; fails unless every binary runs and reports
# the pinned version (a build without the ldflags reports v0.0.0-master).
# Whole outputs are captured (no `| head`: under pipefail a SIGPIPE would fail it).
versions() {
  local out
  out="$("$BIN/etcd" --version 2>&1)" && [[ "$out" == "etcd Version: ${ETCD_VERSION#v}"$'\n'* ]] || return 1
  echo "etcd ${ETCD_VERSION}"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    out="$("$BIN/$c" --version 2>&1)" && [ "$out" = "Kubernetes ${K8S_VERSION}" ] || return 1
    echo "$c ${K8S_VERSION}"
  done
  out="$("$BIN/kubectl" version --client 2>&1)" && [[ "$out" == "Client Version: ${K8S_VERSION}"$'\n'* ]] || return 1
  echo "kubectl ${K8S_VERSION}"
  out="$("$BIN/kwok" --version 2>&1)" && [[ "$out" == *"${KWOK_VERSION}"* ]] || return 1
  echo "kwok ${KWOK_VERSION}"
  out="$("$BIN/helm" version --template '{{.Version}}' 2>&1)" && [ "$out" = "$HELM_VERSION" ] || return 1
  echo "helm ${HELM_VERSION}"
  [ -x "$BIN/go-httpbin" ] || return 1
  echo "go-httpbin ${HTTPBIN_VERSION}"
  # cobra's --version, which our cert-manager commands add: "<name> version <v>".
  for c in "${CM_BINARIES[@]}"; do
    out="$("$BIN/cert-manager-$c" --version 2>&1)" && [ "$out" = "$c version ${CM_VERSION}" ] || return 1
    echo "cert-manager-$c ${CM_VERSION}"
  done
  # It has no version of its own (the key covers its sources): it must run.
  "$BIN/local-kubelet" kwok-stages "$KWOK_DIR/kustomize/$KWOK_POD_READY" >/dev/null 2>&1 || return 1
  echo "local-kubelet (tools/cluster/local-kubelet)"
}
healthy() { [ -f "$CLUSTER_DIR/kwok-stages.yaml" ] && [ -f "$CLUSTER_DIR/kwok-crds.yaml" ] && versions >/dev/null 2>&1; }

lock_cache "$CACHE_ROOT"

if [ "$force" = 0 ] && healthy; then
  echo "cluster ${KEY}: up to date"
  echo "$BIN"
  exit 0
fi

echo "cluster ${KEY}: building into ${CLUSTER_DIR}"
# As upstream releases them: static binaries (tools/lib.sh start_build).
start_build "$CACHE_ROOT"

build_etcd() {
  (cd "$CLUSTER_TOOLS" && go build -ldflags "${LDFLAGS_BASE}" -o "$STAGE/bin/etcd" go.etcd.io/etcd/server/v3)
}

# The version variables upstream's hack/lib/version.sh sets; without them the
# binaries report v0.0.0-master+$Format:%H$, which Helm's kubeVersion checks
# reject. The commit is not known from a module zip, so it stays empty; the
# build date is the module's publication time, so rebuilds are identical.
build_kubernetes() {
  local minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  local date flags="" p
  date="$(cd "$CLUSTER_TOOLS" && go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X ${p}.gitVersion=${K8S_VERSION} -X ${p}.gitMajor=1 -X ${p}.gitMinor=${minor}"
    flags+=" -X ${p}.gitCommit= -X ${p}.gitTreeState=clean -X ${p}.buildDate=${date}"
  done
  # One go build for the four: they share most packages, built once.
  (cd "$CLUSTER_TOOLS" && go build -ldflags "${LDFLAGS_BASE}${flags}" -o "$STAGE/bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_kwok() {
  (cd "$CLUSTER_TOOLS" && go build \
    -ldflags "${LDFLAGS_BASE} -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.PreRelease=GA" \
    -o "$STAGE/bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
}

# As upstream's Makefile: the version variables set, the commit (unknown in a
# module zip) empty, and the Kubernetes version helm assumes offline (chart
# kubeVersion checks, lint) taken from its client-go, as its Makefile does.
build_helm() {
  local v=helm.sh/helm/v3 minor
  minor="$(mod_version "$CLUSTER_TOOLS" k8s.io/client-go)"; minor="${minor#v0.}"; minor="${minor%%.*}"
  local k8s="-X $v/pkg/lint/rules.k8sVersionMajor=1 -X $v/pkg/lint/rules.k8sVersionMinor=${minor}"
  k8s+=" -X $v/pkg/chartutil.k8sVersionMajor=1 -X $v/pkg/chartutil.k8sVersionMinor=${minor}"
  (cd "$CLUSTER_TOOLS" && go build \
    -ldflags "${LDFLAGS_BASE} -X $v/internal/version.version=${HELM_VERSION} -X $v/internal/version.metadata= \
-X $v/internal/version.gitCommit= -X $v/internal/version.gitTreeState=clean ${k8s}" \
    -o "$STAGE/bin/helm" helm.sh/helm/v3/cmd/helm)
}

build_httpbin() {
  (cd "$CLUSTER_TOOLS" && go build -ldflags "${LDFLAGS_BASE}" -o "$STAGE/bin/go-httpbin" github.com/mccutchen/go-httpbin/v2/cmd/go-httpbin)
}

build_local_kubelet() {
  (cd "$CLUSTER_TOOLS" && go build -ldflags "${LDFLAGS_BASE}" -o "$STAGE/bin/local-kubelet" ./local-kubelet)
}

# Upstream's GOLDFLAGS (make/00_mod.mk): the version; the commit is not known
# from a module zip. One go build for the three: they share most packages.
build_cert_manager() {
  local c
  (cd "$CM_MODULE" && go build \
    -ldflags "${LDFLAGS_BASE} -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${CM_VERSION} \
-X github.com/cert-manager/cert-manager/pkg/util.AppGitCommit=" \
    -o "$STAGE/cert-manager/" "${CM_BINARIES[@]/#/./}")
  for c in "${CM_BINARIES[@]}"; do mv "$STAGE/cert-manager/$c" "$STAGE/bin/cert-manager-$c"; done
}

concat() {
  local f
  for f in "$@"; do
    echo "---"
    echo "# sigs.k8s.io/kwok@${KWOK_VERSION} kustomize/$f"
    cat "$KWOK_DIR/kustomize/$f"
    echo
  done
}
# kwok's `fast` node and pod stages plus lease heartbeats, as the module ships
# them (kwok refuses to start without stages: "no stages found"), except that
# pod-ready leaves the pods local-kubelet runs (istiod, cert-manager) to a stage
# of local-kubelet's: Running with an address, not Ready.
write_kwok_data() {
  {
    # Node leases, as a kubelet keeps them: without them kwok's heartbeat-with-lease stage updates
    # the Node only every 10-20 minutes, the node lifecycle controller (50 s grace) marks the node
    # NotReady and sets every pod on it not Ready: webhooks then have no endpoints. A configuration
    # document gets none of kwok's defaults, so those that matter are written out as kwok's flags
    # path sets them (pkg/apis/config/v1alpha1/zz_generated.defaults.go): parallelisms (0 fails,
    # "must be greater than 0"), the debugging handlers that serve exec, the pods-on-node pager.
    cat <<'EOF'
---
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  nodeLeaseDurationSeconds: 40
  nodeLeaseParallelism: 4
  nodePlayStageParallelism: 4
  podPlayStageParallelism: 4
  podsOnNodeSyncParallelism: 1
  enableDebuggingHandlers: true
  enablePodsOnNodeSyncListPager: true
EOF
    concat "${KWOK_STAGES[@]}"
    "$STAGE/bin/local-kubelet" kwok-stages "$KWOK_DIR/kustomize/$KWOK_POD_READY"
  } >"$STAGE/kwok-stages.yaml"
  concat "${KWOK_CRDS[@]}" >"$STAGE/kwok-crds.yaml"
}

step "etcd ${ETCD_VERSION}" build_etcd
step "kube-apiserver, kube-controller-manager, kube-scheduler, kubectl ${K8S_VERSION}" build_kubernetes
step "kwok ${KWOK_VERSION}" build_kwok
step "helm ${HELM_VERSION}" build_helm
step "go-httpbin ${HTTPBIN_VERSION}" build_httpbin
step "local-kubelet" build_local_kubelet
step "cert-manager controller, webhook, cainjector ${CM_VERSION}" build_cert_manager
write_kwok_data

rm -rf "$CLUSTER_DIR"
mkdir -p "$CLUSTER_DIR"
mv "$STAGE/bin" "$BIN"
mv "$STAGE/kwok-stages.yaml" "$STAGE/kwok-crds.yaml" "$CLUSTER_DIR/"
if ! versions >"$CLUSTER_DIR/versions.txt"; then
  echo "tools/cluster/build.sh: built binaries in $BIN do not report the pinned versions" >&2
  exit 1
fi
echo "cluster ${KEY}: built in $((SECONDS - total_start))s"
ls -l "$BIN" | awk 'NR>1 {printf "  %-26s %6.1f MB\n", $9, $5/1048576}'
echo "$BIN"
