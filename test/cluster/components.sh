#!/usr/bin/env bash
# npm run test:cluster:components: istiod and cert-manager for real on the
# local cluster (tools/cluster: a real API server, kwok's fake node, and
# local-kubelet, which runs the pods of istiod and cert-manager as processes
# built from Go modules). Their Helm charts (tools/cluster/charts.sh: local
# folders from the Go modules) are installed with helm inside the network
# namespace istio-mtls, and the script checks, printing what it saw:
#   istiod   Ready only once its process answers /ready (and not while it waits
#            for its ConfigMaps); it signs with the provided cacerts (root ->
#            intermediate, cert-manager's tls.crt/tls.key/ca.crt layout);
#            istio-ca-root-cert in a new namespace is that root; its validation
#            webhook rejects a PeerAuthentication the CRD schema accepts; a
#            namespace labelled istio-injection=enabled gets istio-proxy
#            injected, one without the label does not;
#   cert-manager  self-signed ClusterIssuer -> root CA Certificate -> CA
#            ClusterIssuer -> Certificate, all Ready, the certificate verifies
#            against the root with openssl (and not against another root); its
#            webhook rejects invalid Certificates, and without the webhook pod a
#            create fails closed; a process that exits is restarted;
#   uninstalling the charts stops every process.
# The cluster is brought up if it is not, and torn down at the end, pass or
# fail, unless KEEP_CLUSTER=1.
set -euo pipefail

TEST=test:cluster:components
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=test/cluster/lib.sh
source "$REPO/test/cluster/lib.sh"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

step "build (cached under ~/.cache/istio-mtls): toolchain (pilot-discovery), cluster, charts"
TOOLCHAIN_BIN="$(bash "$REPO/tools/build.sh" | tail -1)"
BIN="$(bash "$REPO/tools/cluster/build.sh" | tail -1)"
CHARTS="$(bash "$REPO/tools/cluster/charts.sh" | tail -1)"
echo "   pilot-discovery: $TOOLCHAIN_BIN; cluster: $BIN"
echo "   charts: $CHARTS ($(bash "$REPO/tools/cluster/charts.sh" --versions))"
took

trap cluster_teardown EXIT

