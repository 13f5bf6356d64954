#!/usr/bin/env bash
# npm run test:cluster: sends this project's objects to a real Kubernetes API
# server (tools/cluster: etcd, kube-apiserver, controller-manager, scheduler
# and kwok, built from Go modules, in the loopback-only network namespace
# istio-mtls) and checks what only a real server decides:
#   1. Istio's and cert-manager's CRDs apply server-side and are Established;
#   2. every Kubernetes object of `istio-mtls plan --stack dev` is accepted
#      (namespaces for real, the rest with a server-side dry run);
#   3. an object our schemas would not catch is rejected by the CRD's schema
#      (PeerAuthentication mtls.mode SOMETIMES), with the server's message;
#   4. the control plane works: a Deployment becomes Ready on kwok's node and
#      `kubectl exec` through the real pods/exec subresource returns the
#      command's output (and is Forbidden to an identity without RBAC rights).
# Every client command runs inside the namespace. The cluster is brought up if
# it is not, and torn down at the end, pass or fail, unless KEEP_CLUSTER=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NS=istio-mtls
fail() { echo "test:cluster: FAIL: $*" >&2; exit 1; }
start=$SECONDS
step_start=$SECONDS
step() { echo; echo "== $1"; step_start=$SECONDS; }
took() { echo "   ($((SECONDS - step_start))s)"; }
export PATH="/usr/local/go/bin:$REPO/node_modules/.bin:$PATH"

# A command failing under set -e says where.
trap 'echo "test:cluster: FAIL at line $LINENO: $BASH_COMMAND" >&2' ERR
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

step "build (cached under ~/.cache/istio-mtls/cluster)"
bash "$REPO/tools/cluster/build.sh" | tee "$WORK/build.log"
BIN="$(tail -1 "$WORK/build.log")"
mapfile -t CRD_FILES < <(bash "$REPO/tools/cluster/crds.sh")
CRD_VERSIONS="$(bash "$REPO/tools/cluster/crds.sh" --versions)"
took

cleanup() {
  local rc=$?
  rm -rf "$WORK"
  if [ "${KEEP_CLUSTER:-}" = 1 ]; then
    echo "test:cluster: KEEP_CLUSTER=1: the cluster stays up (npm run cluster:down stops it)"
  else
    bash "$REPO/tools/cluster/down.sh" || rc=1
  fi
  exit $rc
}
trap cleanup EXIT

