#!/usr/bin/env bash
# Every benchmark, each printing its figure beside its peer's as a ratio.
# Usage: bench/run.sh   (after scripts/build.sh; uses build/, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%F) on $(uname -r), $(nproc) CPUs"
bench/startup.sh
bench/hypercall.sh
if [ -x bench/xenstore/run.sh ]; then bench/xenstore/run.sh; fi
