#!/usr/bin/env bash
# Installs the dependencies, builds (release and sanitizer builds) and runs the
# whole test suite against the sanitizer build. Ends with pytest's summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
if [ ! -w /dev/kvm ]; then
  echo "WARNING: /dev/kvm is absent or not writable: every guest-boot test will be SKIPPED" >&2
fi
export XENKVM_BUILD="$PWD/build-asan"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
exec /usr/bin/python3 -m pytest -q -rs tests "$@"
