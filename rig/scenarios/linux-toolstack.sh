# rig: the toolstack with Debian's cloud kernel as a PVH guest, one boot
# (xenkvm create, guest.scenario=toolstack), the outer guest's cgroup v2
# mounted with its cpu, memory and io controllers:
#   linux-ts-cgroup    the domain process is in its own cgroup with cpu_weight=512
#                      (cpu.weight 200) and cap=50 (cpu.max 50000 100000);
#                      sched-credit -w 256 -c 0 sets 100 / max
#   linux-ts-boot      maxvcpus=2 vcpus=1: Linux boots with vCPU 1 offline
#   linux-ts-vcpu-up   vcpu-set 2: Linux onlines CPU 1 (cpu/1/availability)
#   linux-ts-vcpu-down vcpu-set 1: Linux takes CPU 1 down again
#   linux-ts-balloon   memory 192, mem-set 128: the guest's balloon reaches 128 MiB
#                      and the memory its cgroup holds (top's MEM) drops
#   linux-ts-nmi       trigger nmi: Linux reports the NMI it was sent
#   linux-ts-destroy   destroy: the process and its cgroup are gone
t=${RIG_GUEST_TIMEOUT:-300}
last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }
# wait_for TEXT SECONDS [FROM_LINE]: the console log has a line with TEXT after line FROM.
log=/var/log/xenkvm/tsguest.log
wait_for() {
    local i=0 from=${3:-0}
    while [ $i -lt $(($2 * 5)) ]; do
        tail -n +$((from + 1)) "$log" 2>/dev/null | grep -q -- "$1" && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}
lines() { wc -l < "$log" 2>/dev/null || echo 0; }
t0=$(cut -d. -f1 /proc/uptime)
at() { echo "(at $(($(cut -d. -f1 /proc/uptime) - t0)) s)"; }
show_log() { sed 's/^/| /' "$log" 2>/dev/null | tail -${1:-40}; }

grep -q ' /sys/fs/cgroup cgroup2' /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
echo "rig: cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
rig_start_xenkvmd || rig_result linux-ts-xenkvmd FAIL "xenkvmd did not start"
cat > /tmp/ts.cfg <<CFG
name = "tsguest"
type = "pvh"
kernel = "/guest/vmlinuz"
ramdisk = "/guest/initrd.gz"
cmdline = "console=hvc0 lpj=10800000 quiet guest.scenario=toolstack"
memory = 192
vcpus = 1
maxvcpus = 2
cpu_weight = 512
cap = 50
CFG
if ! xenkvm create -q /tmp/ts.cfg 2>/tmp/create.err; then
    rig_result linux-ts-create FAIL "$(cat /tmp/create.err)"
    return 0 2>/dev/null || exit 0
fi
# the domain process (its spawn helper, a fork named xenkvm-spawner, has the same argv[0])
pid=
for p in $(pidof xenkvm); do [ "$(cat /proc/$p/comm 2>/dev/null)" = xenkvm ] && pid=$p; done
cg=/sys/fs/cgroup/xenkvm/dom-1
w=$(cat $cg/cpu.weight 2>/dev/null) m=$(cat $cg/cpu.max 2>/dev/null)
in=$(grep -c "^$pid\$" $cg/cgroup.procs 2>/dev/null)
xenkvm sched-credit -d tsguest -w 256 -c 0
w2=$(cat $cg/cpu.weight 2>/dev/null) m2=$(cat $cg/cpu.max 2>/dev/null)
if [ "$in" = 1 ] && [ "$w" = 200 ] && [ "$m" = "50000 100000" ] && [ "$w2" = 100 ] &&
   [ "$m2" = "max 100000" ]; then
    rig_result linux-ts-cgroup PASS "process $pid in $cg; weight 512 -> cpu.weight $w, cap 50 -> cpu.max '$m'; sched-credit -w 256 -c 0 -> $w2 / '$m2' $(at)"
