#!/usr/bin/env bash
# Every benchmark, each printing its figure beside its peer's as a ratio.
# Usage: bench/run.sh   (after scripts/build.sh; uses build/, the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
echo "# $(date -u +%F) on $(uname -r), $(nproc) CPUs"
bench/startup.sh
bench/hypercall.sh
bench/events.sh
bench/memory.sh
bench/xenstore/run.sh
bench/blk/run.sh 5 256 "${TMPDIR:-/tmp}" 3
bench/net/run.sh 5 3
bench/web.sh
bench/save.sh "${TMPDIR:-/tmp}" 64 3
# Linux boot against QEMU microvm, same kernel, inside the nested rig (TCG: slow).
if [ "${BENCH_RIG:-1}" = 1 ]; then
  rig/build.sh --build "${XENKVM_BUILD:-build}" >/dev/null && rig/run.sh boot-bench | grep '^RIG-BENCH' |
    sed 's/^RIG-BENCH /linux boot to init in the rig (ms): /'
  # Debian's generic kernel PV through Xen's PV shim against PVH, in one outer boot:
  # boot to init, the RAM the shim keeps, syscalls, ping and transfers (docs/pv.md).
  rig/run.sh pv-bench | grep '^RIG-BENCH' | sed 's/^RIG-BENCH /PV (shim) vs PVH in the rig: /'
  # Save, restore and live migration of Debian's cloud kernel idle in 256 MiB, beside
  # dd on the same file system (docs/save-restore.md, "Measured").
  rig/run.sh save-bench | grep '^RIG-BENCH ' | sed 's/^RIG-BENCH /linux save\/restore\/migrate in the rig: /'
fi
