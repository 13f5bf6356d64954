#!/usr/bin/env bash
# npm run test:cluster: runs this project's stack against a real Kubernetes
# control plane (tools/cluster: etcd, kube-apiserver, controller-manager,
# scheduler and kwok, built from Go modules, in the loopback-only network
# namespace istio-mtls) with real istiod and real cert-manager (run as local
# processes for the pods their charts create, tools/cluster/kubelet.sh), and
# checks what only a real cluster decides:
#   1. `pulumi up` (real CLI, real Kubernetes provider, file backend) installs
#      Istio and cert-manager from local charts and everything the dev stack
#      plans; every Deployment becomes Ready;
#   2. istiod's injector adds istio-proxy exactly where the model predicts;
#      `predict --kube` (the live read) predicts the plan's matrix, sees an app
#      team's PeerAuthentication the plan cannot, and names a missing RBAC
#      rule and a missing namespace;
#   3. cert-manager issues root -> intermediate into cacerts, istiod uses it,
#      istio-ca-root-cert in every namespace is the stack root;
#   4. a PeerAuthentication Istio rejects is refused by our config first and by
#      istiod's validation webhook; an invalid mode by the CRD schema;
#   5. `kubectl exec` through the real pods/exec subresource reaches kwok (and
#      is Forbidden without RBAC rights); the probe's runner and `verify --kube`
#      probe the one cell real processes can answer (sleep.legacy ->
#      httpbin.legacy:8000, go-httpbin, no sidecar at either end) and fail when
#      its server is gone;
#   6. a second preview shows no changes, refresh no drift; destroy removes
#      every object the stack created.
# There is no Envoy and no pod network: other data-plane outcomes are not
# checked here (the probe is off for `up`). Every client command runs inside the
# namespace. The cluster is brought up if it is not, and torn down at the end,
# pass or fail, unless KEEP_CLUSTER=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEST=test:cluster
STACK=cluster-test
# shellcheck source=test/cluster/lib.sh
source "$REPO/test/cluster/lib.sh"
# shellcheck source=test/cluster/stack.sh
source "$REPO/test/cluster/stack.sh"

step "build: control plane, istiod, cert-manager (tools/cluster), Pulumi toolchain (tools/build.sh), local charts"
stack_tools
took

trap cluster_teardown EXIT

step "the stack ${STACK}: Pulumi.dev.yaml with charts from ${CHARTS}"
stack_project Pulumi.dev.yaml
# No Envoy and no pod network here: every probed request would fail. The probe's
# exec path is checked on its own below; its data-plane cells are not claimed.
cfg --path istio-mtls:probe.enabled false
(cd "$PROJECT" && node bin/istio-mtls.js plan --stack "$STACK" --format yaml) >"$WORK/plan.yaml"
read -r n_objects n_releases < <(node -e '
const YAML = require("yaml");
const docs = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean);
const releases = docs.filter((o) => o.apiVersion === "helm.sh/v3" && o.kind === "Release");
console.log(docs.length - releases.length, releases.length);
' "$WORK/plan.yaml")
echo "   istio ${CHART_VERSIONS}; plan: ${n_objects} Kubernetes objects and ${n_releases} Helm releases (local charts)"
took

step "cluster:up (network namespace ${NS}, loopback only)"
bash "$REPO/tools/cluster/up.sh" | tee "$WORK/up.log"
KUBECONFIG_FILE_UP="$(tail -1 "$WORK/up.log")"
[ "$KUBECONFIG_FILE_UP" = "$KUBECONFIG_FILE" ] || fail "cluster:up printed ${KUBECONFIG_FILE_UP}, expected ${KUBECONFIG_FILE}"
echo "   server: $(kc version -o json | sed -n 's/.*"gitVersion": "\(v[^"]*\)".*/\1/p' | tail -1), $(kc get nodes --no-headers | wc -l) node(s)"
took

step "pulumi up -s ${STACK}: the real CLI and Kubernetes provider, Istio and cert-manager from local charts"
stack_up "$WORK/up.txt"
grep -E '^ +\+ [0-9]+ created|^Duration:' "$WORK/up.txt" | sed 's/^ */   /'
p stack export >"$WORK/state.json"
n_state="$(node -e 'const d=require(process.argv[1]).deployment; const r=d.resources.filter(r=>!r.type.startsWith("pulumi:")); console.log(r.length)' "$WORK/state.json")"
echo "   ${n_state} resources in the stack's state"
took

step "every Deployment is Ready; CRDs from the charts are Established"
kc get deployments -A -o json >"$WORK/deployments.json"
# Every Deployment in the cluster (the charts' too), and every one the plan made is among them.
node -e '
const YAML = require("yaml");
const items = require(process.argv[1]).items;
const planned = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[2], "utf8")).map((d) => d.toJS())
  .filter((o) => o && o.kind === "Deployment").map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