step "cluster:up (network namespace ${NS}, loopback only)"
bash "$REPO/tools/cluster/up.sh" | tee "$WORK/up.log"
KUBECONFIG_FILE="$(tail -1 "$WORK/up.log")"
S="$(dirname "$KUBECONFIG_FILE")"
KUBELET_LOG="$S/logs/local-kubelet.log"
kc() { ip netns exec "$NS" "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
helm() {
  ip netns exec "$NS" env HELM_CACHE_HOME="$WORK/helm/cache" HELM_CONFIG_HOME="$WORK/helm/config" \
    HELM_DATA_HOME="$WORK/helm/data" "$BIN/helm" --kubeconfig "$KUBECONFIG_FILE" "$@"
}
# wait_until SECONDS WHAT COMMAND...: polls every 0.2 s.
wait_until() {
  local limit="$1" what="$2" deadline; shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { tail -n 20 "$KUBELET_LOG" >&2; fail "${what}: not within ${limit}s (local-kubelet log: $KUBELET_LOG)"; }
    sleep 0.2
  done
}
# is WANT KUBECTL-GET-ARGS...: the output of kubectl get is WANT.
is() { local want="$1"; shift; [ "$(kc get "$@" 2>/dev/null)" = "$want" ]; }
# pod_of NAMESPACE SELECTOR: the name of the (one) pod.
pod_of() { kc -n "$1" get pods -l "$2" -o jsonpath='{.items[0].metadata.name}'; }
pod_log() { echo "$S/logs/pods/$1_$2_$3.log"; }
ready_of() { kc -n "$1" get pod "$2" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; }
# kubelet_pid NAMESPACE POD: the pid local-kubelet last started for the pod.
kubelet_pid() { sed -n "s|.* $1/$2 ([^)]*): started pid \([0-9]*\):.*|\1|p" "$KUBELET_LOG" | tail -1; }
rss() { awk '/^VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }
took

step "cacerts: a root CA and an intermediate it signs (openssl), in cert-manager's layout"
pki="$WORK/pki"
mkdir -p "$pki"
ca() {
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$pki/$1.key" -subj "/O=istio-mtls/CN=$2" -days 3650 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$pki/$1.crt" 2>/dev/null
}
ca root "components-check root"
ca other-root "components-check unrelated root"
openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/intermediate.key" -subj "/O=istio-mtls/CN=components-check intermediate" \
  -out "$pki/intermediate.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' >"$pki/intermediate.ext"
openssl x509 -req -in "$pki/intermediate.csr" -CA "$pki/root.crt" -CAkey "$pki/root.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days 365 -extfile "$pki/intermediate.ext" -out "$pki/intermediate.crt" 2>/dev/null
openssl verify -CAfile "$pki/root.crt" "$pki/intermediate.crt" >/dev/null || fail "the intermediate does not verify against the root"
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
ROOT_FP="$(fingerprint "$pki/root.crt")"
kc create namespace istio-system >/dev/null
kc -n istio-system create secret generic cacerts --from-file=tls.crt="$pki/intermediate.crt" \
  --from-file=tls.key="$pki/intermediate.key" --from-file=ca.crt="$pki/root.crt" >/dev/null
echo "   istio-system/cacerts: tls.crt = intermediate, tls.key, ca.crt = root (sha256 ${ROOT_FP:0:23}...)"
took

step "istio base and istiod: helm install of the local charts"
helm install istio-base "$CHARTS/base" -n istio-system --wait >/dev/null
t0="$(now)"
helm install istiod "$CHARTS/istiod" -n istio-system --wait --timeout 3m >/dev/null \
  || { tail -n 30 "$KUBELET_LOG" >&2; fail "helm install istiod did not finish (local-kubelet log: $KUBELET_LOG)"; }
ISTIOD_INSTALL="$(since "$t0")"
ISTIOD_POD="$(pod_of istio-system app=istiod)"
ISTIOD_LOG="$(pod_log istio-system "$ISTIOD_POD" discovery)"
ISTIOD_IP="$(kc -n istio-system get pod "$ISTIOD_POD" -o jsonpath='{.status.podIP}')"
ISTIOD_PID="$(kubelet_pid istio-system "$ISTIOD_POD")"
[ "$(readlink "/proc/$ISTIOD_PID/exe")" = "$TOOLCHAIN_BIN/pilot-discovery" ] \
  || fail "pod istio-system/$ISTIOD_POD: no pilot-discovery process (pid '$ISTIOD_PID'; $KUBELET_LOG)"
echo "   helm install istiod --wait: ${ISTIOD_INSTALL}s; pod $ISTIOD_POD (IP $ISTIOD_IP) runs pid $ISTIOD_PID: $(readlink "/proc/$ISTIOD_PID/exe")"
echo "   local-kubelet's account of it:"
grep -F " istio-system/$ISTIOD_POD " "$KUBELET_LOG" | sed 's/^/     /'
# Ready was reported by local-kubelet after /ready answered, not by kwok.
grep -qF "istio-system/$ISTIOD_POD (pilot-discovery): Ready=true (GET http://$ISTIOD_IP:8080/ready: 200)" "$KUBELET_LOG" \
  || fail "local-kubelet did not report istiod Ready from its /ready endpoint ($KUBELET_LOG)"
echo "   pod Ready since $(kc -n istio-system get pod "$ISTIOD_POD" -o jsonpath='{.status.conditions[?(@.type=="Ready")].lastTransitionTime}'), $(kc -n istio-system get pod "$ISTIOD_POD" -o jsonpath='{.status.containerStatuses[0].state}')"
took

step "the world is wrong: an app=istiod pod without the chart's ConfigMaps stays not Ready (kwok alone would make it Ready)"
kc create namespace components-check-no-config >/dev/null
wait_until 30 "service account components-check-no-config/default" kc -n components-check-no-config get serviceaccount default
kc -n components-check-no-config run istiod-alone --image=registry.invalid/pilot:never-pulled --labels=app=istiod \
  --env=REVISION=default >/dev/null
wait_until 30 "pod components-check-no-config/istiod-alone Running" \
  is Running -n components-check-no-config pod istiod-alone -o jsonpath='{.status.phase}'
wait_until 30 "local-kubelet waiting for the ConfigMaps" grep -qF "components-check-no-config/istiod-alone (pilot-discovery): waiting for ConfigMaps" "$KUBELET_LOG"
sleep 2
[ "$(ready_of components-check-no-config istiod-alone)" = False ] || fail "pod components-check-no-config/istiod-alone became Ready without a process"
echo "   after $((SECONDS - step_start))s: phase Running, Ready $(ready_of components-check-no-config istiod-alone), container $(kc -n components-check-no-config get pod istiod-alone -o jsonpath='{.status.containerStatuses[0].state.waiting.message}')"
kc delete namespace components-check-no-config --wait=false >/dev/null
took

step "istiod uses the provided CA"
line="$(grep -m1 -F "Use local CA certificate" "$ISTIOD_LOG")" || fail "istiod did not log 'Use local CA certificate' ($ISTIOD_LOG)"
echo "   istiod log: ${line}"
! grep -qF "Use self-signed certificate" "$ISTIOD_LOG" || fail "istiod logs that it self-signs ($ISTIOD_LOG)"
kc create namespace components-check-root >/dev/null
wait_until 30 "ConfigMap components-check-root/istio-ca-root-cert" kc -n components-check-root get configmap istio-ca-root-cert
kc -n components-check-root get configmap istio-ca-root-cert -o jsonpath='{.data.root-cert\.pem}' >"$WORK/istio-root.pem"
[ "$(fingerprint "$WORK/istio-root.pem")" = "$ROOT_FP" ] || fail "istio-ca-root-cert in a new namespace is not the provided root"
echo "   components-check-root/istio-ca-root-cert = the provided root (sha256 ${ROOT_FP:0:23}...)"
# istiod serves XDS on 15012 with a certificate from its CA: intermediate <- root.
ip netns exec "$NS" openssl s_client -connect "$ISTIOD_IP:15012" -showcerts </dev/null 2>/dev/null \
  | awk '/BEGIN CERT/ { n++ } n == 1 { print } /END CERT/ && n == 1 { exit }' >"$WORK/istiod-serving.pem"
openssl verify -CAfile "$pki/root.crt" -untrusted "$pki/intermediate.crt" "$WORK/istiod-serving.pem" >/dev/null \
  || fail "istiod's serving certificate on $ISTIOD_IP:15012 does not chain to the provided intermediate and root"
echo "   istiod's certificate on $ISTIOD_IP:15012 ($(openssl x509 -noout -ext subjectAltName -in "$WORK/istiod-serving.pem" | tail -1 | sed 's/^ *//')) verifies: root <- intermediate <- it"
! openssl verify -CAfile "$pki/other-root.crt" "$WORK/istiod-serving.pem" >/dev/null 2>&1 \
  || fail "istiod's certificate verifies against an unrelated root"
took

step "istiod's validation webhook rejects a PeerAuthentication the CRD schema accepts"
# istiod switches the webhook from Ignore to Fail once it serves it.
wait_until 60 "istiod-default-validator failurePolicy Fail" \
  is Fail validatingwebhookconfiguration istiod-default-validator -o jsonpath='{.webhooks[0].failurePolicy}'
pa() {
  cat <<EOF
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: components-check, namespace: components-check-root}
spec:
  selector: {matchLabels: {app: httpbin}}
  mtls: {mode: STRICT}
  portLevelMtls: {"$1": {mode: PERMISSIVE}}
EOF
}
pa 8080 | kc apply --dry-run=server -f - >/dev/null || fail "a valid PeerAuthentication (port 8080) was refused"
echo "   portLevelMtls port \"8080\": accepted (server dry run)"
# "+8080": the schema's CEL rule takes int("+8080") = 8080; istiod decodes the
# port map as uint32 keys and refuses it.
if out="$(pa +8080 | kc apply --dry-run=server -f - 2>&1)"; then fail "istiod accepted portLevelMtls port \"+8080\": $out"; fi
grep -qF 'admission webhook "validation.istio.io" denied the request' <<<"$out" || fail "rejected, but not by istiod's webhook: $out"
echo "   portLevelMtls port \"+8080\": $(sed 's/^Error from server: //' <<<"$out" | head -1)"
took

step "sidecar injection: a namespace labelled istio-injection=enabled gets istio-proxy, one without the label does not"
deploy() {
  kc create namespace "$1" >/dev/null
  [ -z "${2:-}" ] || kc label namespace "$1" "$2" >/dev/null
  kc -n "$1" create deployment sleep --image=registry.invalid/sleep:never-pulled >/dev/null
  kc -n "$1" rollout status deployment/sleep --timeout=60s >/dev/null || fail "deployment $1/sleep did not become Ready"
  kc -n "$1" get pods -l app=sleep -o jsonpath='{range .items[0].spec.initContainers[*]}{.name} {end}{range .items[0].spec.containers[*]}{.name} {end}'
}
injected="$(deploy components-check-injected istio-injection=enabled)"
plain="$(deploy components-check-plain)"
echo "   components-check-injected/sleep: containers: $injected"
echo "   components-check-plain/sleep: containers: $plain"
[[ " $injected " == *" istio-proxy "* ]] || fail "no istio-proxy in the labelled namespace's pod: $injected"
[[ " $plain " != *" istio-proxy "* ]] || fail "istio-proxy injected in a namespace without the label: $plain"
echo "   injected proxy image: $(kc -n components-check-injected get pods -l app=sleep -o jsonpath='{.items[0].spec.containers[?(@.name=="istio-proxy")].image}')"
took

step "cert-manager: helm install of the local chart (crds.enabled=true)"
t0="$(now)"
helm install cert-manager "$CHARTS/cert-manager" -n cert-manager --create-namespace --set crds.enabled=true --wait --timeout 3m >/dev/null \
  || { tail -n 30 "$KUBELET_LOG" >&2; fail "helm install cert-manager did not finish (local-kubelet log: $KUBELET_LOG)"; }
echo "   helm install --wait: $(since "$t0")s"
declare -A CM_POD CM_PID
for c in controller webhook cainjector; do
  CM_POD[$c]="$(pod_of cert-manager "app.kubernetes.io/component=$c")"
  CM_PID[$c]="$(kubelet_pid cert-manager "${CM_POD[$c]}")"
  [ "$(readlink "/proc/${CM_PID[$c]}/exe")" = "$BIN/cert-manager-$c" ] \
    || fail "pod cert-manager/${CM_POD[$c]}: no cert-manager-$c process (pid '${CM_PID[$c]}'; $KUBELET_LOG)"
  echo "   $c: pod ${CM_POD[$c]} Ready=$(ready_of cert-manager "${CM_POD[$c]}"), pid ${CM_PID[$c]}; $(grep -F " cert-manager/${CM_POD[$c]} " "$KUBELET_LOG" | grep -o 'Ready=true.*' | head -1)"
done
# The cainjector injects the webhook's CA into its configurations; until then
# calls fail with TLS errors.
cert() {
  cat <<EOF
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: ${1}, namespace: ${2}}
spec:
  secretName: ${1}-tls
  commonName: ${1}.${2}.svc
  dnsNames: [${1}.${2}.svc]
  issuerRef: {name: ${3}, kind: ${4:-ClusterIssuer}}
  ${5:-}
EOF
}
kc create namespace components-check-certs >/dev/null
cert probe components-check-certs components-check-ca >"$WORK/probe.yaml"
t0="$(now)"
wait_until 60 "cert-manager's webhook answering" kc apply --dry-run=server -f "$WORK/probe.yaml"
echo "   webhook answering (server dry run of a Certificate) $(since "$t0")s after the install"
took

