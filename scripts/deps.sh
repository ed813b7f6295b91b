#!/usr/bin/env bash
# Installs what xenkvm needs to build and test, from Debian 12's packages.
# Idempotent: installs only what is missing.
set -euo pipefail
PKGS=(
  gcc make pkg-config meson ninja-build
  libxen-dev liburing-dev zlib1g-dev liblzma-dev libzstd-dev liblz4-dev
  libjson-c-dev libxml2-dev
  python3 python3-pytest
  xenstore-utils libxenstore4 python3-pyxs
  clang libclang-rt-14-dev
  binutils dpkg-dev bc fio qemu-system-x86 iproute2
  grub-xen-host e2fsprogs
)
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
