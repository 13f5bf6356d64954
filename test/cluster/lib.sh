# The harness of the cluster tests (sourced; run.sh can take it up too): set
# TEST (the name in messages) and REPO first. Gives fail, step and took, a
# WORK folder, a trap naming the failed command, and cluster_teardown, the EXIT
# trap once the cluster may be up: it removes WORK and stops the cluster, pass
# or fail, unless KEEP_CLUSTER=1.
NS=istio-mtls
export PATH="/usr/local/go/bin:$PATH"
fail() { echo "${TEST}: FAIL: $*" >&2; exit 1; }
start=$SECONDS
step_start=$SECONDS
step() { echo; echo "== $1"; step_start=$SECONDS; }
took() { echo "   ($((SECONDS - step_start))s)"; }

trap 'echo "${TEST}: FAIL at line $LINENO: $BASH_COMMAND" >&2' ERR
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cluster_teardown() {
  local rc=$?
  rm -rf "$WORK"
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    echo "${TEST}: KEEP_CLUSTER=1: the cluster stays up (npm run cluster:down stops it)"
  else
    bash "$REPO/tools/cluster/down.sh" || rc=1
  fi
  exit $rc
}