step "cert-manager's webhook rejects invalid Certificates"
for bad in "duration: 30m|certificate duration must be greater than 1h0m0s" \
  "issuerRef.kind: Foo|spec.issuerRef.kind: Invalid value: \"Foo\": must be one of Issuer or ClusterIssuer"; do
  field="${bad%%|*}" expected="${bad#*|}"
  if [ "$field" = "issuerRef.kind: Foo" ]; then doc="$(cert bad components-check-certs components-check-ca Foo)"; else doc="$(cert bad components-check-certs components-check-ca ClusterIssuer "$field")"; fi
  if out="$(kc apply --dry-run=server -f - <<<"$doc" 2>&1)"; then fail "cert-manager accepted a Certificate with $field"; fi
  grep -qF 'admission webhook "webhook.cert-manager.io" denied the request' <<<"$out" && grep -qF "$expected" <<<"$out" \
    || fail "Certificate with $field: rejected, but not with: $expected ($out)"
  echo "   $field: ${out#*denied the request: }"
done
took

step "cert-manager issues: self-signed ClusterIssuer -> root CA -> CA ClusterIssuer -> Certificate"
kc apply -f - >/dev/null <<EOF
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: components-check-selfsigned}
spec: {selfSigned: {}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: components-check-root-ca, namespace: cert-manager}
spec:
  isCA: true
  commonName: components-check cert-manager root
  secretName: components-check-root-ca
  privateKey: {algorithm: ECDSA, size: 256}
  issuerRef: {name: components-check-selfsigned, kind: ClusterIssuer}
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: components-check-ca}
spec: {ca: {secretName: components-check-root-ca}}
---
$(cert leaf components-check-certs components-check-ca)
EOF
t0="$(now)"
kc wait --for=condition=Ready --timeout=60s clusterissuer/components-check-selfsigned clusterissuer/components-check-ca \
  -n cert-manager certificate/components-check-root-ca >/dev/null || fail "the issuers or the root CA did not become Ready"