let bad = 0;
for (const d of items) {
  const want = d.spec.replicas ?? 1, ready = d.status.readyReplicas ?? 0;
  console.log(`   ${d.metadata.namespace}/${d.metadata.name}: ${ready}/${want} ready`);
  if (ready !== want) bad++;
}
const missing = planned.filter((id) => !items.some((d) => `${d.metadata.namespace}/${d.metadata.name}` === id));
if (missing.length) { console.error(`planned but not in the cluster: ${missing.join(", ")}`); process.exit(1); }
if (bad) { console.error(`${bad} Deployment(s) not Ready`); process.exit(1); }
console.log(`   ${items.length} Deployments Ready, the ${planned.length} of the plan among them`);
' "$WORK/deployments.json" "$WORK/plan.yaml" || fail "not every Deployment is Ready"
istio_n="$(kc get crd -o name | grep -c 'istio\.io$' || true)"
cm_n="$(kc get crd -o name | grep -c 'cert-manager\.io$' || true)"
[ "$istio_n" -gt 0 ] && [ "$cm_n" -gt 0 ] || fail "CRDs missing: ${istio_n} Istio, ${cm_n} cert-manager"
kc wait --for=condition=Established --timeout=30s $(kc get crd -o name | grep -E 'istio\.io$|cert-manager\.io$') >/dev/null
echo "   CRDs Established: ${istio_n} Istio, ${cm_n} cert-manager (installed by the base and cert-manager charts)"
took

step "sidecar injection by the real istiod agrees with the model's prediction"
kc get pods -A -o json >"$WORK/pods.json"
(cd "$PROJECT" && node_modules/.bin/tsx test/cluster/check-injection.ts "Pulumi.$STACK.yaml" "$WORK/pods.json") \
  || fail "the injector and the model disagree"
took

