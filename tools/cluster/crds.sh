#!/usr/bin/env bash
# Prints the CustomResourceDefinition files of Istio and cert-manager, one path
# a line, read from their Go modules (downloaded through the module proxy if
# missing), for test/cluster/run.sh to apply to the real API server.
#   Istio: manifests/charts/base/files/crd-all.gen.yaml of istio.io/istio at the
#          version tools/istioctl/go.mod pins (the istioctl we build and test with).
#   cert-manager: deploy/crds/*.yaml of github.com/cert-manager/cert-manager at
#          the version tools/cluster/cert-manager/go.mod pins (the cert-manager
#          the local cluster runs). Upstream calls that folder the CRDs'
#          source (the chart templates add labels and Helm conditionals around
#          the same schemas); the schemas are what the test checks.
# Usage: tools/cluster/crds.sh [--versions]
set -euo pipefail

CLUSTER_TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/lib.sh
source "$CLUSTER_TOOLS/../lib.sh"

istio_version="$(mod_version "$CLUSTER_TOOLS/../istioctl" istio.io/istio)"
istio_dir="$(mod_dir "$CLUSTER_TOOLS/../istioctl" istio.io/istio)"
cm_version="$(mod_version "$CLUSTER_TOOLS/cert-manager" github.com/cert-manager/cert-manager)"
cm_dir="$(mod_dir "$CLUSTER_TOOLS/cert-manager" github.com/cert-manager/cert-manager)"

if [ "${1:-}" = --versions ]; then
  echo "istio.io/istio ${istio_version}, github.com/cert-manager/cert-manager ${cm_version}"
  exit 0
fi
files=("$istio_dir/manifests/charts/base/files/crd-all.gen.yaml")
files+=("$cm_dir"/deploy/crds/*.yaml)
[ "${#files[@]}" -ge 7 ] || { echo "tools/cluster/crds.sh: expected Istio's file and 6 cert-manager CRDs, got ${#files[@]}" >&2; exit 1; }
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "tools/cluster/crds.sh: $f is missing from its module" >&2; exit 1; }
  echo "$f"
done