kc -n components-check-certs wait --for=condition=Ready --timeout=60s certificate/leaf >/dev/null || fail "certificate components-check-certs/leaf did not become Ready"
echo "   all Ready $(since "$t0")s after being applied"
secret() { kc -n "$1" get secret "$2" -o jsonpath="{.data.${3//./\\.}}" | base64 -d; }
secret cert-manager components-check-root-ca tls.crt >"$WORK/cm-root.pem"
secret components-check-certs leaf-tls tls.crt >"$WORK/leaf.pem"
secret components-check-certs leaf-tls ca.crt >"$WORK/leaf-ca.pem"
openssl verify -CAfile "$WORK/cm-root.pem" "$WORK/leaf.pem" >/dev/null || fail "the issued certificate does not verify against the root CA"
[ "$(fingerprint "$WORK/leaf-ca.pem")" = "$(fingerprint "$WORK/cm-root.pem")" ] || fail "the leaf Secret's ca.crt is not the root"
echo "   openssl verify -CAfile root leaf: OK ($(openssl x509 -noout -subject -in "$WORK/leaf.pem"), $(openssl x509 -noout -issuer -in "$WORK/leaf.pem"))"
! openssl verify -CAfile "$pki/other-root.crt" "$WORK/leaf.pem" >/dev/null 2>&1 || fail "the issued certificate verifies against an unrelated root"
echo "   against an unrelated root: does not verify, as it must"
took

