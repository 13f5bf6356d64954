#!/usr/bin/env bash
# End-to-end check of the toolchain built by tools/build.sh, with no network
# and no cluster: a throwaway Pulumi TypeScript program (reusing this repo's
# node_modules) renders one ConfigMap to YAML through a kubernetes Provider
# with renderYamlToDirectory; `pulumi up` must write the file, `pulumi
# destroy` must remove it.
# Usage: tools/smoke.sh   (exits non-zero on the first failed check)
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$TOOLS_DIR/.." && pwd)"
BIN="$("$TOOLS_DIR/build.sh" --print-bin-dir)"
[ -x "$BIN/pulumi" ] || { echo "smoke: no toolchain in $BIN; run: npm run toolchain" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export PATH="$BIN:$REPO/node_modules/.bin:$PATH"
export PULUMI_HOME="$WORK/home"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE=smoke
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
# The provider turns KUBECONFIG into its kubeconfig input, which
# renderYamlToDirectory refuses; render mode needs no cluster anyway.
unset KUBECONFIG
mkdir -p "$WORK/state" "$WORK/program"

step() { echo "== $*"; }
fail() { echo "smoke: FAIL: $*" >&2; exit 1; }

step "versions"
pulumi version
pulumi-language-nodejs -version
cat "$BIN/../versions.txt"
istioctl version --remote=false

step "pulumi plugin install resource kubernetes (from file, offline)"
k8s_version="$(awk '$1 == "pulumi-resource-kubernetes" {print $2}' "$BIN/../versions.txt")"
pulumi plugin install resource kubernetes "$k8s_version" --file "$BIN/pulumi-resource-kubernetes"
pulumi plugin ls | tee "$WORK/plugins.txt"
grep -q "kubernetes" "$WORK/plugins.txt" || fail "pulumi plugin ls does not list kubernetes"

cd "$WORK/program"
ln -s "$REPO/node_modules" node_modules
cat >Pulumi.yaml <<'EOF'
name: toolchain-smoke
description: one ConfigMap rendered to YAML
runtime:
  name: nodejs
  options:
    typescript: false
    nodeargs: --import=tsx
main: index.ts
EOF
cat >package.json <<'EOF'
{ "name": "toolchain-smoke", "private": true, "main": "index.ts" }
EOF
cat >index.ts <<'EOF'
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

const config = new pulumi.Config();
const provider = new k8s.Provider("render", {
  renderYamlToDirectory: config.require("renderDir"),
});
const cm = new k8s.core.v1.ConfigMap(
  "smoke",
  { metadata: { name: "smoke", namespace: "default" }, data: { mesh: "mtls" } },
  { provider },
);
export const name = cm.metadata.name;
EOF

RENDER="$WORK/rendered"
step "pulumi stack init + preview"
pulumi stack init smoke --non-interactive
pulumi config set renderDir "$RENDER"
pulumi preview --non-interactive --diff

step "pulumi up"
pulumi up --yes --non-interactive --skip-preview
file="$(find "$RENDER" -name '*.yaml' | head -1)"
[ -n "$file" ] || fail "pulumi up rendered no YAML under $RENDER"
echo "rendered: ${file#"$WORK"/}"
cat "$file"
grep -q "kind: ConfigMap" "$file" || fail "$file is not a ConfigMap"
grep -q "mesh: mtls" "$file" || fail "$file lacks data.mesh"
[ "$(pulumi stack output name)" = "smoke" ] || fail "stack output name is not smoke"

step "pulumi up again (expect no changes)"
pulumi preview --non-interactive --expect-no-changes

step "pulumi destroy"
pulumi destroy --yes --non-interactive --skip-preview
[ -z "$(find "$RENDER" -name '*.yaml' 2>/dev/null)" ] || fail "pulumi destroy left YAML under $RENDER"
pulumi stack rm smoke --yes --non-interactive

echo "smoke: OK"
