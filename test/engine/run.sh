#!/usr/bin/env bash
# npm run test:engine: runs this project's stack through the real Pulumi engine
# (preview, up, no-change preview, destroy) with no network and no cluster.
# The kubernetes provider renders every object to YAML
# (kubernetes:renderYamlToDirectory); Istio and cert-manager count as already
# installed and the in-cluster probes are off, so nothing needs a cluster.
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
export PULUMI_HOME="$WORK/home"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE=engine-test
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# The provider turns KUBECONFIG into its kubeconfig input, which
# renderYamlToDirectory refuses; render mode needs no cluster anyway.
unset KUBECONFIG
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

echo "== stack $STACK (state and project copy under $WORK)"
pulumi --cwd "$PROJECT" --non-interactive stack init "$STACK"
cfg kubernetes:renderYamlToDirectory "$RENDER"
cfg --path 'istio-mtls:istio.install' false
cfg --path 'istio-mtls:certManager.install' false
cfg --path 'istio-mtls:probe.enabled' false

echo "== pulumi preview"
p preview --diff
echo "== pulumi up"
p up --yes --skip-preview
count="$(find "$RENDER" -name '*.yaml' | wc -l)"
[ "$count" -gt 0 ] || fail "pulumi up rendered no YAML under $RENDER"
echo "rendered $count manifests"
for kind in Namespace Deployment Service; do
  grep -rlq "^kind: $kind\$" "$RENDER" || fail "no $kind among the rendered manifests"
done
echo "== pulumi preview (expect no changes)"
p preview --expect-no-changes
echo "== pulumi destroy"
p destroy --yes --skip-preview
[ -z "$(find "$RENDER" -name '*.yaml' 2>/dev/null)" ] || fail "pulumi destroy left manifests under $RENDER"
p stack rm --yes
echo "test:engine: OK"