step "a process that exits is restarted (kill the cainjector's process)"
pod="${CM_POD[cainjector]}" pid="${CM_PID[cainjector]}"
# Only a process local-kubelet started for this pod, checked by its binary.
[ "$(readlink "/proc/$pid/exe")" = "$BIN/cert-manager-cainjector" ] || fail "pid $pid is not cert-manager-cainjector"
kill -KILL "$pid"
wait_until 30 "cert-manager/$pod restarted and Ready" \
  is "1 True" -n cert-manager pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount} {.status.conditions[?(@.type=="Ready")].status}'
echo "   $(kc -n cert-manager get pod "$pod" -o jsonpath='restartCount {.status.containerStatuses[0].restartCount}, last state {.status.containerStatuses[0].lastState.terminated.reason} (exit code {.status.containerStatuses[0].lastState.terminated.exitCode}), Ready {.status.conditions[?(@.type=="Ready")].status}')"
grep -F " cert-manager/$pod " "$KUBELET_LOG" | grep -E "exited|started pid" | sed 's/^/     /'
took

step "the world is wrong: without the webhook's pod, creating a Certificate fails closed"
kc -n cert-manager scale deployment cert-manager-webhook --replicas=0 >/dev/null
webhook_pid="${CM_PID[webhook]}"
stopped() { [ "$(readlink "/proc/$1/exe" 2>/dev/null)" != "$2" ]; }
wait_until 30 "webhook process $webhook_pid stopped" stopped "$webhook_pid" "$BIN/cert-manager-webhook"
cert closed components-check-certs components-check-ca >"$WORK/closed.yaml"
if out="$(kc apply -f "$WORK/closed.yaml" 2>&1)"; then fail "a Certificate was created without cert-manager's webhook: $out"; fi
grep -qF 'failed calling webhook "webhook.cert-manager.io"' <<<"$out" || fail "refused, but not for the missing webhook: $out"
echo "   refused: ${out#*Internal error occurred: }"
kc -n cert-manager scale deployment cert-manager-webhook --replicas=1 >/dev/null
kc -n cert-manager rollout status deployment/cert-manager-webhook --timeout=60s >/dev/null || fail "cert-manager-webhook did not come back"
wait_until 60 "cert-manager's webhook answering again" kc apply --dry-run=server -f "$WORK/closed.yaml"
echo "   with the webhook's pod back (a new process): the same Certificate is accepted (server dry run)"
took

