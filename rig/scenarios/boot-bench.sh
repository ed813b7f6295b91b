# rig: time from VMM start to the guest's GUEST-INIT-MARKER, xenkvm against QEMU microvm
# (KVM, same cloud kernel and guest initramfs, 1 vCPU and 256 MiB each, "quiet" on both
# command lines: without it QEMU's guest spends ~15 s more printing to its emulated UART).
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
