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
# vCPU), rig.net_mb=N (default 8).
# The boot takes ~35 s here; a stalled guest is given up on after at most 180 s.
t=${RIG_GUEST_TIMEOUT:-180}
[ "$t" -gt 180 ] && t=180
mb=8 vcpus=1 extra=
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
last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }

rig_start_xenkvmd || rig_result "$n"-xenkvmd FAIL "xenkvmd did not start"
if ! { ip link add xenbr0 type bridge && ip addr add 10.77.0.1/24 dev xenbr0 &&
        ip link set xenbr0 up; } 2>/tmp/bridge.err; then
    rig_result "$n"-bridge FAIL "cannot make bridge xenbr0: $(tr '\n' ' ' < /tmp/bridge.err); $(ls /sys/class/net | tr '\n' ' ')"
fi
if ! xenkvm run --help 2>&1 | grep -q -- --vif; then
    rig_result "$n" FAIL "xenkvm run has no --vif option (bridge: $(ip -o addr show xenbr0 2>&1 | head -1 | cut -c1-80); /dev/net/tun: $(ls /dev/net/tun 2>&1))"
    return 0 2>/dev/null || exit 0
fi

mkdir -p /srv
dd if=/dev/urandom of=/srv/out.bin bs=1M count="$mb" 2>/dev/null
rx_sum=$(sha256sum /srv/out.bin | cut -d' ' -f1)
httpd -f -p 10.77.0.1:8080 -h /srv &
httpd_pid=$!
# busybox nc exits when the peer's side ends, and shuts its own sending side at EOF on
# stdin: the listener's stdin is a FIFO held open here, so it receives to the end.
rm -f /tmp/nc-hold; mkfifo /tmp/nc-hold
exec 3<>/tmp/nc-hold
nc -l -p 9000 <&3 > /tmp/from-guest.bin &
nc_pid=$!

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
kill "$httpd_pid" "$nc_pid" 2>/dev/null
exec 3>&-

# why_net RX|TX: when the guest never reported the transfer, how xenkvm ended.
why_net() {
    grep -q "GUEST-NET-$1" "$log" && return 0
    case "$RIG_RC" in
        137) echo "no GUEST-NET-$1 line: the guest stalled (killed after $t s; its own 90 s limit on the transfer never fired);" ;;
        *) echo "no GUEST-NET-$1 line: ${RIG_NET_VMM:-xenkvm} exit $RIG_RC $(grep -m1 -o 'vcpu [0-9]*: triple fault' "$log");" ;;
    esac
}
link=$(grep -m1 GUEST-NET-LINK "$log")
abi=$(grep -m1 GUEST-EVTCHN "$log" | cut -d' ' -f2-)
# Under xenkvm, Linux runs on FIFO event channels (QEMU's guest has none).
if echo "$link" | grep -q "carrier 1 mac $mac" &&
   { [ -n "$RIG_NET_VMM" ] || [ "$abi" = "Using FIFO-based ABI" ]; }; then
    rig_result "$n"-link PASS "$link${RIG_NET_VMM:-; events: $abi}"
else
    rig_result "$n"-link FAIL "'$link' events '$abi' $(grep -m1 GUEST-NET-NODEV "$log"); ${RIG_NET_VMM:-xenkvm} exit $RIG_RC; last: $(last "$log")"
fi
ping=$(grep -m1 GUEST-NET-PING "$log")
if echo "$ping" | grep -q "^GUEST-NET-PING 0 3 packets transmitted, 3 packets received"; then
    rig_result "$n"-ping PASS "${ping#GUEST-NET-PING 0 }"
else
    rig_result "$n"-ping FAIL "'$ping'"
fi
# GUEST-NET-RX rc sha256 bytes ms / GUEST-NET-TX rc sha256 bytes ms
set -- $(grep -m1 GUEST-NET-RX "$log") x x x x x
rx_rc=$2 rx_got=$3 rx_bytes=$4 rx_ms=$5
if [ "$rx_rc" = 0 ] && [ "$rx_got" = "$rx_sum" ] && [ "$rx_bytes" = $((mb * 1048576)) ]; then
    rig_result "$n"-rx PASS "$mb MiB outer -> guest (wget), sha256 equal, $rx_ms ms in the guest"
else
    rig_result "$n"-rx FAIL "$(why_net RX) wget exit '$rx_rc', $rx_bytes bytes, sha256 '$rx_got' want '$rx_sum'"
fi
set -- $(grep -m1 GUEST-NET-TX "$log") x x x x x
tx_rc=$2 tx_sum=$3 tx_bytes=$4 tx_ms=$5
tx_got=$(sha256sum /tmp/from-guest.bin | cut -d' ' -f1)
tx_have=$(wc -c < /tmp/from-guest.bin)
if [ "$tx_rc" = 0 ] && [ "$tx_got" = "$tx_sum" ] && [ "$tx_have" = $((mb * 1048576)) ]; then
    rig_result "$n"-tx PASS "$mb MiB guest -> outer (nc), sha256 equal, $tx_ms ms in the guest"
else
    rig_result "$n"-tx FAIL "$(why_net TX) guest nc exit '$tx_rc', outer got $tx_have bytes, sha256 '$tx_got' want '$tx_sum'"
fi
if [ "$RIG_RC" = 0 ]; then
    rig_result "$n"-exit PASS "${RIG_NET_VMM:-xenkvm} exit 0 after $RIG_ELAPSED_MS ms"
else
    rig_result "$n"-exit FAIL "${RIG_NET_VMM:-xenkvm} exit $RIG_RC; last: $(last "$log")"
fi
mbps() { [ -n "$2" ] && [ "$2" -gt 0 ] 2>/dev/null && awk -v b="$1" -v m="$2" 'BEGIN { printf "%.1f", b / 1048576 / (m / 1000) }' || echo "?"; }
echo "RIG-BENCH vmm=${RIG_NET_VMM:-xenkvm} net_rx_MiBps=$(mbps "$rx_bytes" "$rx_ms") net_tx_MiBps=$(mbps "$tx_bytes" "$tx_ms") net_mb=$mb vcpus=$vcpus"