step "resident memory of the processes"
for p in $(ip netns pids "$NS"); do
  exe="$(readlink "/proc/$p/exe" 2>/dev/null)" || continue
  case "$(basename "$exe")" in
    pilot-discovery | cert-manager-* | local-kubelet) echo "   $(basename "$exe") (pid $p): $(rss "$p")" ;;
  esac
done
took

step "uninstall: local-kubelet stops every process"
helm uninstall cert-manager -n cert-manager --wait >/dev/null
helm uninstall istiod -n istio-system --wait >/dev/null
helm uninstall istio-base -n istio-system --wait >/dev/null
left() {
  local p exe
  for p in $(ip netns pids "$NS"); do
    exe="$(readlink "/proc/$p/exe" 2>/dev/null)" || continue
    case "$(basename "$exe")" in pilot-discovery | cert-manager-*) echo "$p $(basename "$exe")" ;; esac
  done
}
none_left() { [ -z "$(left)" ]; }
wait_until 30 "no pilot-discovery or cert-manager process left ($(left | tr '\n' ' '))" none_left
grep -E "pod deleted: stopping|stopped pid|killed pid" "$KUBELET_LOG" | tail -n 8 | sed 's/^/     /'
echo "   no pilot-discovery or cert-manager process left in netns ${NS}"
took

echo
echo "test:cluster:components: ok in $((SECONDS - start))s"