# The plan is computed before anything needs the cluster (no cluster access).
step "istio-mtls plan --stack dev"
(cd "$REPO" && node bin/istio-mtls.js plan --stack dev --format yaml) >"$WORK/plan.yaml"
# Splits the plan: Namespaces, other Kubernetes objects, and the first
# PeerAuthentication made invalid. helm.sh/v3 Release documents describe Helm
# releases (chart, version, values), not objects the API server takes.
(cd "$REPO" && node -e '
const fs = require("fs"); const YAML = require("yaml");
const [plan, out] = process.argv.slice(1);
const docs = YAML.parseAllDocuments(fs.readFileSync(plan, "utf8")).map(d => d.toJS()).filter(Boolean);
const releases = docs.filter(o => o.apiVersion === "helm.sh/v3" && o.kind === "Release");
const objects = docs.filter(o => !releases.includes(o));
const ns = objects.filter(o => o.apiVersion === "v1" && o.kind === "Namespace");
const rest = objects.filter(o => !ns.includes(o));
const pa = rest.find(o => o.kind === "PeerAuthentication");
if (!pa) throw new Error("the dev plan has no PeerAuthentication");
const bad = structuredClone(pa);
bad.metadata.name = "cluster-check-invalid-mode";
bad.spec = { ...bad.spec, mtls: { mode: "SOMETIMES" } };
delete bad.spec.portLevelMtls;
const dump = os => os.map(o => "---\n" + YAML.stringify(o)).join("");
fs.writeFileSync(out + "/namespaces.yaml", dump(ns));
fs.writeFileSync(out + "/objects.yaml", dump(rest));
fs.writeFileSync(out + "/invalid-peerauthentication.yaml", dump([bad]));
fs.writeFileSync(out + "/counts", [docs.length, releases.length, ns.length, rest.length].join(" ") + "\n");
' "$WORK/plan.yaml" "$WORK")
read -r n_docs n_releases n_ns n_rest <"$WORK/counts"
echo "   plan: ${n_docs} documents; ${n_releases} helm.sh/v3 Release dropped; ${n_ns} Namespaces + ${n_rest} other Kubernetes objects to send"
took

step "cluster:up (network namespace ${NS}, loopback only)"
bash "$REPO/tools/cluster/up.sh" | tee "$WORK/up.log"
KUBECONFIG_FILE="$(tail -1 "$WORK/up.log")"
[ -f "$KUBECONFIG_FILE" ] || fail "cluster:up printed no kubeconfig"
kc() { ip netns exec "$NS" "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
echo "   server: $(kc version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1), $(kc get nodes --no-headers | wc -l) node(s)"
took

step "CRDs apply server-side (${CRD_VERSIONS})"
crd_names=()
for f in "${CRD_FILES[@]}"; do
  out="$(kc apply --server-side --field-manager=istio-mtls-test -f "$f")" || fail "CRDs in $f were not applied: $out"
  n="$(grep -c 'serverside-applied$' <<<"$out" || true)"
  [ "$n" -gt 0 ] || fail "no CRD applied from $f"
  echo "   ${n} CRD(s) from ${f#"$(go env GOMODCACHE)/"}"
  mapfile -t -O "${#crd_names[@]}" crd_names < <(sed -n 's/ serverside-applied$//p' <<<"$out")
done
kc wait --for=condition=Established --timeout=60s "${crd_names[@]}" >/dev/null \
  || fail "not every CRD became Established"
istio_n="$(printf '%s\n' "${crd_names[@]}" | grep -c 'istio\.io$' || true)"
cm_n="$(printf '%s\n' "${crd_names[@]}" | grep -c 'cert-manager\.io$' || true)"
echo "   ${#crd_names[@]} CRDs Established: ${istio_n} Istio (*.istio.io), ${cm_n} cert-manager (*.cert-manager.io)"
took

step "every Kubernetes object of the dev plan is accepted by the API server"
out="$(kc apply --server-side --field-manager=istio-mtls-test -f "$WORK/namespaces.yaml")" || fail "namespaces refused: $out"
sed 's/^/   /' <<<"$out"
n_ns_ok="$(grep -c 'serverside-applied$' <<<"$out" || true)"
# The server's answers, one line each: apiVersion kind namespace/name.
out="$(kc apply --server-side --dry-run=server --field-manager=istio-mtls-test -f "$WORK/objects.yaml" \
  -o jsonpath='{range .items[*]}{.apiVersion} {.kind} {.metadata.namespace}/{.metadata.name}{"\n"}{end}' 2>&1)" \
  || { echo "$out" >&2; fail "the API server refused objects of the dev plan"; }
sed 's/^/   accepted (server dry run): /; s/ \// /' <<<"$out"
n_ok="$(grep -c . <<<"$out" || true)"
[ "$n_ns_ok" = "$n_ns" ] && [ "$n_ok" = "$n_rest" ] \
  || fail "accepted ${n_ns_ok}/${n_ns} Namespaces and ${n_ok}/${n_rest} other objects"
echo "   accepted: $((n_ns_ok + n_ok))/$((n_ns + n_rest)) (${n_ns_ok} Namespaces created, ${n_ok} objects by server-side dry run)"
took

step "the world is wrong: a PeerAuthentication with mtls.mode SOMETIMES is rejected by the CRD schema"
if out="$(kc apply --server-side --dry-run=server --field-manager=istio-mtls-test -f "$WORK/invalid-peerauthentication.yaml" 2>&1)"; then
  fail "the API server accepted an invalid PeerAuthentication: $out"
fi
expected='spec.mtls.mode: Unsupported value: "SOMETIMES": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT"'
grep -qF "$expected" <<<"$out" || { echo "$out" >&2; fail "rejected, but not with the message: $expected"; }
echo "   rejected as expected: $(grep -oF "$expected" <<<"$out")"
took

step "the control plane: a Deployment becomes Ready on kwok's node"
# apply, not create: with KEEP_CLUSTER=1 a later run finds it.
kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<<"{apiVersion: v1, kind: Namespace, metadata: {name: cluster-check}}"
# kwok runs no containers: the image is never pulled.
kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: cluster-check}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - {name: echo, image: registry.invalid/echo:never-pulled}
EOF
kc -n cluster-check rollout status deployment/echo --timeout=90s >/dev/null || fail "deployment cluster-check/echo did not become Ready"
pod="$(kc -n cluster-check get pods -l app=echo -o jsonpath='{.items[0].metadata.name}')"
echo "   deployment cluster-check/echo Ready after $((SECONDS - step_start))s: $(kc -n cluster-check get pod "$pod" -o jsonpath='pod {.metadata.name} on {.spec.nodeName}, IP {.status.podIP}, phase {.status.phase}, service account {.spec.serviceAccountName}')"
took

step "kubectl exec through the API server's pods/exec subresource to kwok"
mkdir -p "$WORK/exec"
kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata: {name: cluster-check}
spec:
  selector: {matchNamespaces: [cluster-check]}
  execs:
  - local:
      workDir: $WORK/exec
      envs:
      - {name: CLUSTER_CHECK, value: "exec reached kwok"}
EOF
# kwok sees the ClusterExec through a watch: retry until it answers.
want="exec reached kwok in $WORK/exec"
for _ in $(seq 50); do
  got="$(kc -n cluster-check exec "$pod" -c echo -- sh -c 'echo "$CLUSTER_CHECK in $(pwd)"' 2>&1)" || true
  [ "$got" = "$want" ] && break
  sleep 0.2
done
[ "$got" = "$want" ] || fail "kubectl exec returned '$got', expected '$want'"
echo "   kubectl exec -n cluster-check $pod -- sh -c 'echo \"\$CLUSTER_CHECK in \$(pwd)\"' -> $got"
# RBAC is the real API server's: the namespace's default service account may
# read pods (kubectl exec reads the pod first) but not create pods/exec.
kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: cluster-check}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: default-pod-reader, namespace: cluster-check}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {kind: ServiceAccount, name: default, namespace: cluster-check}
EOF
sa=system:serviceaccount:cluster-check:default
denied="$(kc -n cluster-check exec "$pod" --as="$sa" -- true 2>&1)" && fail "exec as $sa (no pods/exec rights) was allowed"
expected="User \"$sa\" cannot create resource \"pods/exec\""
grep -qF "$expected" <<<"$denied" || fail "exec as $sa failed, but not with: $expected ($denied)"
echo "   as $sa (may get pods, not exec): Forbidden: $expected"
took

echo
echo "test:cluster: ok in $((SECONDS - start))s"
