#!/usr/bin/env bash
# Installs what xenkvm needs to build and test, from Debian 12's packages,
# and the web page's npm packages (web/package-lock.json).
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS=(
  gcc make pkg-config meson ninja-build
  libxen-dev liburing-dev zlib1g-dev liblzma-dev libzstd-dev liblz4-dev
  libjson-c-dev libxml2-dev libnbd-dev libsystemd-dev libseccomp-dev
  python3 python3-pytest
  xenstore-utils libxenstore4 python3-pyxs
  clang libclang-rt-14-dev
  binutils dpkg-dev bc fio qemu-system-x86 iproute2
  dbus-daemon python3-dbus python3-gi
  xen-utils-4.17 grub-xen-host
  libwebsockets-dev python3-websocket openssl chromium openssh-server
  qemu-system-common qemu-utils grub-xen-host e2fsprogs gdb
)
# Node.js and npm for the web page (web/): Debian's, unless the machine has
# them already (from another source, whose nodejs carries its own npm).
command -v node >/dev/null || PKGS+=(nodejs)
command -v npm >/dev/null || PKGS+=(npm)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The page's npm packages (xterm.js, esbuild, playwright-core) from the lock
# file, again whenever the lock file is newer than the install.
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "deps: npm ci in web/"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
