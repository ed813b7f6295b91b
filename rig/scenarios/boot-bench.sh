# rig: time from VMM start to the guest's GUEST-INIT-MARKER, xenkvm against QEMU microvm
# (KVM, same cloud kernel and guest initramfs, 1 vCPU and 256 MiB each, "quiet" on both
# command lines: without it QEMU's guest spends ~15 s more printing to its emulated UART).
# N rounds (rig.bench_n=N on the outer command line, default 3), each booting QEMU then
# xenkvm, so both see the same host load; the medians are compared.
# xenkvm runs with --stats: its exit counters are in the log of each round.
# Then the first round's kernel logs (the guest's init prints each message of level
# warning or worse as "GUEST-KLOG <level> <text>"): a line only xenkvm's boot has is a
# defect (boot-bench-klog FAIL) unless it is one of the expected differences below.
# rig: needs qemu
t=${RIG_GUEST_TIMEOUT:-300}
n=$(rig_bench_n)
rig_start_xenkvmd || true
qs= xs= xfails=0
i=1
while [ "$i" -le "$n" ]; do
    rig_run_guest "/tmp/bench-qemu-$i.log" "$t" GUEST-INIT-MARKER \
        qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot \
        -bios /usr/share/qemu/bios-microvm.bin -nodefaults -serial stdio \
        -kernel /guest/vmlinuz -initrd /guest/initrd.gz \
        -append "console=ttyS0 quiet guest.scenario=poweroff"
    q_ms=$RIG_MARKER_MS q_rc=$RIG_RC
    rig_run_guest "/tmp/bench-xenkvm-$i.log" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --stats --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
        --memory 256 --vcpus 1 --cmdline "console=hvc0 quiet guest.scenario=poweroff"
    x_ms=$RIG_MARKER_MS x_rc=$RIG_RC
    echo "RIG-BENCH-ROUND $i xenkvm_ms=${x_ms:-none} (exit $x_rc) qemu_microvm_ms=${q_ms:-none} (exit $q_rc)"
    [ -n "$q_ms" ] && qs="$qs $q_ms"
    if [ -n "$x_ms" ]; then
        xs="$xs $x_ms"
    else
        xfails=$((xfails + 1))
        echo "RIG-BENCH-ROUND $i xenkvm's last line: $(tail -1 "/tmp/bench-xenkvm-$i.log" | cut -c1-160)"
    fi
    i=$((i + 1))
done
q_med=$(for v in $qs; do echo "$v"; done | rig_median)
x_med=$(for v in $xs; do echo "$v"; done | rig_median)
if [ -n "$q_med" ]; then
    rig_result boot-bench-qemu-microvm PASS "GUEST-INIT-MARKER after ${q_med} ms (median of:$qs)"
else
    rig_result boot-bench-qemu-microvm FAIL "no GUEST-INIT-MARKER in $n rounds"
fi
if [ -n "$x_med" ] && [ "$xfails" = 0 ]; then
    rig_result boot-bench-xenkvm PASS "GUEST-INIT-MARKER after ${x_med} ms (median of:$xs)"
else
    rig_result boot-bench-xenkvm FAIL "GUEST-INIT-MARKER in only$( echo "$xs" | wc -w) of $n rounds (see RIG-BENCH-ROUND lines)"
fi
ratio=$(awk -v x="$x_med" -v q="$q_med" 'BEGIN { if (x == "" || q == "" || q == 0) print "n/a"; else printf "%.2f\n", x / q }')
echo "RIG-BENCH xenkvm_ms=${x_med:-none} qemu_microvm_ms=${q_med:-none} ratio=$ratio rounds=$n"

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
klog /tmp/bench-qemu-1.log > /tmp/klog-qemu
klog /tmp/bench-xenkvm-1.log > /tmp/klog-xenkvm
grep -Fxv -f /tmp/klog-qemu /tmp/klog-xenkvm > /tmp/klog-only || true
grep -Ev -f /tmp/klog-expected /tmp/klog-only > /tmp/klog-bad || true
while IFS= read -r l; do echo "RIG-KLOG only-xenkvm: $l"; done < /tmp/klog-only
n_only=$(wc -l < /tmp/klog-only) n_bad=$(wc -l < /tmp/klog-bad)
if ! grep -q GUEST-INIT-MARKER /tmp/bench-qemu-1.log || ! grep -q GUEST-INIT-MARKER /tmp/bench-xenkvm-1.log; then
    rig_result boot-bench-klog FAIL "a first-round boot did not reach init: nothing to compare"
elif [ "$n_bad" = 0 ]; then
    rig_result boot-bench-klog PASS "$(wc -l < /tmp/klog-xenkvm) warning/error lines under xenkvm, $(wc -l < /tmp/klog-qemu) under QEMU; $n_only only under xenkvm, all expected"
else
    rig_result boot-bench-klog FAIL "$n_bad unexpected warning/error lines only under xenkvm, first: $(head -1 /tmp/klog-bad | cut -c1-120)"
fi
