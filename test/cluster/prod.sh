#!/usr/bin/env bash
# npm run test:cluster:prod: `pulumi up` of the prod stack (Pulumi.prod.yaml as it is: mesh-wide
# STRICT, no demo, the probe on) against the real control plane of test/cluster/run.sh (real
# API server, real istiod and cert-manager from local charts, kwok's fake node), and checks:
#   1. `pulumi up` deploys the probe clients: istio-mtls-probe in shop with istio-proxy injected
#      by the real istiod, the plaintext one in namespace istio-mtls-probe without, as the model
#      predicts;
#   2. the ConnectivityProbe (the serialized dynamic provider, inside `pulumi up`) reads the
#      cluster live through the real API server: prod has no application Service, so the live
#      prediction has no cell, says so in the probe's notices (stack output probeNotices), and
#      the posture summary is "0 service ports"; `pulumi stack output --json` carries them;
#   3. a second preview shows no changes;
#   4. an app team's Service in shop without a sidecar: `pulumi up` probes both clients' cells to
#      it by the Service's name (go-httpbin at its ClusterIP) and reports it as accepting
#      plaintext without a reviewed exception; with its server stopped, `pulumi up` fails naming
#      the cell; with the plaintext probe client deleted behind the stack's back (no refresh), the
#      probe's live read misses it and `pulumi up` fails naming it;
#   5. `pulumi destroy` leaves no stack-created object.
# No cell through Envoy is real in this test: there is no Envoy and no pod network (kwok runs no
# containers); what is real is the injection, the live read, the requests to go-httpbin (the
# plaintext client's cell, no sidecar at either end) and the stack's outputs. The cluster is brought up if it is not, and
# torn down at the end, pass or fail, unless KEEP_CLUSTER=1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TEST=test:cluster:prod
STACK=prod
# shellcheck source=test/cluster/lib.sh
source "$REPO/test/cluster/lib.sh"
# shellcheck source=test/cluster/stack.sh
source "$REPO/test/cluster/stack.sh"

step "build (cached under ~/.cache/istio-mtls): cluster, toolchain, local charts"
stack_tools
took

trap cluster_teardown EXIT

# Pulumi.prod.yaml as shipped (probe on); only the cluster and the charts are set (stack.sh).
step "the stack ${STACK}: Pulumi.prod.yaml with charts from ${CHARTS}"
stack_project Pulumi.prod.yaml
[ "$(pulumi --cwd "$PROJECT" --stack "$STACK" config get --path istio-mtls:probe.enabled)" = true ] \
  || fail "Pulumi.prod.yaml does not enable the probe"
(cd "$PROJECT" && node bin/istio-mtls.js plan --stack "$STACK" --format yaml) >"$WORK/plan.yaml"
read -r n_objects planned_clients < <(node -e '
const YAML = require("yaml");
const docs = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[1], "utf8")).map((d) => d.toJS()).filter(Boolean);
const clients = docs.filter((o) => o.kind === "Deployment" && o.metadata.name === "istio-mtls-probe").map((o) => o.metadata.namespace).sort();
console.log(docs.length, clients.join(",") || "-");
' "$WORK/plan.yaml")
[ "$planned_clients" = "istio-mtls-probe,shop" ] || fail "the plan's probe clients are in '${planned_clients}', expected istio-mtls-probe,shop"
echo "   plan: ${n_objects} objects; probe clients (Deployment istio-mtls-probe) in ${planned_clients}"
took

step "cluster:up (network namespace ${NS}, loopback only)"
bash "$REPO/tools/cluster/up.sh" | tee "$WORK/up.log"
[ "$(tail -1 "$WORK/up.log")" = "$KUBECONFIG_FILE" ] || fail "cluster:up printed $(tail -1 "$WORK/up.log"), expected ${KUBECONFIG_FILE}"
took

step "pulumi up -s ${STACK}: the probe clients, then the ConnectivityProbe's live read inside pulumi up"
stack_up "$WORK/up.txt"
grep -E '^ +\+ [0-9]+ created|^Duration:' "$WORK/up.txt" | sed 's/^ */   /'
grep -q 'pulumi-nodejs:dynamic/probe:ConnectivityProbe .*created' "$WORK/up.txt" \
  || { grep -i probe "$WORK/up.txt" >&2; fail "pulumi up did not create the ConnectivityProbe"; }
took

