#!/bin/sh
# Builds the blkback fuzz target (clang libFuzzer + ASan/UBSan) and runs it
# for SECONDS (default 20) on a fresh corpus; exits non-zero on a crash, leak,
# broken invariant or timeout.
# usage: tests/harness/fuzz.sh [SECONDS] [OUTDIR]
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-20}
OUT=${2:-$ROOT/build/fuzz-blkback}
CC=${CC:-clang-14}
mkdir -p "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"
CFLAGS="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -D_GNU_SOURCE -D__XEN_TOOLS__ -Wall -Wextra -Werror -Wno-unused-parameter
  -I$ROOT/src -I$ROOT/tests"
SRC="$ROOT/tests/harness/fuzz_blkback.c $ROOT/tests/harness/blkfront.c
  $ROOT/tests/harness/blkfront_env.c $ROOT/src/backend/blkif_disk.c $ROOT/src/backend/blkif_req.c
  $ROOT/src/backend/blkback_queue.c $ROOT/src/backend/blkback.c $ROOT/src/common/log.c"
$CC $CFLAGS -o "$OUT/fuzz_blkback" $SRC -luring -lpthread
python3 "$ROOT/tests/harness/fuzz_seeds.py" "$OUT/seeds"
"$OUT/fuzz_blkback" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 "$OUT/corpus" "$OUT/seeds" \
  2>"$OUT/fuzz.log" || { tail -60 "$OUT/fuzz.log"; exit 1; }
grep -E "stat::number_of_executed_units|cov:" "$OUT/fuzz.log" | tail -2