else
    rig_result linux-ts-cgroup FAIL "pid $pid in procs: '$in'; cpu.weight '$w' -> '$w2'; cpu.max '$m' -> '$m2'; $(ls /sys/fs/cgroup/xenkvm 2>&1 | tr '\n' ' ')"
fi

if wait_for "GUEST-TS cpus 0 " "$t"; then
    rig_result linux-ts-boot PASS "$(grep -m1 'GUEST-TS cpus' "$log"); vCPU 1 left offline at boot $(at)"
else
    rig_result linux-ts-boot FAIL "no 'GUEST-TS cpus 0' line; last: $(last "$log")"
    show_log
    xenkvm destroy tsguest
    return 0 2>/dev/null || exit 0
fi

n=$(lines)
xenkvm vcpu-set tsguest 2
if wait_for "GUEST-TS cpus 0-1 " 60 "$n"; then
    rig_result linux-ts-vcpu-up PASS "vcpu-set 2: $(tail -n +$((n + 1)) "$log" | grep -m1 'GUEST-TS cpus 0-1') $(at)"
else
    rig_result linux-ts-vcpu-up FAIL "no 'cpus 0-1' in 60 s; last: $(last "$log")"
fi
n=$(lines)
xenkvm vcpu-set tsguest 1
if wait_for "GUEST-TS cpus 0 " 60 "$n"; then
    rig_result linux-ts-vcpu-down PASS "vcpu-set 1: $(tail -n +$((n + 1)) "$log" | grep -m1 'GUEST-TS cpus 0 ') $(at)"
else
    rig_result linux-ts-vcpu-down FAIL "CPU 1 still online after 60 s; last: $(last "$log")"
fi

# top's MEM(k) is the memory the domain's cgroup holds.
mem() { xenkvm top -b -d 0.1 | awk '$1 == "tsguest" { print $5 }'; }
before=$(mem)
n=$(lines)
xenkvm mem-set tsguest 128
ok=
i=0
while [ $i -lt 60 ]; do
    kb=$(tail -n +$((n + 1)) "$log" | grep 'GUEST-TS cpus' | tail -1 | awk '{ print $7 }')
    [ -n "$kb" ] && [ "$kb" -le 135168 ] && { ok=1; break; }
    sleep 1; i=$((i + 1))
done
sleep 2
after=$(mem)
if [ -n "$ok" ] && [ -n "$before" ] && [ -n "$after" ] && [ "$before" -ge 81920 ] &&
   [ $((before - after)) -ge 24576 ]; then
    rig_result linux-ts-balloon PASS "mem-set 128: the guest's balloon at $kb KiB after ${i} s; the cgroup's memory $before -> $after KiB $(at)"
else
    rig_result linux-ts-balloon FAIL "balloon at '$kb' KiB (want <= 135168); cgroup memory '$before' -> '$after' KiB (want >= 80 MiB, then 24 MiB less)"
fi

n=$(lines)
xenkvm trigger tsguest nmi
# With no NMI source to name (port 0x61 reads 0xff here, as on Xen for PVH),
# Linux reports the NMI as "NMI: PCI system error (SERR) for reason ff on CPU 0".
if wait_for "NMI.* on CPU" 20 "$n"; then
    rig_result linux-ts-nmi PASS "$(tail -n +$((n + 1)) "$log" | grep -m1 'NMI.* on CPU' | cut -c1-100) $(at)"
else
    rig_result linux-ts-nmi FAIL "Linux did not report the NMI; last: $(last "$log")"
fi

xenkvm destroy tsguest
i=0; while [ -d "$cg" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -d "$cg" ] && ! kill -0 "$pid" 2>/dev/null; then
    rig_result linux-ts-destroy PASS "process and $cg gone $(at)"
else
    rig_result linux-ts-destroy FAIL "process alive: $(kill -0 "$pid" 2>/dev/null && echo yes || echo no); $cg: $(ls -d "$cg" 2>&1)"
fi
show_log 12
