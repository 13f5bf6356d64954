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

# Processes a test starts itself (stopped by pid) and folders it makes outside WORK.
STOP_PIDS=()
REMOVE_DIRS=()
cluster_teardown() {
  local rc=$? pid
  # Under set -e a failing command would end the trap here: each may fail (already gone).
  for pid in "${STOP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK" "${REMOVE_DIRS[@]}"
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    echo "${TEST}: KEEP_CLUSTER=1: the cluster stays up (npm run cluster:down stops it)"
  else
    bash "$REPO/tools/cluster/down.sh" || rc=1
  fi
  exit $rc
}
