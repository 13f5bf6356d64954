#!/usr/bin/env bash
# Prepares, once per pin, local Helm chart folders from the Go modules the
# toolchains pin, and prints the folder holding them (last line):
#   base, istiod, gateway  istio.io/istio (tools/istioctl/go.mod) manifests/charts/
#                          base, istio-control/istio-discovery, gateway
#   cert-manager           github.com/cert-manager/cert-manager
#                          (tools/cluster/cert-manager/go.mod) deploy/charts/cert-manager
# under ${XDG_CACHE_HOME:-~/.cache}/istio-mtls/charts/<key>/; <key> hashes this
# script, ../lib.sh and both module versions.
#
# The module folders are the charts' sources, not the released charts: their
# release tooling stamps versions into them first. This does the same:
#   Istio (istio/release-builder, pkg/build/helm.go sanitizeChart): in every
#     Chart.yaml and values.yaml, "version: 1.0.0" and "appVersion: 1.0.0"
#     become the version the module builds as (1.31-dev, as istioctl and
#     pilot-discovery report it), and the image tags "tag: latest",
#     "tag: *-latest-daily", "tag: 1.x-dev" become it too (global.tag: images of
#     istiod and of the injected istio-proxy). The hub stays the dev builds'
#     registry.istio.io/testing (release-builder swaps only its own registries);
#     images are never pulled here.
#   cert-manager (make/manifests.mk): the files the packaged chart holds
#     (Chart.yaml, values.yaml, values.schema.json, templates/, .helmignore,
#     README.md from README.template.md), with version and appVersion v0.0.0
#     set to the module's version (the image tags and app.kubernetes.io/version
#     labels follow appVersion) and {{RELEASE_VERSION}} in the README. Not
#     added: the artifacthub.io/signKey and prerelease annotations, display
#     metadata of the signed release.
# Usage: tools/cluster/charts.sh [--versions]
set -euo pipefail

CLUSTER_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/lib.sh
source "$CLUSTER_TOOLS/../lib.sh"
require_go tools/cluster/charts.sh

istio_module="$(mod_version "$CLUSTER_TOOLS/../istioctl" istio.io/istio)"
istio_dir="$(mod_dir "$CLUSTER_TOOLS/../istioctl" istio.io/istio)"
istio_release="$(istio_version "$istio_dir")"
cm_version="$(mod_version "$CLUSTER_TOOLS/cert-manager" github.com/cert-manager/cert-manager)"
cm_dir="$(mod_dir "$CLUSTER_TOOLS/cert-manager" github.com/cert-manager/cert-manager)"

if [ "${1:-}" = --versions ]; then
  echo "istio.io/istio ${istio_module} (charts ${istio_release}), github.com/cert-manager/cert-manager ${cm_version}"
  exit 0
fi
[ $# = 0 ] || { echo "tools/cluster/charts.sh: unknown argument '$1' (allowed: --versions)" >&2; exit 2; }

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/istio-mtls/charts"
key="$(cat "$CLUSTER_TOOLS/charts.sh" "$CLUSTER_TOOLS/../lib.sh" <(echo "$istio_module $cm_version") | sha256sum | cut -c1-16)"
DIR="$CACHE_ROOT/$key"
CHARTS=(base istiod gateway cert-manager)

# chart_version FOLDER: the version its Chart.yaml declares.
chart_version() { sed -n 's/^version: *//p' "$1/Chart.yaml"; }
ready() {
  local c
  for c in base istiod gateway; do [ "$(chart_version "$DIR/$c")" = "$istio_release" ] || return 1; done
  [ "$(chart_version "$DIR/cert-manager")" = "$cm_version" ]
}

lock_cache "$CACHE_ROOT"
if ready 2>/dev/null; then
  echo "$DIR"
  exit 0
fi

stage="$(mktemp -d "$CACHE_ROOT/.stage.XXXXXX")"
trap 'rm -rf "$stage"' EXIT

istio_chart() {
  local from="$istio_dir/manifests/charts/$1" to="$stage/$2" f
  [ -f "$from/Chart.yaml" ] || { echo "tools/cluster/charts.sh: $from/Chart.yaml is missing from istio.io/istio@${istio_module}" >&2; exit 1; }
  cp -R "$from" "$to"
  chmod -R u+w "$to"
  while IFS= read -r -d '' f; do
    sed -i -E \
      -e "s/^([[:space:]]*(app)?[vV]ersion): 1\.0\.0$/\1: ${istio_release}/" \
      -e "s/^([[:space:]]*tag): (latest|.*-latest-daily|1\..-dev)$/\1: ${istio_release}/" "$f"
  done < <(find "$to" \( -name Chart.yaml -o -name values.yaml \) -print0)
}
istio_chart base base
istio_chart istio-control/istio-discovery istiod
istio_chart gateway gateway

cm_from="$cm_dir/deploy/charts/cert-manager"
cm_to="$stage/cert-manager"
for f in Chart.yaml values.yaml values.schema.json .helmignore README.template.md templates/_helpers.tpl templates/NOTES.txt; do
  [ -f "$cm_from/$f" ] || { echo "tools/cluster/charts.sh: deploy/charts/cert-manager/$f is missing from github.com/cert-manager/cert-manager@${cm_version}" >&2; exit 1; }
done
mkdir -p "$cm_to/templates"
cp "$cm_from"/{Chart.yaml,values.yaml,values.schema.json,.helmignore} "$cm_to/"
cp "$cm_from"/templates/{*.yaml,_helpers.tpl,NOTES.txt} "$cm_to/templates/"
sed "s:{{RELEASE_VERSION}}:${cm_version}:g" "$cm_from/README.template.md" >"$cm_to/README.md"
chmod -R u+w "$cm_to"
sed -i -E "s/^(version|appVersion): v0\.0\.0$/\1: ${cm_version}/" "$cm_to/Chart.yaml"

# Every placeholder replaced, or the module changed under this script.
for c in "${CHARTS[@]}"; do
  if grep -nE '^(version|appVersion): (1\.0\.0|v0\.0\.0)$' "$stage/$c/Chart.yaml" >&2; then
    echo "tools/cluster/charts.sh: placeholder version left in $c/Chart.yaml" >&2
    exit 1
  fi
done
grep -q "tag: ${istio_release}$" "$stage/istiod/values.yaml" \
  || { echo "tools/cluster/charts.sh: no image tag set in istiod/values.yaml (release-builder's tag patterns matched nothing)" >&2; exit 1; }

rm -rf "$DIR"
mv "$stage" "$DIR"
ready || { echo "tools/cluster/charts.sh: charts in $DIR do not carry versions ${istio_release} and ${cm_version}" >&2; exit 1; }
echo "$DIR"
