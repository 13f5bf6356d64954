#!/usr/bin/env bash
# npm run test:engine: runs this project's stack through the real Pulumi engine
# (preview, up, no-change preview, destroy) with no network and no cluster.
# The kubernetes provider renders every object to YAML
# (kubernetes:renderYamlToDirectory); Istio and cert-manager count as already
# installed and the in-cluster probes are off for `up`, so nothing needs a cluster.
# It also runs the policy pack through the engine, compares `istio-mtls predict`
# on the rendered YAML with `istio-mtls plan`, and runs `istioctl analyze` on it.
# State lives in a temporary file backend and the stack runs from a copy of the
# tracked files (node_modules linked), with Pulumi.dev.yaml as its config, so
# the work tree is untouched (stack init writes its encryption salt there).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
fail() { echo "test:engine: FAIL: $*" >&2; exit 1; }
[ -f "$REPO/Pulumi.yaml" ] || fail "no Pulumi.yaml in $REPO"
[ -f "$REPO/index.ts" ] || fail "no index.ts in $REPO"

BIN="$(bash "$REPO/tools/build.sh" | tail -1)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PATH="$BIN:$REPO/node_modules/.bin:$PATH"
# shellcheck source=test/helpers/pulumi-env.sh
source "$REPO/test/helpers/pulumi-env.sh"
pulumi_env "$WORK" engine-test
mkdir -p "$WORK/state"

STACK=engine-test
PROJECT="$WORK/project"
RENDER="$WORK/rendered"
mkdir -p "$PROJECT"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules/' \
  | while IFS= read -r -d '' f; do [ -f "$f" ] && cp --parents "$f" "$PROJECT"; done; true)
ln -s "$REPO/node_modules" "$PROJECT/node_modules"
cp "$REPO/Pulumi.dev.yaml" "$PROJECT/Pulumi.$STACK.yaml"
p() { pulumi --cwd "$PROJECT" --stack "$STACK" --non-interactive "$@"; }
cfg() { p config set "$@"; }

# The README's walkthrough must work with this CLI: each `pulumi …` line is a command whose
# help lists every option the line uses.
echo "== the README's pulumi commands against this CLI's help"
checked=0
while IFS= read -r line; do
  cmd="${line%%#*}"; cmd="${cmd%%&&*}"
  read -ra words <<<"$cmd"
  path=(); help=""
  for w in "${words[@]:1}"; do
    [[ "$w" =~ ^[a-z]+$ ]] || break
    out="$(pulumi "${path[@]}" "$w" --help 2>&1)" || break
    grep -q "^  pulumi ${path[*]:+${path[*]} }$w\b" <<<"$out" || break
    path+=("$w"); help="$out"
  done
  [ "${#path[@]}" -gt 0 ] || fail "README: '$line' is not a pulumi command"
  for flag in $(grep -o -- '--[a-z][a-z-]*' <<<"$cmd"); do
    grep -q -- "$flag\b" <<<"$help" || fail "README: pulumi ${path[*]} has no option $flag ($line)"
  done
  checked=$((checked + 1))
done < <(awk '/^```/ { inside = !inside; next } inside && /^pulumi / { print }' "$REPO/README.md")
[ "$checked" -ge 5 ] || fail "found only $checked pulumi commands in README.md"
echo "$checked commands checked"

echo "== stack $STACK (state and project copy under $WORK)"
pulumi --cwd "$PROJECT" --non-interactive stack init "$STACK"
cfg kubernetes:renderYamlToDirectory "$RENDER"
cfg --path 'istio-mtls:istio.install' false
cfg --path 'istio-mtls:certManager.install' false

# The probe stays on for the first preview: the engine then loads the serialized dynamic
# provider in its own process and runs its check (a cluster is only needed by create/update).
echo "== pulumi preview (probe on)"
p preview --diff | tee "$WORK/preview.txt"
grep -q 'pulumi-nodejs:dynamic/probe:ConnectivityProbe' "$WORK/preview.txt" || fail "the preview has no ConnectivityProbe"

