#!/usr/bin/env bash
# Builds the differential test's oracle (tools/oracle, on istio.io/istio at the
# pseudo-version tools/istioctl/go.mod pins) into a versioned folder under the
# user's cache directory:
#   istio-mtls-oracle   this module's test binary (`go test -c`): Istio's
#                       pilot/pkg/simulation replays calls only through a
#                       *testing.T, which only the test runner makes (main_test.go)
# then runs the binary's own tests (RBAC evaluation, injection, a STRICT demo)
# before it counts as built.
#
# Usage: tools/oracle/build.sh [--print-bin-dir] [--force] [--resolve-only]
#   --print-bin-dir  print the bin folder for the current sources and exit
#   --force          rebuild even when the cached binary answers
#   --resolve-only   download the pinned modules, then exit (CI runs it with an
#                    empty GOMODCACHE)
# The last line printed is always the bin folder.
set -euo pipefail

ORACLE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tools/lib.sh
source "$ORACLE_DIR/../lib.sh"
require_go tools/oracle/build.sh

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/istio-mtls/oracle"

# Its own key: the Go version, this script and lib.sh (flags), the pins and
# every Go file (the tests are the binary).
key() {
  (
    cd "$ORACLE_DIR"
    go version
    cat build.sh ../lib.sh go.mod go.sum
    find . -maxdepth 1 -name '*.go' -print0 | LC_ALL=C sort -z | xargs -0 -r cat
  ) | sha256sum | cut -c1-16
}
KEY="$(key)"
ORACLE_CACHE="${CACHE_ROOT}/${KEY}"
BIN="${ORACLE_CACHE}/bin"
ORACLE="$BIN/istio-mtls-oracle"

parse_build_args tools/oracle/build.sh "$BIN" "$@"

ISTIO_MODULE_VERSION="$(mod_version "$ORACLE_DIR" istio.io/istio)"
PINNED="$(mod_version "$ORACLE_DIR/../istioctl" istio.io/istio)"
[ "$ISTIO_MODULE_VERSION" = "$PINNED" ] \
  || { echo "tools/oracle/build.sh: istio.io/istio is ${ISTIO_MODULE_VERSION} here, ${PINNED} in tools/istioctl/go.mod" >&2; exit 1; }
ISTIO_DIR="$(mod_dir "$ORACLE_DIR" istio.io/istio)"
# Injected proxies report the Istio version; oracle.go's IstioVersion must be this module's VERSION.
ISTIO_VERSION="$(cat "$ISTIO_DIR/VERSION")"
grep -q "^const IstioVersion = \"${ISTIO_VERSION}\.0\"$" "$ORACLE_DIR/oracle.go" \
  || { echo "tools/oracle/build.sh: oracle.go IstioVersion is not ${ISTIO_VERSION}.0 (istio.io/istio VERSION)" >&2; exit 1; }
if [ "$resolve_only" = 1 ]; then
  # Every package the test binary builds from, test dependencies included; go.sum as committed
  # (not `go mod download all`, which adds the sums of modules no build needs).
  (cd "$ORACLE_DIR" && go list -deps -test . >/dev/null)
  echo "modules resolved in $(go env GOMODCACHE): istio ${ISTIO_MODULE_VERSION} (${ISTIO_VERSION})"
  exit 0
fi

# The test runner prints its list on stderr (main_test.go keeps stdout for JSON).
# Captured whole (no pipe into grep -q: under pipefail a SIGPIPE would fail it).
healthy() {
  local out
  [ -x "$ORACLE" ] && out="$("$ORACLE" -test.list '^TestOracle$' 2>&1)" && grep -qx TestOracle <<<"$out"
}

lock_cache "$CACHE_ROOT"

if [ "$force" = 0 ] && healthy; then
  echo "oracle ${KEY}: up to date"
  echo "$BIN"
  exit 0
fi

echo "oracle ${KEY}: building into ${ORACLE_CACHE}"
# The same settings as the toolchain (tools/lib.sh start_build), so Istio's
# packages come from Go's build cache when istioctl was built.
start_build "$CACHE_ROOT"

build_oracle() {
  (cd "$ORACLE_DIR" && go test -c -ldflags "${LDFLAGS_BASE}" -o "$STAGE/bin/istio-mtls-oracle" .)
}
self_test() {
  "$STAGE/bin/istio-mtls-oracle" -test.run . >"$STAGE/self-test.log" 2>&1 \
    || { cat "$STAGE/self-test.log" >&2; echo "tools/oracle/build.sh: the oracle's own tests fail" >&2; return 1; }
}

step "istio-mtls-oracle (istio ${ISTIO_MODULE_VERSION})" build_oracle
step "the oracle's own tests" self_test

rm -rf "$ORACLE_CACHE"
mkdir -p "$ORACLE_CACHE"
mv "$STAGE/bin" "$BIN"
echo "istio.io/istio ${ISTIO_MODULE_VERSION} (${ISTIO_VERSION})" >"$ORACLE_CACHE/versions.txt"
if ! healthy; then
  echo "tools/oracle/build.sh: the built oracle does not list TestOracle" >&2
  exit 1
fi
echo "oracle ${KEY}: built in $((SECONDS - total_start))s"
ls -l "$BIN" | awk 'NR>1 {printf "  %-26s %6.1f MB\n", $9, $5/1048576}'
echo "$BIN"
