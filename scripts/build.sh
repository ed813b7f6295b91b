#!/usr/bin/env bash
# Builds xenkvm into build/ (release) and build-asan/ (address+undefined
# sanitizers: the build the tests use).
set -euo pipefail
cd "$(dirname "$0")/.."
setup() {  # dir [options...]
  local dir=$1; shift
  local log; log=$(mktemp)
  if [ -f "$dir/build.ninja" ]; then set -- --reconfigure "$@"; fi
  if ! meson setup "$@" "$dir" >"$log" 2>&1; then
    cat "$log"; rm -f "$log"; return 1
  fi
  rm -f "$log"
  ninja -C "$dir"
}
setup build
[ "${1:-}" = "--release-only" ] || setup build-asan -Dsanitize=true -Dbuildtype=debug
