#!/usr/bin/env bash
# npm run cluster:down: stops the processes up.sh recorded (by pid, and only
# while that pid still runs the recorded binary), deletes the network
# namespace with its /etc/netns folder, and the state folder (certificates, etcd data, logs).
set -euo pipefail

NS=istio-mtls
STATE_ROOT="${XDG_STATE_HOME:-$HOME/.local/state}/istio-mtls"
S="$STATE_ROOT/cluster"
# Reverse of up.sh's start order: local-kubelet (which stops the processes it
# runs), kwok and the controllers before the API server, etcd last.
COMPONENTS=(local-kubelet kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

[ "$(id -u)" = 0 ] || { echo "cluster:down: needs root (ip netns)" >&2; exit 1; }
mkdir -p "$STATE_ROOT"
if [ -z "${ISTIO_MTLS_CLUSTER_LOCKED:-}" ]; then
  exec 9>"$STATE_ROOT/.cluster.lock"
  flock 9
fi

runs() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]; }
stopped=()
for c in "${COMPONENTS[@]}"; do
  [ -f "$S/pids/$c" ] || continue
  read -r pid exe <"$S/pids/$c"
  runs "$pid" "$exe" || continue
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do runs "$pid" "$exe" || break; sleep 0.2; done
  if runs "$pid" "$exe"; then
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 25); do runs "$pid" "$exe" || break; sleep 0.2; done
  fi
  runs "$pid" "$exe" && { echo "cluster:down: $c (pid $pid) did not stop" >&2; exit 1; }
  stopped+=("$c:$pid")
done

if ip netns list | grep -qx "$NS\( .*\)\?"; then
  # Not ours to stop: say so, the namespace lives on until they exit.
  left="$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')"
  [ -z "$left" ] || echo "cluster:down: note: processes still in netns ${NS} (not started by up.sh): ${left}" >&2
  ip netns del "$NS"
fi
rm -rf "$S" "/etc/netns/$NS"
echo "cluster:down: stopped ${stopped[*]:-nothing}; netns ${NS}, /etc/netns/${NS} and ${S} removed"
