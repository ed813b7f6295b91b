#!/bin/sh
# Builds a backend fuzz target (clang libFuzzer + ASan/UBSan) and runs it
# for SECONDS (default 20) on a fresh corpus; exits non-zero on a crash, leak,
# broken invariant or timeout. TARGET: blkback (default) or netback.
# usage: tests/harness/fuzz.sh [SECONDS] [OUTDIR] [TARGET]
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-20}
TARGET=${3:-blkback}
OUT=${2:-$ROOT/build/fuzz-$TARGET}
CC=${CC:-clang-14}
mkdir -p "$OUT/corpus" "$OUT/seeds" "$OUT/artifacts"
CFLAGS="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -D_GNU_SOURCE -D__XEN_TOOLS__ -Wall -Wextra -Werror -Wno-unused-parameter
  -I$ROOT/src -I$ROOT/tests"
if [ "$TARGET" = netback ]; then
  B=$ROOT/src/backend
  SRC="$ROOT/tests/harness/fuzz_netback.c $ROOT/tests/harness/netfront.c
    $ROOT/tests/harness/netfront_env.c $B/netback_offload.c $B/netback_tx.c $B/netback_rx.c
    $B/netback_queue.c $B/netback.c $B/netback_tap.c $B/queue_workers.c $ROOT/src/common/log.c"
  LIBS=-lpthread SEEDS=fuzz_net_seeds.py MAXLEN=65536
else
  SRC="$ROOT/tests/harness/fuzz_blkback.c $ROOT/tests/harness/blkfront.c
    $ROOT/tests/harness/blkfront_env.c $ROOT/src/backend/blkif_file.c $ROOT/src/backend/blkif_nbd.c
    $ROOT/src/backend/nbd_lib.c $ROOT/src/backend/storage_daemon.c $ROOT/src/backend/spawner.c
    $ROOT/src/backend/blkif_req.c $ROOT/src/backend/blkif_abi32.c
    $ROOT/src/backend/blkback_queue.c $ROOT/src/backend/blkback.c $ROOT/src/backend/queue_workers.c
    $ROOT/src/common/log.c"
  LIBS="-luring -ljson-c -ldl -lpthread" SEEDS=fuzz_seeds.py MAXLEN=16384
fi
$CC $CFLAGS -o "$OUT/fuzz_$TARGET" $SRC $LIBS
python3 "$ROOT/tests/harness/$SEEDS" "$OUT/seeds"
"$OUT/fuzz_$TARGET" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=$MAXLEN \
  -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 "$OUT/corpus" "$OUT/seeds" \
  2>"$OUT/fuzz.log" || { tail -60 "$OUT/fuzz.log"; exit 1; }
grep -E "stat::number_of_executed_units|cov:" "$OUT/fuzz.log" | tail -2
