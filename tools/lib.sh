# Shared by tools/build.sh and tools/cluster/build.sh (sourced; each script's
# cache key includes this file): Go on PATH, the common arguments, module
# lookups, one build per cache at a time, timed steps.

export PATH="/usr/local/go/bin:${PATH}"

# require_go SCRIPT
require_go() {
  command -v go >/dev/null || { echo "$1: go not found (expected /usr/local/go/bin/go)" >&2; exit 1; }
}

# parse_build_args SCRIPT BIN ARGS...: sets force and resolve_only; --print-bin-dir prints BIN and exits.
parse_build_args() {
  local script="$1" bin="$2" arg
  shift 2
  force=0
  resolve_only=0
  for arg in "$@"; do
    case "$arg" in
      --print-bin-dir) echo "$bin"; exit 0 ;;
      --force) force=1 ;;
      --resolve-only) resolve_only=1 ;;
      *) echo "$script: unknown argument '$arg' (allowed: --print-bin-dir, --force, --resolve-only)" >&2; exit 2 ;;
    esac
  done
}

# mod_version DIR MODULE: the version DIR's go.mod selects.
mod_version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }
# mod_dir DIR MODULE: its folder. `go list -m` prints an empty Dir for a module
# not yet in GOMODCACHE (a new machine): download it first, a no-op when cached.
mod_dir() { (cd "$1" && go mod download "$2" && go list -m -f '{{.Dir}}' "$2"); }

# istio_version ISTIO_DIR: the version an istio.io/istio module folder builds as, as upstream's
# Makefile.core.mk stamps untagged builds: its VERSION file plus -dev (istioctl, pilot-discovery
# and the local charts of tools/cluster/charts.sh all carry it).
istio_version() { echo "$(cat "$1/VERSION")-dev"; }

# lock_cache CACHE_ROOT: one build at a time per machine (a developer shell and CI share the cache).
lock_cache() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}

# step NAME COMMAND...: runs it, printing how long it took.
step() {
  local name="$1"; shift
  local start=$SECONDS
  echo "  building ${name} ..."
  "$@"
  echo "  built ${name} in $((SECONDS - start))s"
}

# start_build CACHE_ROOT: a staging folder in STAGE (removed on exit) with bin/, and the build
# settings of both toolchains: static, reproducible binaries (-trimpath, no VCS stamp), the same
# in both so they share Go's build cache.
start_build() {
  STAGE="$(mktemp -d "$1/.stage.XXXXXX")"
  trap 'rm -rf "$STAGE"' EXIT
  mkdir -p "$STAGE/bin"
  export CGO_ENABLED=0
  export GOFLAGS="-trimpath -buildvcs=false"
  LDFLAGS_BASE="-s -w"
  total_start=$SECONDS
}
