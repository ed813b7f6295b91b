#!/bin/sh
# Runs each xenstore fuzz target for SECONDS (default 20) on a fresh copy of
# its seed corpus; exits non-zero on the first crash, leak or timeout.
# usage: fuzz/xenstore/run.sh [SECONDS] [OUTDIR]
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-20}
OUT=${2:-$ROOT/build/fuzz-xenstore}
"$ROOT/fuzz/xenstore/build.sh" "$OUT" >/dev/null
for t in dispatch ring; do
  corpus="$OUT/corpus-$t"
  mkdir -p "$corpus" "$OUT/artifacts"
  "$OUT/fuzz_$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -artifact_prefix="$OUT/artifacts/$t-" -print_final_stats=1 \
    "$corpus" "$OUT/seeds-$t" 2>"$OUT/fuzz_$t.log" || { tail -50 "$OUT/fuzz_$t.log"; exit 1; }
  grep -E "stat::number_of_executed_units|cov:" "$OUT/fuzz_$t.log" | tail -2
done
