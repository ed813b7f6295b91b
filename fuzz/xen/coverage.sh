#!/bin/sh
# Source coverage of what a fuzz target reaches: a clang source-coverage build
# of the fuzz build (build-fuzz-cov/, or $FUZZ_COV_BUILD) replays corpus
# directories once and llvm-cov reports lines, functions and branches per file
# of the product code the target links (src/).
# usage: fuzz/xen/coverage.sh TARGET CORPUS_DIR...
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=${FUZZ_COV_BUILD:-$ROOT/build-fuzz-cov}
T=$1
shift
if [ ! -f "$B/build.ninja" ]; then
  CC=${CC:-clang-14} CFLAGS="-fprofile-instr-generate -fcoverage-mapping" LDFLAGS="-fprofile-instr-generate" \
    meson setup "$B" "$ROOT" -Dfuzz=true -Dtests=false >"$B.setup.log" 2>&1 || { cat "$B.setup.log"; exit 1; }
fi
ninja -C "$B" >/dev/null
rm -f "$B/$T.profraw"
LLVM_PROFILE_FILE="$B/$T.profraw" "$B/fuzz/fuzz_$T" -runs=0 "$@" >/dev/null 2>&1
llvm-profdata-14 merge -o "$B/$T.profdata" "$B/$T.profraw"
llvm-cov-14 report "$B/fuzz/fuzz_$T" -instr-profile="$B/$T.profdata" -ignore-filename-regex='fuzz/|\.h$' |
  awk 'NR > 2 && !/^-/ && NF >= 13 { printf "%-28s lines %7s  functions %7s  branches %7s\n", $1, $10, $7, $13 }'