step "predict --kube: the live read of what the stack applied predicts the plan's matrix"
# The read goes through the real API server (lists per kind and namespace, Istio's CRDs, the
# injection webhooks istiod's chart installed); the plan predicts from the config alone.
(cd "$PROJECT" && node bin/istio-mtls.js plan --stack "$STACK" --format json --fail-on never) >"$WORK/plan.json"
clients="$(node -e 'const p=require(process.argv[1]);console.log([...new Set(p.probes.map(c=>c.from))].join(","))' "$WORK/plan.json")"
[ -n "$clients" ] || fail "istio-mtls plan predicted no cells for ${STACK}"
live() { in_ns node "$PROJECT/bin/istio-mtls.js" predict --kube --kubeconfig "$1" -n foo,bar,legacy --from "$clients" --format json; }
# Cells as the engine test compares them; prints the differing ones, exit 1 when any differ.
same_cells() {
  node -e '
    const cells = (f) => require(f).probes.map(({ from, to, code, mtls, reason }) => JSON.stringify({ from, to, code, mtls, reason })).sort();
    const [plan, live] = [cells(process.argv[1]), cells(process.argv[2])];
    const only = (a, b) => a.filter((x) => !b.includes(x));
    if (JSON.stringify(plan) === JSON.stringify(live)) { console.log(`${plan.length} cells identical`); process.exit(0); }
    console.log(["plan only:", ...only(plan, live), "live only:", ...only(live, plan)].join("\n"));
    process.exit(1);
  ' "$1" "$2"
}
live "$KUBECONFIG_FILE" >"$WORK/live.json" 2>"$WORK/live.err" || { cat "$WORK/live.err" >&2; fail "predict --kube failed"; }
same="$(same_cells "$WORK/plan.json" "$WORK/live.json")" || fail "the live prediction differs from the plan's: ${same}"
echo "   predict --kube -n foo,bar,legacy --from ${clients}: ${same}"
# The world is wrong: an app team's PeerAuthentication, applied beside the stack's, opens httpbin.foo
# to plaintext. The live read must see it; the plan cannot.
kc apply --server-side --field-manager=app-team -f - >/dev/null <<'EOF'
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: app-team-permissive, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  mtls: {mode: PERMISSIVE}
EOF
live "$KUBECONFIG_FILE" >"$WORK/live-app-team.json" 2>/dev/null || fail "predict --kube failed with the app team's PeerAuthentication"
# Outcomes (code, mTLS) change in exactly one cell; the reason of every cell to httpbin.foo:8000
# changes with them (the app team's policy now decides its port for every client), and no other cell changes at all.
node -e '
  const byCell = (f) => new Map(require(f).probes.map((c) => [`${c.from} -> ${c.to}`, c]));
  const [plan, live] = [byCell(process.argv[1]), byCell(process.argv[2])];
  const problems = [];
  const keys = [...new Set([...plan.keys(), ...live.keys()])].sort();
  for (const k of keys) {
    const p = plan.get(k), l = live.get(k);
    if (!p || !l) { problems.push(`${k}: only in the ${p ? "plan" : "live prediction"}`); continue; }
    const outcome = (c) => JSON.stringify({ code: c.code, mtls: c.mtls });
    const changed = outcome(p) !== outcome(l);
    if (k === "sleep.legacy -> httpbin.foo:8000") {
      if (!(p.code === 0 && l.code === 200 && l.mtls === false)) problems.push(`${k}: plan ${outcome(p)}, live ${outcome(l)}; expected refused (0) in the plan, 200 in plaintext live`);
    } else if (changed) problems.push(`${k}: plan ${outcome(p)}, live ${outcome(l)}; expected unchanged`);
    const decidedByAppTeam = /PeerAuthentication foo\/app-team-permissive/.test(l.reason);
    if (k.endsWith(" -> httpbin.foo:8000") !== decidedByAppTeam) problems.push(`${k}: live reason "${l.reason}"`);
    if (!k.endsWith(" -> httpbin.foo:8000") && p.reason !== l.reason) problems.push(`${k}: reason changed: "${p.reason}" -> "${l.reason}"`);
  }
  if (problems.length) { console.log(problems.join("\n")); process.exit(1); }
  console.log(`${keys.length} cells, 1 outcome changed`);
' "$WORK/plan.json" "$WORK/live-app-team.json" >"$WORK/app-team.txt" \
  || fail "the app team's PERMISSIVE PeerAuthentication on httpbin.foo should change sleep.legacy -> httpbin.foo:8000 alone, to 200, and decide every cell to that port: $(cat "$WORK/app-team.txt")"
echo "   with an app team's PERMISSIVE PeerAuthentication on httpbin.foo ($(cat "$WORK/app-team.txt")): sleep.legacy -> httpbin.foo:8000 becomes 200 live (the plan says refused), and that policy decides every cell to httpbin.foo:8000"
kc -n foo delete peerauthentication app-team-permissive >/dev/null
# Errors a user meets, named: an identity without read rights, a namespace that is not there.
# legacy's sleep has no RBAC rights: the read's first request, GET of a scope Namespace (its labels
# decide injection), is refused, and the error names the rule; the real API server authorizes it
# as a request in that namespace, so the rule named is a Role there. Granted exactly that, the same
# identity gets past the Namespaces and is refused the next read, named in turn.
cp "$KUBECONFIG_FILE" "$WORK/sleep-legacy.kubeconfig"
"$BIN/kubectl" config --kubeconfig "$WORK/sleep-legacy.kubeconfig" set-credentials sleep-legacy --token="$(kc -n legacy create token sleep)" >/dev/null
"$BIN/kubectl" config --kubeconfig "$WORK/sleep-legacy.kubeconfig" set-context --current --user=sleep-legacy >/dev/null
rc=0; live "$WORK/sleep-legacy.kubeconfig" >/dev/null 2>"$WORK/live-rbac.err" || rc=$?
ns_rule='needs the RBAC rule {apiGroups: \[""\], resources: \["namespaces"\], verbs: \["get"\]} in a Role in namespace \(foo\|bar\|legacy\) '
[ "$rc" = 2 ] && grep -q "^error: forbidden: cannot get namespace \(foo\|bar\|legacy\) .*${ns_rule}" "$WORK/live-rbac.err" \
  || fail "predict --kube as legacy's sleep (no rights): exit ${rc}, expected 2 naming the RBAC rule for the Namespace: $(cat "$WORK/live-rbac.err")"
