# rig: time from VMM start to the guest's GUEST-INIT-MARKER, xenkvm against QEMU microvm
# (KVM, same cloud kernel and guest initramfs, 1 vCPU and 256 MiB each, "quiet" on both
# command lines: without it QEMU's guest spends ~15 s more printing to its emulated UART).
# Then the two boots' kernel logs (the guest's init prints each message of level warning
# or worse as "GUEST-KLOG <level> <text>"): a line only xenkvm's boot has is a defect
# (boot-bench-klog FAIL) unless it is one of the expected differences below.
# rig: needs qemu
t=${RIG_GUEST_TIMEOUT:-300}
rig_start_xenkvmd || true
rig_run_guest /tmp/bench-qemu.log "$t" GUEST-INIT-MARKER \
    qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot \
    -bios /usr/share/qemu/bios-microvm.bin -nodefaults -serial stdio \
    -kernel /guest/vmlinuz -initrd /guest/initrd.gz \
    -append "console=ttyS0 quiet guest.scenario=poweroff"
q_ms=$RIG_MARKER_MS q_rc=$RIG_RC
if [ -n "$q_ms" ]; then
    rig_result boot-bench-qemu-microvm PASS "GUEST-INIT-MARKER after ${q_ms} ms (exit $q_rc, ${RIG_ELAPSED_MS} ms in all)"
else
    rig_result boot-bench-qemu-microvm FAIL "no GUEST-INIT-MARKER (exit $q_rc)"
fi
rig_run_guest /tmp/bench-xenkvm.log "$t" GUEST-INIT-MARKER \
    xenkvm run $(rig_xenkvm_v) --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
    --memory 256 --vcpus 1 --cmdline "console=hvc0 quiet guest.scenario=poweroff"
x_ms=$RIG_MARKER_MS x_rc=$RIG_RC
if [ -n "$x_ms" ]; then
    rig_result boot-bench-xenkvm PASS "GUEST-INIT-MARKER after ${x_ms} ms (exit $x_rc, ${RIG_ELAPSED_MS} ms in all)"
else
    rig_result boot-bench-xenkvm FAIL "no GUEST-INIT-MARKER (exit $x_rc; last line: $(tail -1 /tmp/bench-xenkvm.log | cut -c1-160))"
fi
ratio=$(awk -v x="$x_ms" -v q="$q_ms" 'BEGIN { if (x == "" || q == "" || q == 0) print "n/a"; else printf "%.2f\n", x / q }')
echo "RIG-BENCH xenkvm_ms=${x_ms:-none} qemu_microvm_ms=${q_ms:-none} ratio=$ratio"

# Expected differences: what a Linux PVH guest prints on Xen itself, and that QEMU's
# microvm (a PC-like machine with an IOAPIC, no Xen) cannot print. One extended regular
# expression a line, each with the reason.
cat > /tmp/klog-expected <<'PATTERNS'
cpu [0-9]+ spinlock event irq [0-9]+
Grant table initialized
ACPI: No IOAPIC entries present
ACPI: setting ELCR to 0001 \(from ffff\)
PATTERNS
# cpu N spinlock event irq, Grant table initialized: Xen informational lines (printk
#   without a level, so logged at the default, warning).
# No IOAPIC entries: a PVH domain has none (libxl builds its MADT without one, as xenkvm).
# setting ELCR: with no IOAPIC Linux routes the SCI through the PIC and finds the ELCR
#   ports (0x4d0/0x4d1) floating, as in a Xen PVH domain, which has no PIC either.
klog() {   # klog LOG: its GUEST-KLOG texts, addresses normalised, without the code
           # bytes of a trace (they hold randomised addresses; its WARNING line counts)
    sed -n 's/^GUEST-KLOG [0-9] //p' "$1" | grep -v '^Code: ' |
        sed -e 's/[0-9a-f]\{8,\}/X/g' | sort -u
}
klog /tmp/bench-qemu.log > /tmp/klog-qemu
klog /tmp/bench-xenkvm.log > /tmp/klog-xenkvm
grep -Fxv -f /tmp/klog-qemu /tmp/klog-xenkvm > /tmp/klog-only || true
grep -Ev -f /tmp/klog-expected /tmp/klog-only > /tmp/klog-bad || true
while IFS= read -r l; do echo "RIG-KLOG only-xenkvm: $l"; done < /tmp/klog-only
n_only=$(wc -l < /tmp/klog-only) n_bad=$(wc -l < /tmp/klog-bad)
if [ -z "$x_ms" ] || [ -z "$q_ms" ]; then
    rig_result boot-bench-klog FAIL "a boot did not reach init: nothing to compare"
elif [ "$n_bad" = 0 ]; then
    rig_result boot-bench-klog PASS "$(wc -l < /tmp/klog-xenkvm) warning/error lines under xenkvm, $(wc -l < /tmp/klog-qemu) under QEMU; $n_only only under xenkvm, all expected"
else
    rig_result boot-bench-klog FAIL "$n_bad unexpected warning/error lines only under xenkvm, first: $(head -1 /tmp/klog-bad | cut -c1-120)"
fi