step "the probe clients: istio-proxy injected by the real istiod in shop, none in istio-mtls-probe"
kc get pods -A -o json >"$WORK/pods.json"
(cd "$PROJECT" && node_modules/.bin/tsx test/cluster/check-injection.ts "Pulumi.$STACK.yaml" "$WORK/pods.json") | tee "$WORK/injection.txt" \
  || fail "the injector and the model disagree"
# Not only agreement: the two clients are there, one with a sidecar and one without.
containers() { kc -n "$1" get pods -l app=istio-mtls-probe -o jsonpath='{range .items[*]}{.spec.initContainers[*].name} {.spec.containers[*].name}{"\n"}{end}'; }
shop="$(containers shop)"; plain="$(containers istio-mtls-probe)"
[ "$(wc -l <<<"$shop")" = 1 ] && grep -qw istio-proxy <<<"$shop" && grep -qw probe <<<"$shop" \
  || fail "shop/istio-mtls-probe: containers '${shop}', expected one pod with probe and istio-proxy"
[ "$(wc -l <<<"$plain")" = 1 ] && grep -qw probe <<<"$plain" && ! grep -qw istio-proxy <<<"$plain" \
  || fail "istio-mtls-probe/istio-mtls-probe: containers '${plain}', expected one pod with probe and no istio-proxy"
echo "   shop: [${shop# }]; istio-mtls-probe: [${plain# }]"
took

step "the stack's outputs: no Service, no live cell, said in the notices; posture 0 service ports"
p stack output --json --show-secrets >"$WORK/outputs.json"
node -e '
const o = require(process.argv[1]);
const problems = [];
const summary = o.postureSummary, cells = o.probeCells, notices = o.probeNotices;
if (typeof summary !== "string" || !summary.startsWith("0 service ports")) problems.push(`postureSummary is ${JSON.stringify(summary)}, expected "0 service ports…"`);
if (!cells || cells.live !== 0 || cells.beforeApply !== 0) problems.push(`probeCells is ${JSON.stringify(cells)}, expected {beforeApply: 0, live: 0}`);
if (!Array.isArray(notices) || !notices.some((n) => /^no Service port to probe in shop: nothing is proven/.test(n))) problems.push(`probeNotices ${JSON.stringify(notices)} do not say that shop has no Service port`);
if (!Array.isArray(o.posture) || o.posture.length !== 0) problems.push(`posture is ${JSON.stringify(o.posture)}, expected []`);
if (o.probeAttempts !== 0) problems.push(`probeAttempts is ${JSON.stringify(o.probeAttempts)}, expected 0 (nothing to probe)`);
if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
console.log(`   postureSummary: ${summary}`);
console.log(`   probeCells: ${JSON.stringify(cells)}; probeAttempts: ${o.probeAttempts}`);
for (const n of notices) console.log(`   probeNotices: ${n}`);
' "$WORK/outputs.json" || fail "the stack outputs do not report the empty live prediction"
took

step "a second preview shows no changes"
p preview --expect-no-changes >"$WORK/preview2.txt" 2>&1 || { tail -n 40 "$WORK/preview2.txt" >&2; fail "the second preview shows changes"; }
grep -E '^ +[0-9]+ unchanged' "$WORK/preview2.txt" | sed 's/^ */   preview: /'
took

step "an app team's Service in shop without a sidecar: the probe's cells to it inside pulumi up, and the posture a human reads"
# The probe asks for api.shop:8000 by name; the cluster's DNS and kube-proxy are stood in for
# (serve_service: go-httpbin at the Service's ClusterIP). kwok runs the probe scripts of both probe clients with the
# host's sh and curl (as nobody). Real: the plaintext client's cell (no sidecar at either end).
# The shop client's request leaves without its sidecar here (no Envoy), so its cell is observed
# only as far as the application answering it; the model predicts plaintext for it either way
# (auto mTLS sends plaintext to an endpoint without sidecar).
kwok_exec probe-clients shop istio-mtls-probe
kc apply --server-side --field-manager=istio-mtls-test -f - >/dev/null <<EOF
apiVersion: v1
kind: ServiceAccount
metadata: {name: api, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, sidecar.istio.io/inject: "false"}}
    spec:
      serviceAccountName: api
      containers: [{name: api, image: docker.io/mccutchen/go-httpbin:v2.15.0, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 8000, targetPort: 8080}]
