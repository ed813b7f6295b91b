# rig: Debian's cloud kernel as a PVH guest under xenkvm, four boots:
#   linux-boot      to the guest's /init: GUEST-INIT-MARKER, 2 vCPUs online,
#                   /sys/hypervisor/type = xen, the UUID read back through xenbus,
#                   FIFO event channels in use, then poweroff -> xenkvm exit 0
#   linux-console   scripts/demo.sh's Linux path (a shell on hvc0) with xen.fifo_events=0:
#                   a command typed on xenkvm's stdin runs in the guest's shell, `exit`
#                   powers it off; the guest on the 2-level event channel ABI
#   linux-reboot    reboot -> exit 3
#   linux-panic     a kernel panic -> exit 2 (crash)
# The guest console and xenkvm's stderr are kept in the rig log ("| ..." lines).
# lpj= : QEMU's emulated CPU has no invariant TSC, so without a preset each
# secondary CPU calibrates its delay loop against jiffies, which advance only
# when the idle boot CPU wakes (seconds apart here). Real hosts pass invariant
# TSC through (xenkvm gives the guest KVM's CPUID) and need no such option.
t=${RIG_GUEST_TIMEOUT:-300}
uuid=2d7c5f1a-3b9e-4c2d-8f1e-6a5b4c3d2e1f
base="console=hvc0 lpj=10800000 quiet"
if ! rig_start_xenkvmd; then
    rig_result linux-boot-xenkvmd FAIL "xenkvmd did not start: $(tail -3 /tmp/xenkvmd.log)"
fi
boot() {   # boot NAME SCENARIO [EXTRA xenkvm args]
    local name=$1 scen=$2; shift 2
    rig_run_guest "/tmp/$name.log" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --uuid "$uuid" --name "$name" --kernel /guest/vmlinuz \
        --ramdisk /guest/initrd.gz --memory 256 --vcpus 2 \
        --cmdline "$base guest.scenario=$scen" "$@"
}
why() {
    case "$RIG_RC" in 137|124) echo "killed by the ${t} s timeout" ;; *) echo "xenkvm exit $RIG_RC" ;; esac
}
last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }

boot linux-boot poweroff
log=/tmp/linux-boot.log
nproc=$(grep -m1 GUEST-NPROC "$log" | cut -d' ' -f2)
hyp=$(grep -m1 GUEST-HYPERVISOR "$log" | cut -d' ' -f2)
guuid=$(grep -m1 GUEST-UUID "$log" | cut -d' ' -f2)
abi=$(grep -m1 GUEST-EVTCHN "$log" | cut -d' ' -f2-)
if [ -n "$RIG_MARKER_MS" ] && [ "$RIG_RC" = 0 ] && [ "$nproc" = 2 ] && [ "$hyp" = xen ] &&
   [ "$guuid" = "$uuid" ] && [ "$abi" = "Using FIFO-based ABI" ]; then
    rig_result linux-boot PASS "init after ${RIG_MARKER_MS} ms; nproc $nproc; hypervisor $hyp; uuid via xenbus ok; events: $abi; $(grep -m1 GUEST-XENBUS "$log"); exit 0 after ${RIG_ELAPSED_MS} ms"
else
    rig_result linux-boot FAIL "$(why); marker ${RIG_MARKER_MS:-not seen}; nproc '$nproc' hypervisor '$hyp' uuid '$guuid' events '$abi'; last: $(last "$log")"
fi

# The demo script's Linux path (scripts/demo.sh --boot-linux: a shell on hvc0), fed
# through a FIFO (a terminal-like stdin: epoll refuses regular files): once the shell
# is there, a command line whose output only a shell makes (6*7 expanded), then exit.
# Keys typed early wait in the console ring either way.
rm -f /tmp/console-in; mkfifo /tmp/console-in
(i=0; while ! grep -q GUEST-SHELL /tmp/linux-console.log 2>/dev/null && [ $i -lt "$t" ]; do
     sleep 1; i=$((i + 1)); done
 sleep 2; echo 'echo typed-into-hvc0-$((6 * 7))'; sleep 2; echo exit; sleep 300) > /tmp/console-in &
feeder=$!
rm -f /tmp/linux-console.log
RIG_STDIN=/tmp/console-in rig_run_guest /tmp/linux-console.log "$t" GUEST-INIT-MARKER \
    sh /demo.sh --boot-linux /guest/vmlinuz /guest/initrd.gz -- xen.fifo_events=0
kill $feeder 2>/dev/null
abi=$(grep -m1 GUEST-EVTCHN /tmp/linux-console.log | cut -d' ' -f2-)
if grep -q "typed-into-hvc0-42" /tmp/linux-console.log && [ "$RIG_RC" = 0 ] &&
   [ "$abi" = "Using 2-level ABI" ]; then
    rig_result linux-console PASS "scripts/demo.sh's Linux path: a command typed into the guest's shell on hvc0 ran (its output came back); exit powered it off; events: $abi (xen.fifo_events=0)"
else
    rig_result linux-console FAIL "$(why); events '$abi'; last: $(last /tmp/linux-console.log)"
fi

boot linux-reboot reboot
if grep -q GUEST-REBOOT /tmp/linux-reboot.log && [ "$RIG_RC" = 3 ]; then
    rig_result linux-reboot PASS "exit 3 (reboot)"
else
    rig_result linux-reboot FAIL "$(why), want 3; last: $(last /tmp/linux-reboot.log)"
fi

boot linux-panic panic
if grep -q GUEST-PANIC /tmp/linux-panic.log && [ "$RIG_RC" = 2 ]; then
    rig_result linux-panic PASS "exit 2 (crash)"
else
    rig_result linux-panic FAIL "$(why), want 2; last: $(last /tmp/linux-panic.log)"
fi
