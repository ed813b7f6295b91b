#!/bin/sh
# The demo: installs the dependencies, builds, installs xenkvm onto PATH and boots a
# guest with its console on this terminal.
#  - Where this host's KVM can run Linux (a CPU with VMX or SVM: real hardware, or a
#    VM with nested virtualisation): Debian's cloud kernel (its package, fetched with
#    apt) with a busybox initramfs, to a shell on hvc0 (`exit` powers it off). With
#    --pv, the same kernel as a PV guest through Xen's PV shim.
#  - Where it cannot (a KVM that emulates its guests, like kvm_pvm): says so, and boots
#    the freestanding test guest.
# usage: scripts/demo.sh [--pv]
#        scripts/demo.sh --boot-linux KERNEL INITRD [--pv] [-- KERNEL-ARG...]
#            the Linux boot alone, more kernel arguments after "--" (the nested rig
#            runs this)
# POSIX sh: the rig's busybox runs the --boot-linux part.
set -eu

boot_linux() { # KERNEL INITRD [--pv] [-- KERNEL-ARG...]
    kernel=$1 initrd=$2 pv=
    shift 2
    [ "${1:-}" = --pv ] && { pv=--pv; shift; }
    [ "${1:-}" = -- ] && shift
    line="console=hvc0 quiet guest.scenario=shell${*:+ $*}"
    [ -n "$pv" ] && echo "--- PV through Xen's PV shim (/usr/lib/xen-4.17/boot/xen-shim)"
    echo "--- xenkvm run --kernel $kernel --ramdisk $initrd ${pv:+$pv }--memory 512 --cmdline '$line'"
    echo "--- a shell on the guest's hvc0 follows; 'exit' powers the guest off"
    exec xenkvm run --name demo --kernel "$kernel" --ramdisk "$initrd" $pv --memory 512 \
        --cmdline "$line"
}

if [ "${1:-}" = --boot-linux ]; then
    [ $# -ge 3 ] || { echo "usage: $0 --boot-linux KERNEL INITRD [--pv] [-- KERNEL-ARG...]" >&2; exit 2; }
    shift
    boot_linux "$@"
fi

cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh --release-only
meson install -C build --quiet
install -D -m 0644 build/guest/xtest /usr/local/share/xenkvm/xtest

# Linux needs a KVM that runs guests on the CPU (VMX or SVM); kvm_pvm emulates them.
if [ -w /dev/kvm ] && grep -qw -e vmx -e svm /proc/cpuinfo; then
    dir=.cache/demo
    bash scripts/demo-guest.sh "$dir"
    boot_linux "$PWD/$dir/vmlinuz" "$PWD/$dir/initrd.gz" "${1:-}"
fi
echo "--- this host's KVM cannot run Linux (no VMX/SVM: it emulates its guests); booting the test guest:"
echo "--- xenkvm run --kernel /usr/local/share/xenkvm/xtest --cmdline hello"
exec xenkvm run --kernel /usr/local/share/xenkvm/xtest --cmdline "hello"
