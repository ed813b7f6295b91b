# rig: Linux's xen-netfront against xenkvm's netback, one boot. The outer guest makes
# bridge xenbr0 (10.77.0.1/24); `xenkvm run --vif bridge=xenbr0,mac=...` puts the tap
# vif<domid>.0 on it; the guest (guest.scenario=net) sets eth0 to 10.77.0.2/24 and:
#   linux-net-link   eth0 appears and has a carrier, with the MAC given in the vif spec
#   linux-net-ping   ping 10.77.0.1 (3 of 3 answered)
#   linux-net-rx     $mb MiB of random data from the outer's busybox httpd (wget), the
#                    sha256 in the guest equal to the outer's
#   linux-net-tx     $mb MiB of random data from the guest by nc to the outer's nc
#                    listener, the sha256 in the outer equal to the guest's
#   linux-net-exit   xenkvm exits 0 (the guest powers off)
# Throughput (the guest's own timing, wall clock inside a nested TCG guest: a floor,
# not a figure for real hardware) goes into a RIG-BENCH line.
# linux-net-qemu.sh runs this with RIG_NET_VMM=qemu: the same guest under QEMU microvm
# with virtio-net on a tap in the same bridge, as a control for the rig itself.
# For debugging, on the outer command line (rig/run.sh linux-net --append ...):
# rig.net_vcpus=N (default 1), rig.net_queues=N (netfront's max_queues; default one per
# vCPU), rig.net_mb=N (default 32).
# The boot takes ~35 s here; a stalled guest is given up on after at most 180 s.
t=${RIG_GUEST_TIMEOUT:-180}
[ "$t" -gt 180 ] && t=180
mb=32 vcpus=1 extra=
mac=00:16:3e:00:00:01
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        rig.net_vcpus=*) vcpus=${arg#*=} ;;
        rig.net_queues=*) extra="$extra guest.netqueues=${arg#*=}" ;;
        rig.net_mb=*) mb=${arg#*=} ;;
    esac
done
# lpj: see linux-boot.sh (secondary CPUs' delay-loop calibration under TCG).
[ "$vcpus" -gt 1 ] && extra="$extra lpj=10800000"
n=linux-net
[ "${RIG_NET_VMM:-xenkvm}" = qemu ] && n=linux-net-qemu

rig_start_xenkvmd || rig_result "$n"-xenkvmd FAIL "xenkvmd did not start"
rig_net_up "$n" "$mb"
if ! xenkvm run --help 2>&1 | grep -q -- --vif; then
    rig_result "$n" FAIL "xenkvm run has no --vif option (bridge: $(ip -o addr show xenbr0 2>&1 | head -1 | cut -c1-80); /dev/net/tun: $(ls /dev/net/tun 2>&1))"
    return 0 2>/dev/null || exit 0
fi

# With --verbose: a vCPU state dump every 10 s, and after 120 s xenkvm's threads (name,
# state, wchan) and the bridge's counters, for a stall.
dump=
if [ "${RIG_VERBOSE:-0}" != 0 ]; then
    dump="XENKVM_DEBUG_DUMP_MS=10000"
    ( sleep 120; p=$(pidof xenkvm) || exit 0
      for d in /proc/$p/task/*; do
          echo "RIG-NET-STALL thread $(cat $d/comm) state $(cut -d' ' -f3 $d/stat) wchan $(cat $d/wchan 2>/dev/null)"
      done
      ip -s link show xenbr0 | sed 's/^/RIG-NET-STALL /'
      ip -s link show vif1.0 2>&1 | sed 's/^/RIG-NET-STALL /' ) &
fi
log=/tmp/$n.log
if [ "${RIG_NET_VMM:-xenkvm}" = qemu ]; then
    tunctl -t qtap0 >/dev/null && brctl addif xenbr0 qtap0 && ip link set qtap0 up \
        || rig_result "$n-tap" FAIL "cannot put tap qtap0 on xenbr0"
    rig_run_guest "$log" "$t" GUEST-INIT-MARKER \
        qemu-system-x86_64 -M microvm -accel kvm -cpu host -m 256 -smp "$vcpus" -nographic \
        -no-reboot -bios /usr/share/qemu/bios-microvm.bin -nodefaults -serial stdio \
        -netdev tap,id=n0,ifname=qtap0,script=no,downscript=no \
        -device virtio-net-device,netdev=n0,mac=$mac \
        -kernel /guest/vmlinuz -initrd /guest/initrd.gz \
        -append "console=ttyS0 quiet guest.scenario=net guest.netmb=$mb$extra"
else
    rig_run_guest "$log" "$t" GUEST-INIT-MARKER \
        env $dump xenkvm run $(rig_xenkvm_v) --name net --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
        --memory 256 --vcpus "$vcpus" --vif "bridge=xenbr0,mac=$mac" \
        --cmdline "console=hvc0 quiet guest.scenario=net guest.netmb=$mb$extra"
fi
rig_net_down

# When the guest never reported a transfer: how its VMM ended.
case "$RIG_RC" in
    137) why="the guest stalled (killed after $t s; its own 90 s limit on the transfer never fired)" ;;
    *) why="${RIG_NET_VMM:-xenkvm} exit $RIG_RC $(grep -m1 -o 'vcpu [0-9]*: triple fault' "$log")" ;;
esac
# Under xenkvm, Linux runs on FIFO event channels (QEMU's guest has none).
abi=
[ -n "$RIG_NET_VMM" ] || abi="Using FIFO-based ABI"
rig_net_results "$n" "$log" "$mac" "$mb" "$why" "$abi"
if [ "$RIG_RC" = 0 ]; then
    rig_result "$n"-exit PASS "${RIG_NET_VMM:-xenkvm} exit 0 after $RIG_ELAPSED_MS ms"
else
    rig_result "$n"-exit FAIL "${RIG_NET_VMM:-xenkvm} exit $RIG_RC; last: $(rig_last "$log")"
fi
echo "RIG-BENCH vmm=${RIG_NET_VMM:-xenkvm} net_rx_MiBps=$(rig_mbps "$RIG_NET_RX_BYTES" "$RIG_NET_RX_MS") net_tx_MiBps=$(rig_mbps "$RIG_NET_TX_BYTES" "$RIG_NET_TX_MS") net_mb=$mb vcpus=$vcpus"
