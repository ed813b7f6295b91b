#!/usr/bin/env bash
# Builds xenkvm into build/ (release) and build-asan/ (address+undefined
# sanitizers: the build the tests use).
set -euo pipefail
cd "$(dirname "$0")/.."
setup() {  # dir [options...]
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir"
}
setup build
[ "${1:-}" = "--release-only" ] || setup build-asan -Dsanitize=true -Dbuildtype=debug
