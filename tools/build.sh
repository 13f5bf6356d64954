#!/usr/bin/env bash
# Builds the Pulumi engine toolchain from Go modules into a versioned folder
# under the user's cache directory, so a fresh clone (CI) on the same machine
# reuses it:
#   pulumi                         github.com/pulumi/pulumi/pkg/v3 cmd/pulumi
#   pulumi-language-nodejs         tools/pulumi/languagehost (see its header)
#   pulumi-resource-pulumi-nodejs  shell shim for Node.js dynamic providers
#   pulumi-resource-kubernetes     github.com/pulumi/pulumi-kubernetes/provider/v4
#   istioctl                       istio.io/istio istioctl/cmd/istioctl
#   pilot-discovery                istio.io/istio pilot/cmd/pilot-discovery (istiod,
#                                  run on the local cluster by tools/cluster/local-kubelet)
#   workload-cert                  tools/istioctl/workload-cert: asks istiod's CA for a
#                                  workload certificate as the Istio agent does (test:cluster)
#
# Usage: tools/build.sh [--print-bin-dir] [--force] [--resolve-only]
#   --print-bin-dir  print the bin folder for the current pins and exit
#   --force          rebuild even when the cached binaries answer --version
#   --resolve-only   download the pinned modules and check the files the build
#                    reads from them, then exit (CI runs it with an empty
#                    GOMODCACHE to prove a new machine can build)
# The last line printed is always the bin folder; ../versions.txt beside it
# lists each binary's version (`pulumi plugin install` needs the provider's).
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/lib.sh
source "$TOOLS_DIR/lib.sh"
require_go tools/build.sh

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/istio-mtls/toolchain"

# The key covers everything that decides the binaries' bytes: pins and sums,
# our own sources, this script (flags) and the Go version.
key() {
  (
    cd "$TOOLS_DIR"
    go version
    cat build.sh lib.sh
    find pulumi kubernetes istioctl -type f \( -name 'go.mod' -o -name 'go.sum' -o -name '*.go' \) ! -name '*_test.go' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -c1-16
}
KEY="$(key)"
TOOLCHAIN_DIR="${CACHE_ROOT}/${KEY}"
BIN="${TOOLCHAIN_DIR}/bin"

parse_build_args tools/build.sh "$BIN" "$@"

npm_version() {
  node_path=$(command -v node || true)
  [ -n "$node_path" ] || { echo "?"; return; }
  node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/"+process.argv[2]];console.log(p?p.version:"?")' \
    "$TOOLS_DIR/../package-lock.json" "$1" 2>/dev/null || echo "?"
}

PULUMI_VERSION="$(mod_version "$TOOLS_DIR/pulumi" github.com/pulumi/pulumi/pkg/v3)"
K8S_MODULE_VERSION="$(mod_version "$TOOLS_DIR/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)"
ISTIO_MODULE_VERSION="$(mod_version "$TOOLS_DIR/istioctl" istio.io/istio)"
# A pseudo-version (v4.0.0-20260115033456-f47bc2d6f199) is valid semver; the
# provider reports it as is, so state files say which commit made them.
K8S_VERSION="${K8S_MODULE_VERSION#v}"
ISTIO_REVISION="${ISTIO_MODULE_VERSION##*-}"

# Where the build reads module files directly (not through `go build`), resolved
# before anything is built so a module that cannot be had fails here, by name.
K8S_PROVIDER_CMD="$(mod_dir "$TOOLS_DIR/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
ISTIO_DIR="$(mod_dir "$TOOLS_DIR/istioctl" istio.io/istio)"
for f in "$K8S_PROVIDER_CMD"/{main.go,generate.go,schema.json,terraform-mapping.json} "$ISTIO_DIR/VERSION"; do
  [ -f "$f" ] || { echo "tools/build.sh: $f is missing from its module" >&2; exit 1; }
done
ISTIO_VERSION="$(istio_version "$ISTIO_DIR")"
if [ "$resolve_only" = 1 ]; then
  echo "modules resolved in $(go env GOMODCACHE): pulumi ${PULUMI_VERSION}, pulumi-kubernetes ${K8S_MODULE_VERSION}, istio ${ISTIO_MODULE_VERSION} ($(cat "$ISTIO_DIR/VERSION"))"
  exit 0
fi