echo "   as legacy's sleep service account: exit 2, $(cut -c1-400 "$WORK/live-rbac.err")"
for n in foo bar legacy; do
  kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<EOF
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read-namespace, namespace: $n}
rules:
- {apiGroups: [""], resources: [namespaces], verbs: [get]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: sleep-legacy-read-namespace, namespace: $n}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-namespace}
subjects:
- {kind: ServiceAccount, name: sleep, namespace: legacy}
EOF
done
rc=0; live "$WORK/sleep-legacy.kubeconfig" >/dev/null 2>"$WORK/live-rbac2.err" || rc=$?
[ "$rc" = 2 ] && ! grep -q 'namespace \(foo\|bar\|legacy\) (' "$WORK/live-rbac2.err" \
  && grep -q '^error: forbidden: cannot get configmaps in namespace istio-system .*needs the RBAC rule {apiGroups: \[""\], resources: \["configmaps"\], verbs: \["get"\]} in a Role in namespace istio-system' "$WORK/live-rbac2.err" \
  || fail "predict --kube as legacy's sleep with the Role named: exit ${rc}, expected 2 refused the mesh ConfigMap next: $(cat "$WORK/live-rbac2.err")"
echo "   granted that Role in foo, bar and legacy: exit 2, $(cut -c1-160 "$WORK/live-rbac2.err")..."
for n in foo bar legacy; do kc -n "$n" delete rolebinding sleep-legacy-read-namespace >/dev/null; kc -n "$n" delete role read-namespace >/dev/null; done
rc=0; in_ns node "$PROJECT/bin/istio-mtls.js" predict --kube --kubeconfig "$KUBECONFIG_FILE" -n nosuch >/dev/null 2>"$WORK/live-ns.err" || rc=$?
[ "$rc" = 2 ] && grep -q 'namespace nosuch not found' "$WORK/live-ns.err" \
  || fail "predict --kube -n nosuch: exit ${rc}, expected 2 naming the namespace: $(cat "$WORK/live-ns.err")"
echo "   -n nosuch: exit 2, $(cat "$WORK/live-ns.err")"
# verify --kube reads the same way and probes from the probe clients: this stack runs none.
rc=0; in_ns node "$PROJECT/bin/istio-mtls.js" verify --kube --kubeconfig "$KUBECONFIG_FILE" -n foo >/dev/null 2>"$WORK/verify.err" || rc=$?
[ "$rc" = 2 ] && grep -q '^error: no probe client runs in foo or istio-mtls-probe' "$WORK/verify.err" \
  || fail "verify --kube -n foo without probe clients: exit ${rc}, expected 2 naming them: $(cat "$WORK/verify.err")"
echo "   verify --kube -n foo (no probe client deployed): exit 2, $(grep '^error:' "$WORK/verify.err")"
took

