# rig: for debugging the PV path (not in the pytest tier): the generic kernel as a PV
# guest through the shim under `xenkvm run -v -v` (every hypercall in the log, kept in
# /tmp and summarised: too much for the serial console), a vif on xenbr0 and
# guest.scenario=net (1 MiB each way), 1 vCPU. rig.pv_debug_args=A,B,... on the outer
# command line adds xenkvm run arguments (e.g. --shim-extra=loglvl=all).
# rig: needs pv
t=${RIG_GUEST_TIMEOUT:-300}
args=
for arg in $(cat /proc/cmdline); do
    case "$arg" in rig.pv_debug_args=*) args=$(echo "${arg#*=}" | tr ',' ' ') ;; esac
done
rig_start_xenkvmd || true
rig_net_up pv-debug 1
full=/tmp/pv-debug.full
( xenkvm run -v -v --pv --kernel /pv/vmlinuz --ramdisk /guest/initrd.gz --memory 512 \
    --vif bridge=xenbr0,mac=00:16:3e:00:00:03 $args \
    --cmdline "console=hvc0 lpj=10800000 guest.scenario=net guest.netmb=1" > "$full" 2>&1 < /dev/null
  echo $? > /tmp/pv-debug.rc ) &
i=0
while [ ! -e /tmp/pv-debug.rc ] && [ $i -lt "$t" ]; do sleep 1; i=$((i + 1)); done
[ -e /tmp/pv-debug.rc ] || kill "$(pidof xenkvm)" 2>/dev/null
sleep 1
rig_net_down
tr -d '\r' < "$full" | grep -a -E 'GUEST-|error|warning|not taken' | sed 's/^/| /' | head -200
rig_net_results pv-debug "$full" 00:16:3e:00:00:03 1 "xenkvm exit $(cat /tmp/pv-debug.rc 2>/dev/null)"
echo "RIG-DEBUG upcalls not taken: $(grep -c 'not taken' "$full"), lines $(wc -l < "$full")"
echo "RIG-DEBUG hypercalls by number (vcpu: nr count):"
grep -a -o 'vcpu [0-9]*: hypercall [0-9]*' "$full" | awk '{ c[$2 " " $4]++ } END { for (k in c) print "RIG-DEBUG   " k, c[k] }' | sort