echo "== pulumi preview --policy-pack policies (dev passes)"
p preview --policy-pack "$PROJECT/policies" --policy-pack-config "$PROJECT/policies/config/dev.json" > "$WORK/policy-ok.txt" 2>&1 \
  || { cat "$WORK/policy-ok.txt"; fail "the policy pack rejects the dev stack"; }
# The pack is listed in the preview's Policies section: proof it ran.
grep -q "istio-mtls@v" "$WORK/policy-ok.txt" || { cat "$WORK/policy-ok.txt"; fail "the preview did not run the istio-mtls policy pack"; }
echo "== pulumi preview --policy-pack policies (dev marked production, without mesh STRICT, fails)"
cfg istio-mtls:production true
if p preview --policy-pack "$PROJECT/policies" --policy-pack-config "$PROJECT/policies/config/dev.json" > "$WORK/policy-bad.txt" 2>&1; then
  cat "$WORK/policy-bad.txt"; fail "a production stack without mesh-wide STRICT passed the policy pack"
fi
grep -q "production-mesh-strict" "$WORK/policy-bad.txt" || { cat "$WORK/policy-bad.txt"; fail "expected a production-mesh-strict violation"; }
grep -A3 "production-mesh-strict" "$WORK/policy-bad.txt" | head -4
cfg istio-mtls:production false

cfg --path 'istio-mtls:probe.enabled' false
echo "== pulumi up (probe off: there is no cluster to probe)"
p up --yes --skip-preview
count="$(find "$RENDER" -name '*.yaml' | wc -l)"
[ "$count" -gt 0 ] || fail "pulumi up rendered no YAML under $RENDER"
echo "rendered $count manifests"
for kind in Namespace Deployment Service; do
  grep -rlq "^kind: $kind\$" "$RENDER" || fail "no $kind among the rendered manifests"
done

echo "== istio-mtls predict on the rendered YAML = istio-mtls plan"
# The plan of the config `up` rendered (probe off, so no probe clients, as in $RENDER), not of the
# repo's Pulumi.dev.yaml, whose probe clients and their cells the rendered YAML cannot hold.
(cd "$REPO" && node bin/istio-mtls.js plan --config "$PROJECT/Pulumi.$STACK.yaml" --format json --fail-on never) > "$WORK/plan.json"
clients="$(node -e 'const p=require(process.argv[1]);console.log([...new Set(p.probes.map(c=>c.from))].join(","))' "$WORK/plan.json")"
[ -n "$clients" ] || fail "istio-mtls plan predicted no cells for dev"
node "$REPO/bin/istio-mtls.js" predict --format json --ignore-unknown-kinds --from "$clients" "$RENDER" > "$WORK/predict.json"
node -e '
  const cells = (f) => require(f).probes.map(({ from, to, code, mtls, reason }) => JSON.stringify({ from, to, code, mtls, reason })).sort();
  const [plan, rendered] = [cells(process.argv[1]), cells(process.argv[2])];
  if (JSON.stringify(plan) !== JSON.stringify(rendered)) {
    console.error("plan:\n" + plan.join("\n") + "\nrendered:\n" + rendered.join("\n"));
    process.exit(1);
  }
  console.log(`${plan.length} cells identical`);
' "$WORK/plan.json" "$WORK/predict.json" || fail "the matrix predicted from the rendered YAML differs from istio-mtls plan"

# Every namespace: without --all-namespaces istioctl analyzes only "default".
echo "== istioctl analyze on the rendered YAML"
istioctl analyze --use-kube=false --all-namespaces "$RENDER" 2>&1 | tee "$WORK/analyze.txt" || fail "istioctl analyze reports errors"

echo "== pulumi preview (expect no changes)"
p preview --expect-no-changes
echo "== pulumi destroy"
p destroy --yes --skip-preview
[ -z "$(find "$RENDER" -name '*.yaml' 2>/dev/null)" ] || fail "pulumi destroy left manifests under $RENDER"
p stack rm --yes
echo "test:engine: OK"