step "the mesh CA: cacerts issued by cert-manager, used by istiod, its root in every namespace"
kc -n istio-system wait --for=condition=Ready --timeout=30s certificate --all >/dev/null
root_fp() { openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
root="$(kc -n cert-manager get secret istio-mtls-root-ca -o jsonpath='{.data.tls\.crt}' | base64 -d | root_fp)"
cacerts_ca="$(kc -n istio-system get secret cacerts -o jsonpath='{.data.ca\.crt}' | base64 -d | root_fp)"
[ -n "$root" ] && [ "$root" = "$cacerts_ca" ] || fail "cacerts ca.crt (${cacerts_ca}) is not the stack root (${root})"
issuer="$(kc -n istio-system get secret cacerts -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -issuer)"
echo "   root (cert-manager/istio-mtls-root-ca) sha256 ${root}"
echo "   istio-system/cacerts: intermediate ${issuer}, ca.crt = the root"
# local-kubelet writes each process's log under the state folder, one file per pod container.
istiod_pod="$(kc -n istio-system get pods -l app=istiod -o jsonpath='{.items[0].metadata.name}')"
istiod_log="$STATE/logs/pods/istio-system_${istiod_pod}_discovery.log"
ca_line="Use local CA certificate"
grep -qF "$ca_line" "$istiod_log" || fail "istiod's log ($istiod_log) does not say '$ca_line'"
echo "   istiod (pod ${istiod_pod}, a real pilot-discovery): $(grep -F "$ca_line" "$istiod_log" | head -1 | cut -c1-160)"
for ns in foo bar legacy; do
  got="$(kc -n "$ns" get configmap istio-ca-root-cert -o jsonpath='{.data.root-cert\.pem}' | root_fp)"
  [ "$got" = "$root" ] || fail "istio-ca-root-cert in $ns is ${got:-missing}, not the stack root"
done
echo "   istio-ca-root-cert in foo, bar, legacy: the stack root"
took

step "a workload certificate from istiod's CA chains to the stack root, with sleep.foo's SPIFFE identity"
# As the Istio agent does (tools/istioctl/workload-cert on Istio's caclient): a CSR over gRPC to
# istiod's port 15012 with sleep.foo's service-account token, which istiod checks by TokenReview.
istiod_ip="$(kc -n istio-system get pod "$istiod_pod" -o jsonpath='{.status.podIP}')"
kc -n cert-manager get secret istio-mtls-root-ca -o jsonpath='{.data.tls\.crt}' | base64 -d >"$WORK/root.pem"
kc -n foo create token sleep --audience istio-ca --duration 10m >"$WORK/sleep-foo.token"
spiffe=spiffe://cluster.local/ns/foo/sa/sleep
csr() { in_ns workload-cert --ca "${istiod_ip}:15012" --root "$WORK/root.pem" --token "$WORK/sleep-foo.token" --identity "$1"; }
csr "$spiffe" >"$WORK/chain.pem" 2>"$WORK/csr.err" || { cat "$WORK/csr.err" >&2; fail "istiod's CA did not sign sleep.foo's CSR"; }
awk '/BEGIN CERT/{n++} n==1' "$WORK/chain.pem" >"$WORK/leaf.pem"
awk '/BEGIN CERT/{n++} n>1' "$WORK/chain.pem" >"$WORK/untrusted.pem"
verified="$(openssl verify -CAfile "$WORK/root.pem" -untrusted "$WORK/untrusted.pem" "$WORK/leaf.pem" 2>&1)" \
  || fail "the workload certificate does not chain to the stack root: $verified"
san="$(openssl x509 -in "$WORK/leaf.pem" -noout -ext subjectAltName | tail -1 | tr -d ' ')"
[ "$san" = "URI:$spiffe" ] || fail "the workload certificate's SAN is '$san', expected URI:$spiffe"
echo "   $(grep -c 'BEGIN CERT' "$WORK/chain.pem") certificates from istiod; openssl verify against cert-manager/istio-mtls-root-ca: ${verified##*: }; SAN ${san}"
# The world is wrong: the identity comes from the token, never from the CSR (Istio's CA server
# signs for the authenticated caller), and a token the API server does not know is refused.
csr spiffe://cluster.local/ns/bar/sa/sleep >"$WORK/other.pem" 2>"$WORK/csr.err" || { cat "$WORK/csr.err" >&2; fail "istiod refused a CSR naming another identity"; }
other_san="$(awk '/BEGIN CERT/{n++} n==1' "$WORK/other.pem" | openssl x509 -noout -ext subjectAltName | tail -1 | tr -d ' ')"
[ "$other_san" = "URI:$spiffe" ] || fail "sleep.foo's token asking for bar's identity got a certificate for '$other_san'"
echo "   sleep.foo's token, CSR for spiffe://cluster.local/ns/bar/sa/sleep: issued for ${other_san} (the token's identity)"
echo not-a-token >"$WORK/bad.token"
if in_ns workload-cert --ca "${istiod_ip}:15012" --root "$WORK/root.pem" --token "$WORK/bad.token" --identity "$spiffe" >/dev/null 2>"$WORK/csr.err"; then
  fail "istiod signed a CSR sent with an invalid token"
fi
echo "   an invalid token: $(grep -o 'rpc error.*' "$WORK/csr.err" | head -1)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=other-root -days 1 -out "$WORK/other-root.pem" 2>/dev/null
if openssl verify -CAfile "$WORK/other-root.pem" -untrusted "$WORK/untrusted.pem" "$WORK/leaf.pem" >/dev/null 2>&1; then fail "the chain verifies against an unrelated root"; fi
echo "   against an unrelated root: does not verify"
took

step "a PeerAuthentication Istio rejects: refused by our config first, then by istiod's validation webhook"
# bar/httpbin's workload policy with port key "+8080": the CRD schema's CEL rule reads it as
# int("+8080") = 8080 and lets it through; istiod decodes portLevelMtls keys as uint32 and refuses it.
node -e '
const fs = require("fs"); const YAML = require("yaml");
const [plan, stackFile, out] = process.argv.slice(1);
const docs = YAML.parseAllDocuments(fs.readFileSync(plan, "utf8")).map((d) => d.toJS()).filter(Boolean);
const pa = docs.find((o) => o.kind === "PeerAuthentication" && o.spec.portLevelMtls);
if (!pa) throw new Error("the plan has no PeerAuthentication with portLevelMtls");
const dump = (o) => "---\n" + YAML.stringify(o);
const [port, mode] = Object.entries(pa.spec.portLevelMtls)[0];
fs.writeFileSync(out + "/plus-port.yaml", dump({ ...pa, metadata: { ...pa.metadata, name: "cluster-check-plus-port" }, spec: { ...pa.spec, portLevelMtls: { ["+" + port]: mode } } }));
fs.writeFileSync(out + "/invalid-mode.yaml", dump({ ...pa, metadata: { ...pa.metadata, name: "cluster-check-invalid-mode" }, spec: { selector: pa.spec.selector, mtls: { mode: "SOMETIMES" } } }));
// The same mistake in the stack config: the workload entry with port key "+8080".
const doc = YAML.parseDocument(fs.readFileSync(stackFile, "utf8"));
const levels = doc.getIn(["config", "istio-mtls:mtls", "workloads", 0, "portLevelMtls"]).toJSON();
doc.setIn(["config", "istio-mtls:mtls", "workloads", 0, "portLevelMtls"], Object.fromEntries(Object.entries(levels).map(([k, v]) => ["+" + k, v])));
fs.writeFileSync(out + "/Pulumi.cluster-bad.yaml", doc.toString());
' "$WORK/plan.yaml" "$PROJECT/Pulumi.$STACK.yaml" "$WORK"
cp "$WORK/Pulumi.cluster-bad.yaml" "$PROJECT/"
if out="$(cd "$PROJECT" && node bin/istio-mtls.js plan --stack cluster-bad 2>&1)"; then fail "istio-mtls plan accepted portLevelMtls port \"+8080\""; fi
expected='istio-mtls:mtls.workloads[0].portLevelMtls["+8080"]: "+8080" is not a port; allowed: 1..65535'
grep -qF "$expected" <<<"$out" || { echo "$out" >&2; fail "our config refused it, but not with: $expected"; }
echo "   our config: $expected"
if out="$(kc apply --server-side --dry-run=server --field-manager=istio-mtls-test -f "$WORK/plus-port.yaml" 2>&1)"; then
  fail "the API server accepted a PeerAuthentication with portLevelMtls port \"+8080\": $out"
fi
expected='admission webhook "validation.istio.io" denied the request'
grep -qF "$expected" <<<"$out" || { echo "$out" >&2; fail "rejected, but not by istiod's webhook: $out"; }
echo "   the API server: $(sed 's/^Error from server[^:]*: //' <<<"$out" | head -1 | cut -c1-220)"
took

step "the world is wrong: a PeerAuthentication with mtls.mode SOMETIMES is rejected by the CRD schema"
if out="$(kc apply --server-side --dry-run=server --field-manager=istio-mtls-test -f "$WORK/invalid-mode.yaml" 2>&1)"; then
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

step "the ConnectivityProbe's exec path: the real probe script through pods/exec, real go-httpbin behind legacy's endpoint"
# The probe's runner and transport (probe/runner.ts, probe/transport.ts) exec the probe script in
# sleep.legacy's pod through the API server's pods/exec; kwok runs it with the host's sh and curl,
# as nobody (65534: kwok needs a user the host knows; the pod's is 65532, also unprivileged). The only cells real processes can answer here are those without a
# sidecar at either end: sleep.legacy -> httpbin.legacy:8000, served by go-httpbin (the demo
# image's server and version) on the pod's address. No kube-proxy: the probe's curl is pointed from
# the Service port to the endpoint (--connect-to). Cells that need Envoy are not probed.
httpbin_ip="$(kc -n legacy get pods -l app=httpbin -o jsonpath='{.items[0].status.podIP}')"
# A simple command, not the in_ns function: `ip netns exec` execs the server, so $! is its pid.
ip netns exec "$NS" "$BIN/go-httpbin" -host "$httpbin_ip" -port 8080 </dev/null >"$WORK/go-httpbin.log" 2>&1 &
httpbin_pid=$!
STOP_PIDS+=("$httpbin_pid")
for _ in $(seq 50); do in_ns curl -sf -o /dev/null "http://${httpbin_ip}:8080/status/200" && break; sleep 0.1; done
in_ns curl -sf -o /dev/null "http://${httpbin_ip}:8080/status/200" || { cat "$WORK/go-httpbin.log" >&2; fail "go-httpbin did not answer on ${httpbin_ip}:8080"; }
kwok_exec probe-legacy legacy
probe() { (cd "$PROJECT" && in_ns node_modules/.bin/tsx test/cluster/probe-exec.ts "Pulumi.$STACK.yaml" "$KUBECONFIG_FILE" "$1" sleep.legacy "httpbin.legacy:8000=${httpbin_ip}:8080"); }
probe 30 || fail "the probe's observed cell differs from the prediction"
echo "   real: sleep.legacy -> httpbin.legacy:8000 (no sidecar at either end); not probed: the cells that need Envoy"
# The world is wrong: the server is gone; the probe must fail, not pass.
kill "$httpbin_pid"; wait "$httpbin_pid" 2>/dev/null || true
if probe 6 >"$WORK/probe-down.txt" 2>&1; then cat "$WORK/probe-down.txt"; fail "the probe passed with go-httpbin stopped"; fi
echo "   with go-httpbin stopped, the probe fails: $(grep -m1 -A1 '^Differences:' "$WORK/probe-down.txt" | tail -1 | sed 's/^ *//')"
took

step "verify --kube: the live read, prediction and probe through the real API server, pods/exec and go-httpbin at the Service's name"
# The probe's curl asks for http://httpbin.legacy:8000 by name; DNS and kube-proxy stood in for (stack.sh).
serve_service legacy httpbin 8000
svc_pid=$SERVED_PID
# legacy's one Service port, from sleep.legacy: the demo's httpbin (its port is named http: the HTTP check).
verify() { (cd "$PROJECT" && in_ns node bin/istio-mtls.js verify --kube --kubeconfig "$KUBECONFIG_FILE" -n legacy --from sleep.legacy --root-from-certificate istio-system/cacerts --request-timeout 5 "$@"); }
verify --deadline 30 >"$WORK/verify.txt" 2>&1 || { cat "$WORK/verify.txt"; fail "verify --kube -n legacy --from sleep.legacy: the real cell should match"; }
grep -qE '^sleep\.legacy +httpbin\.legacy:8000/headers +http +application answers \(plaintext\) +200 plaintext +ok$' "$WORK/verify.txt" \
  || { cat "$WORK/verify.txt"; fail "verify's cell sleep.legacy -> httpbin.legacy:8000 is not the 200 plaintext echo"; }
echo "   $(grep -E '^sleep\.legacy ' "$WORK/verify.txt" | tr -s ' ')"
echo "   $(grep -E '^1 cells? from' "$WORK/verify.txt")"
# The application's own 404 and 403 are its answers, not Envoy's: they match a request that reaches it.
for status in 404 403; do
  verify --deadline 0 --path "/status/$status" >"$WORK/verify-$status.txt" 2>&1 || { cat "$WORK/verify-$status.txt"; fail "verify --path /status/$status: go-httpbin's own $status should match 'application answers'"; }
  grep -qE "application answers \(plaintext\) +$status .*ok\$" "$WORK/verify-$status.txt" || { cat "$WORK/verify-$status.txt"; fail "verify --path /status/$status: no matching $status row"; }
done
echo "   --path /status/404 and /status/403: the application's own answers, exit 0"
# The world is wrong: the Service's server is gone. verify must exit 1 naming the cell, not pass.
kill "$svc_pid"; wait "$svc_pid" 2>/dev/null || true
rc=0; verify --deadline 0 >"$WORK/verify-down.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "sleep.legacy to httpbin.legacy:8000/headers: 000 (curl exit 7: connection refused), expected the application's answer" "$WORK/verify-down.txt" \
  || { cat "$WORK/verify-down.txt"; fail "verify with the Service's server stopped: exit ${rc}, expected 1 naming the refused cell"; }
echo "   with the Service's server stopped: exit 1, $(grep -m1 'expected the application' "$WORK/verify-down.txt" | sed 's/^ *//')"
kc delete clusterexec probe-legacy >/dev/null
took

step "a second preview shows no changes; refresh shows no drift"
kc delete namespace cluster-check --wait=true >/dev/null
kc delete clusterexec cluster-check >/dev/null
p preview --expect-no-changes >"$WORK/preview2.txt" 2>&1 || { tail -n 40 "$WORK/preview2.txt" >&2; fail "the second preview shows changes"; }
grep -E '^ +[0-9]+ unchanged' "$WORK/preview2.txt" | sed 's/^ */   preview: /'
p refresh --yes --expect-no-changes >"$WORK/refresh.txt" 2>&1 || { tail -n 40 "$WORK/refresh.txt" >&2; fail "pulumi refresh found drift"; }
grep -E '^ +[0-9]+ unchanged' "$WORK/refresh.txt" | tail -1 | sed 's/^ */   refresh: /'
took

step "pulumi destroy removes everything the stack created"
stack_destroy 'foo|bar|legacy|istio-system|cert-manager'
# Policies go before istiod (whose webhook admits their deletion), istiod before the CA.
line_of() { grep -nE "$1" "$WORK/destroy.txt" | tail -1 | cut -d: -f1; }
last_policy="$(line_of '(PeerAuthentication|DestinationRule) .* deleted')"
istiod_gone="$(line_of 'helm.sh/v3:Release istiod deleted')"
cacerts_gone="$(line_of 'Certificate istio-system/cacerts deleted')"
[ -n "$last_policy" ] && [ -n "$istiod_gone" ] && [ -n "$cacerts_gone" ] && [ "$last_policy" -lt "$istiod_gone" ] && [ "$istiod_gone" -lt "$cacerts_gone" ] \
  || fail "destroy order: last policy deleted at line ${last_policy:-?}, istiod at ${istiod_gone:-?}, cacerts at ${cacerts_gone:-?} of $WORK/destroy.txt"
echo "   order: every policy deleted before istiod's release, istiod before cacerts"
echo "   kept by the charts' helm.sh/resource-policy: keep: $(crds | grep -c 'istio\.io keep$') Istio and $(crds | grep -c 'cert-manager\.io keep$') cert-manager CRDs"
p stack rm --yes >/dev/null
took

echo
echo "test:cluster: ok in $((SECONDS - start))s"
