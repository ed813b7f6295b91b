#!/usr/bin/env bash
# Installs the dependencies, builds, installs xenkvm onto PATH and boots the demo
# guest (the freestanding PVH test kernel) with its console on this terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh --release-only
meson install -C build --quiet
install -D -m 0644 build/guest/xtest /usr/local/share/xenkvm/xtest
echo "--- booting the demo guest: xenkvm run --kernel /usr/local/share/xenkvm/xtest --cmdline hello"
exec xenkvm run --kernel /usr/local/share/xenkvm/xtest --cmdline "hello"
