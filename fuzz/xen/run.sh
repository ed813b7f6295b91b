#!/bin/sh
# Builds the fuzz build (meson -Dfuzz=true with clang-14, in build-fuzz/ or
# $FUZZ_BUILD) and runs one target on its corpus (BUILD/corpus-TARGET, grown
# by the run) plus the committed seeds; extra arguments go to libFuzzer.
# Exits non-zero on a crash, leak, failed check or timeout (the input is then
# in BUILD/artifacts/). TARGET: hypercall, evtchn, gnttab or loader.
# FUZZ_NO_CMP=1 uses a build without libFuzzer's comparison tracing
# (build-fuzz-nocmp/): the same sanitizers and checks, about 3 times the
# inputs a second on fuzz_hypercall, but no hints from the code's compares;
# for long runs on a grown corpus (docs/fuzzing.md).
# usage: fuzz/xen/run.sh TARGET [-max_total_time=S | -runs=N ...]
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
EXTRA=
if [ -n "$FUZZ_NO_CMP" ]; then
  B=${FUZZ_BUILD:-$ROOT/build-fuzz-nocmp}
  EXTRA=-Dc_args=-fno-sanitize-coverage=trace-cmp
else
  B=${FUZZ_BUILD:-$ROOT/build-fuzz}
fi
T=$1
shift
if [ ! -f "$B/build.ninja" ]; then
  CC=${CC:-clang-14} meson setup "$B" "$ROOT" -Dfuzz=true -Dtests=false $EXTRA >"$B.setup.log" 2>&1 ||
    { cat "$B.setup.log"; exit 1; }
fi
ninja -C "$B" >/dev/null
MAXLEN=4096
[ "$T" = loader ] && MAXLEN=65536
SEEDS=$ROOT/fuzz/xen/seeds/$T
[ -d "$SEEDS" ] || SEEDS=
mkdir -p "$B/corpus-$T" "$B/artifacts"
exec "$B/fuzz/fuzz_$T" -timeout=10 -rss_limit_mb=2048 -max_len=$MAXLEN \
  -artifact_prefix="$B/artifacts/$T-" -print_final_stats=1 "$@" "$B/corpus-$T" $SEEDS
