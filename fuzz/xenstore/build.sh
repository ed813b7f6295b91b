#!/bin/sh
# Builds the xenstore fuzz targets with clang's libFuzzer plus ASan/UBSan.
# usage: fuzz/xenstore/build.sh [OUTDIR]   (default build/fuzz-xenstore)
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build/fuzz-xenstore}
CC=${CC:-clang-14}
mkdir -p "$OUT"
CFLAGS="-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -D_GNU_SOURCE -D__XEN_TOOLS__ -Wall -Wextra -Werror -Wno-unused-parameter -I$ROOT/src"
LIB=""
for f in path perms quota tree util wire conn watch txn domain dispatch server ring; do
  LIB="$LIB $ROOT/src/xenstore/$f.c"
done
LIB="$LIB $ROOT/src/common/log.c"
for t in dispatch ring; do
  $CC $CFLAGS -o "$OUT/fuzz_$t" "$ROOT/fuzz/xenstore/fuzz_$t.c" $LIB
done
python3 "$ROOT/fuzz/xenstore/seeds.py" "$OUT/seeds-dispatch" "$OUT/seeds-ring"
echo "built $OUT/fuzz_dispatch $OUT/fuzz_ring"
