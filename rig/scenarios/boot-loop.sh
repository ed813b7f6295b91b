# rig: stall hunting (issue 16, part 1; not in the pytest tier). Boots Debian's cloud
# kernel rig.boots=N times (default 8) to its init and back (guest.scenario=poweroff),
# 2 vCPUs and 256 MiB, under rig.vmm=xenkvm (default) or rig.vmm=qemu (QEMU microvm
# on the same nested KVM: the control without xenkvm). A boot "stalls" when the guest
# reports an RCU stall or a soft lockup, or is killed by the guest timeout
# (--guest-timeout; xenkvm's vCPU state is dumped first, see rig_run_guest).
# rig.guest_append=A,B adds "A B" to the guest's command line (e.g. initcall_debug,
# to see where a guest that resets was).
#   boot-loop   PASS iff no boot stalled; RIG-BENCH boots=… stalled=… lines per VMM
# rig: needs qemu
t=${RIG_GUEST_TIMEOUT:-120}
n=8 vmm=xenkvm extra=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        rig.boots=*) n=${arg#*=} ;;
        rig.vmm=*)   vmm=${arg#*=} ;;
        rig.guest_append=*) extra=$(echo "${arg#*=}" | tr ',' ' ') ;;
    esac
done
[ "$vmm" = xenkvm ] && { rig_start_xenkvmd || true; }
cmd="quiet lpj=10800000 guest.scenario=poweroff ${extra:-}"
stalled=0 times=
i=1
while [ "$i" -le "$n" ]; do
    log=/tmp/boot-loop-$i.log
    if [ "$vmm" = qemu ]; then
        rig_run_guest "$log" "$t" GUEST-INIT-MARKER \
            qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp 2 -nographic \
            -no-reboot -bios /usr/share/qemu/bios-microvm.bin -nodefaults -serial stdio \
            -kernel /guest/vmlinuz -initrd /guest/initrd.gz -append "console=ttyS0 $cmd"
    else
        rig_run_guest "$log" "$t" GUEST-INIT-MARKER \
            xenkvm run --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz --memory 256 \
            --vcpus 2 --cmdline "console=hvc0 $cmd"
    fi
    up=$(grep -m1 GUEST-UPTIME "$log" | cut -d' ' -f2)
    why=
    grep -q "rcu: INFO: .* detected stalls\|soft lockup" "$log" && why="RCU stall or soft lockup"
    [ -z "$RIG_MARKER_MS" ] && why="${why:+$why, }no init in $t s (exit $RIG_RC)"
    echo "RIG-BOOT $vmm $i uptime_at_init=${up:-none} ms_to_init=${RIG_MARKER_MS:-none} exit=$RIG_RC${why:+ STALLED: $why}"
    [ -n "$why" ] && stalled=$((stalled + 1))
    times="$times ${up:-none}"
    i=$((i + 1))
done
echo "RIG-BENCH vmm=$vmm boots=$n stalled=$stalled uptimes_at_init:$times"
if [ "$stalled" = 0 ]; then
    rig_result boot-loop PASS "$vmm: $n boots, none stalled; guest uptime at init:$times"
else
    rig_result boot-loop FAIL "$vmm: $stalled of $n boots stalled; guest uptime at init:$times"
fi
