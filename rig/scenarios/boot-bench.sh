# rig: time from VMM start to the guest's GUEST-INIT-MARKER, xenkvm against QEMU microvm
# (KVM, same cloud kernel and guest initramfs, 1 vCPU and 256 MiB each, "quiet" on both
# command lines: without it QEMU's guest spends ~15 s more printing to its emulated UART).
# N rounds (rig.bench_n=N on the outer command line, default 3), each booting QEMU then
# xenkvm, so both see the same host load; the medians are compared.
# xenkvm runs with --stats: its exit counters are in the log of each round.
# rig: needs qemu
t=${RIG_GUEST_TIMEOUT:-300}
n=3
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        rig.bench_n=*) n=${arg#*=} ;;
    esac
done
rig_start_xenkvmd || true
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
qs= xs= xfails=0
i=1
while [ "$i" -le "$n" ]; do
    rig_run_guest /tmp/bench-qemu.log "$t" GUEST-INIT-MARKER \
        qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp 1 -nographic -no-reboot \
        -bios /usr/share/qemu/bios-microvm.bin -nodefaults -serial stdio \
        -kernel /guest/vmlinuz -initrd /guest/initrd.gz \
        -append "console=ttyS0 quiet guest.scenario=poweroff"
    q_ms=$RIG_MARKER_MS q_rc=$RIG_RC
    rig_run_guest /tmp/bench-xenkvm.log "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --stats --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
        --memory 256 --vcpus 1 --cmdline "console=hvc0 quiet guest.scenario=poweroff"
    x_ms=$RIG_MARKER_MS x_rc=$RIG_RC
    echo "RIG-BENCH-ROUND $i xenkvm_ms=${x_ms:-none} (exit $x_rc) qemu_microvm_ms=${q_ms:-none} (exit $q_rc)"
    [ -n "$q_ms" ] && qs="$qs $q_ms"
    if [ -n "$x_ms" ]; then
        xs="$xs $x_ms"
    else
        xfails=$((xfails + 1))
        echo "RIG-BENCH-ROUND $i xenkvm's last line: $(tail -1 /tmp/bench-xenkvm.log | cut -c1-160)"
    fi
    i=$((i + 1))
done
q_med=$(for v in $qs; do echo "$v"; done | median)
x_med=$(for v in $xs; do echo "$v"; done | median)
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