healthy() {
  [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-language-nodejs" ] && [ -x "$BIN/pulumi-resource-kubernetes" ] \
    && [ -x "$BIN/istioctl" ] && [ -x "$BIN/pilot-discovery" ] && [ -x "$BIN/workload-cert" ] && [ -x "$BIN/pulumi-resource-pulumi-nodejs" ] || return 1
  "$BIN/pulumi" version >/dev/null 2>&1 || return 1
  "$BIN/pulumi-language-nodejs" -version >/dev/null 2>&1 || return 1
  # The provider has no version flag (pulumi's provider.Main parses only
  # -tracing); -h proves it starts. Its version is in versions.txt.
  "$BIN/pulumi-resource-kubernetes" -h >/dev/null 2>&1 || return 1
  "$BIN/istioctl" version --remote=false >/dev/null 2>&1 || return 1
  # The version ldflags, as istioctl's: without them istiod reports "unknown".
  [ "$("$BIN/pilot-discovery" version --short 2>/dev/null)" = "client version: ${ISTIO_VERSION}" ] || return 1
}

lock_cache "$CACHE_ROOT"

if [ "$force" = 0 ] && healthy; then
  echo "toolchain ${KEY}: up to date"
  echo "$BIN"
  exit 0
fi

echo "toolchain ${KEY}: building into ${TOOLCHAIN_DIR}"
for pair in "@pulumi/pulumi:${PULUMI_VERSION#v}" "@pulumi/kubernetes:${K8S_VERSION}"; do
  pkg="${pair%%:*}"; built="${pair#*:}"; locked="$(npm_version "$pkg")"
  if [ "$locked" != "$built" ]; then
    echo "  note: package-lock.json has ${pkg} ${locked}; the Go module proxy serves ${built} (see tools/README.md)"
  fi
done

start_build "$CACHE_ROOT"

build_pulumi() {
  (cd "$TOOLS_DIR/pulumi" && go build \
    -ldflags "${LDFLAGS_BASE} -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}" \
    -o "$STAGE/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

build_language_host() {
  (cd "$TOOLS_DIR/pulumi" && go build \
    -ldflags "${LDFLAGS_BASE} -X main.Version=${PULUMI_VERSION#v}" \
    -o "$STAGE/bin/pulumi-language-nodejs" ./languagehost)
}

# Same role as the pulumi-resource-pulumi-nodejs script shipped with the
# Pulumi CLI: serve dynamic providers from the program's @pulumi/pulumi.
write_dynamic_provider_shim() {
  cat >"$STAGE/bin/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
# Serves Pulumi dynamic providers with the program's own @pulumi/pulumi.
entry=$(node -e "process.stdout.write(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))") || exit 1
exec node "$entry" "$@"
EOF
  chmod +x "$STAGE/bin/pulumi-resource-pulumi-nodejs"
}

# The provider embeds schema-embed.json and terraform-mapping-embed.json,
# which upstream's Makefile generates and the module zip does not ship: copy
# the command into a build folder of this module and run its own generator.
build_kubernetes() {
  local src="$K8S_PROVIDER_CMD" build
  build="$STAGE/src/pulumi-resource-kubernetes"
  mkdir -p "$build"
  # Same go.mod/go.sum as tools/kubernetes, so the same dependency graph.
  cp "$TOOLS_DIR/kubernetes/go.mod" "$TOOLS_DIR/kubernetes/go.sum" "$build/"
  cp "$src/main.go" "$src/generate.go" "$src/schema.json" "$src/terraform-mapping.json" "$build/"
  chmod u+w "$build"/*
  (cd "$build" && VERSION="$K8S_VERSION" go run generate.go \
    && go build \
      -ldflags "${LDFLAGS_BASE} -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${K8S_VERSION}" \
      -o "$STAGE/bin/pulumi-resource-kubernetes" .)
}

# istioctl, pilot-discovery and workload-cert in one go build: they share most packages, built once.
build_istio() {
  local v=istio.io/istio/pkg/version
  (cd "$TOOLS_DIR/istioctl" && go build \
    -ldflags "${LDFLAGS_BASE} -X ${v}.buildVersion=${ISTIO_VERSION} -X ${v}.buildGitRevision=${ISTIO_REVISION} \
-X ${v}.buildStatus=Clean -X ${v}.buildTag=${ISTIO_MODULE_VERSION} -X ${v}.buildOS=$(go env GOOS) \
-X ${v}.buildArch=$(go env GOARCH)" \
    -o "$STAGE/bin/" istio.io/istio/istioctl/cmd/istioctl istio.io/istio/pilot/cmd/pilot-discovery ./workload-cert)
}

step "pulumi-language-nodejs ${PULUMI_VERSION}" build_language_host
step "pulumi ${PULUMI_VERSION}" build_pulumi
step "pulumi-resource-pulumi-nodejs (shim)" write_dynamic_provider_shim
step "pulumi-resource-kubernetes ${K8S_VERSION}" build_kubernetes
step "istioctl, pilot-discovery, workload-cert ${ISTIO_MODULE_VERSION}" build_istio

rm -rf "$TOOLCHAIN_DIR"
mkdir -p "$TOOLCHAIN_DIR"
mv "$STAGE/bin" "$BIN"
cat >"$TOOLCHAIN_DIR/versions.txt" <<EOF
pulumi ${PULUMI_VERSION#v}
pulumi-language-nodejs ${PULUMI_VERSION#v}
pulumi-resource-kubernetes ${K8S_VERSION}
istioctl ${ISTIO_MODULE_VERSION}
pilot-discovery ${ISTIO_MODULE_VERSION}
EOF
if ! healthy; then
  echo "tools/build.sh: built binaries in $BIN do not answer --version" >&2
  exit 1
fi
echo "toolchain ${KEY}: built in $((SECONDS - total_start))s"
ls -l "$BIN" | awk 'NR>1 {printf "  %-32s %6.1f MB\n", $9, $5/1048576}'
echo "$BIN"