EOF
kc -n shop rollout status deployment/api --timeout=60s >/dev/null || fail "shop/api did not roll out"
[ -z "$(kc -n shop get pods -l app=api -o jsonpath='{.items[*].spec.containers[?(@.name=="istio-proxy")].name}')" ] || fail "shop/api got a sidecar despite sidecar.istio.io/inject: false"
serve_service shop api 8000
api_pid=$SERVED_PID
# The stack's objects did not change: the probe runs again on every up only with alwaysRun.
cfg --path istio-mtls:probe.alwaysRun true
cfg --path istio-mtls:probe.deadlineSeconds 20
p up --yes >"$WORK/up-api.txt" 2>&1 || { grep -E 'error|failed|Error|differ' "$WORK/up-api.txt" | tail -n 30 >&2; fail "pulumi up with shop/api failed"; }
p stack output --json --show-secrets >"$WORK/outputs-api.json"
node -e '
const o = require(process.argv[1]);
const problems = [];
const want = "1 service port: 0 refuse plaintext; 1 accepts it WITHOUT a reviewed exception: shop/api:8000";
if (o.postureSummary !== want) problems.push(`postureSummary is ${JSON.stringify(o.postureSummary)}, expected ${JSON.stringify(want)}`);
if (!o.probeCells || o.probeCells.live !== 2 || o.probeCells.beforeApply !== 0) problems.push(`probeCells is ${JSON.stringify(o.probeCells)}, expected {beforeApply: 0, live: 2}`);
const api = (o.posture ?? [])[0];
if (!api || api.service !== "api" || api.mtls !== "plaintext-accepted" || api.verdict !== "no-exception") problems.push(`posture[0] is ${JSON.stringify(api)}, expected api plaintext-accepted, no-exception`);
if (problems.length) { console.error(problems.join("\n")); process.exit(1); }
console.log(`   postureSummary: ${o.postureSummary}`);
for (const c of api.clients) console.log(`   ${c.from} -> shop/api:8000: ${c.code} ${c.how}`);
console.log(`   probeCells: ${JSON.stringify(o.probeCells)}; probeAttempts: ${o.probeAttempts}`);
' "$WORK/outputs-api.json" || fail "the stack outputs do not report shop/api as accepting plaintext without an exception"
# The world is wrong: the application's server is gone. pulumi up must fail naming the cell.
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true
cfg --path istio-mtls:probe.deadlineSeconds 5
if p up --yes >"$WORK/up-api-down.txt" 2>&1; then fail "pulumi up passed with shop/api's server stopped"; fi
expected="istio-mtls-probe.istio-mtls-probe to api.shop:8000: 000 (curl exit 7: connection refused), expected the application's answer"
grep -qF "$expected" "$WORK/up-api-down.txt" || { grep -iE 'error|differ' "$WORK/up-api-down.txt" | tail -n 20 >&2; fail "pulumi up failed, but not with: $expected"; }
echo "   with shop/api's server stopped, pulumi up fails: $expected"
took

step "the world is wrong: the plaintext probe client deleted behind the stack's back; the probe's live read misses it and pulumi up fails"
# Nothing refreshes the Deployment, so only the probe's own read at probe time can see it is gone.
kc -n istio-mtls-probe delete deployment istio-mtls-probe --cascade=foreground --wait=true >/dev/null
kc -n istio-mtls-probe wait --for=delete pod -l app=istio-mtls-probe --timeout=60s >/dev/null 2>&1 || true
[ -z "$(kc -n istio-mtls-probe get pods -l app=istio-mtls-probe -o name)" ] || fail "the plaintext probe client's pods are still there"
if p up --yes >"$WORK/up-bad.txt" 2>&1; then fail "pulumi up passed with the plaintext probe client gone"; fi
expected='no such client workload in context istio-mtls: istio-mtls-probe.istio-mtls-probe'
grep -qF "$expected" "$WORK/up-bad.txt" || { grep -iE 'error' "$WORK/up-bad.txt" | tail -n 20 >&2; fail "pulumi up failed, but not with: $expected"; }
echo "   pulumi up: $(grep -oF "$expected" "$WORK/up-bad.txt" | head -1) $(grep -oE '\(workloads: [^)]*\)' "$WORK/up-bad.txt" | head -1)"
took

step "pulumi destroy removes everything the stack created"
stack_destroy 'shop|istio-mtls-probe|istio-system|cert-manager'
p stack rm --yes >/dev/null
took

echo
echo "test:cluster:prod: ok in $((SECONDS - start))s"
