# Helpers for rig scenarios (sourced by the outer /init; busybox sh).

# rig_result NAME PASS|FAIL DETAIL...
rig_result() {
    local name=$1 verdict=$2; shift 2
    echo "RIG-RESULT $name $verdict $*"
}

# Milliseconds since the outer guest booted (10 ms resolution).
rig_ms() {
    awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# rig_run_guest LOG TIMEOUT_S MARKER CMD... : runs CMD (a VMM), stdin from $RIG_STDIN
# (default /dev/null), with stdout+stderr
# through to the serial console (prefixed "| ") and into LOG; sets
#   RIG_RC         the command's exit status (124/137: killed by the timeout)
#   RIG_MARKER_MS  ms from start to the first line containing MARKER ("" if none)
#   RIG_ELAPSED_MS ms from start to exit
# With RIG_KILL_ON=TEXT, the command is sent SIGKILL as soon as a line containing TEXT
# comes out (RIG_RC is then 137); RIG_KILLED_MS is when (ms from start, "" if not).
rig_run_guest() {
    local log=$1 t=$2 marker=$3; shift 3
    local t0 t1
    rm -f /tmp/rig-rc /tmp/rig-marker /tmp/rig-pid /tmp/rig-killed
    t0=$(rig_ms)
    # A guest still running 5 s before its timeout has stalled: a xenkvm is sent
    # SIGUSR2 first, so that the log shows its vCPUs' state (timers, clock, events).
    # Its threads' states (in KVM_RUN, on a futex...) come first, from /proc.
    [ "$t" -gt 10 ] && ( sleep $((t - 5)); p=$(cat /tmp/rig-pid 2>/dev/null)
        [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = xenkvm ] || exit 0
        for task in /proc/"$p"/task/*; do
            echo "| rig-dump: thread ${task##*/} $(cat "$task"/comm) state $(cut -d' ' -f3 "$task"/stat)" \
                 "wchan $(cat "$task"/wchan) syscall $(cut -d' ' -f1-3 "$task"/syscall)"
        done 2>/dev/null
        kill -USR2 "$p"
    ) </dev/null 2>/dev/null &
    local dumper=$!
    { timeout -s KILL "$t" sh -c 'echo $$ > /tmp/rig-pid; exec "$@"' sh "$@" \
        <"${RIG_STDIN:-/dev/null}" 2>&1; echo $? > /tmp/rig-rc; } \
        | awk -v m="$marker" -v k="${RIG_KILL_ON:-}" -v t0="$t0" -v lf="$log" '
            function now_ms(  up, a) {
                getline up < "/proc/uptime"; close("/proc/uptime")
                split(up, a, " "); return int(a[1] * 1000 - t0)
            }
            { sub(/\r$/, "") }
            !killed && k != "" && index($0, k) {
                getline pid < "/tmp/rig-pid"; close("/tmp/rig-pid")
                system("kill -9 " pid)
                printf "%d\n", now_ms() > "/tmp/rig-killed"; close("/tmp/rig-killed")
                killed = 1
            }
            !seen && m != "" && index($0, m) {
                printf "%d\n", now_ms() > "/tmp/rig-marker"
                close("/tmp/rig-marker"); seen = 1
            }
            { print "| " $0; print $0 >> lf; fflush() }'
    t1=$(rig_ms)
    kill "$dumper" 2>/dev/null; wait "$dumper" 2>/dev/null
    RIG_RC=$(cat /tmp/rig-rc 2>/dev/null || echo 255)
    RIG_MARKER_MS=$(cat /tmp/rig-marker 2>/dev/null || true)
    RIG_KILLED_MS=$(cat /tmp/rig-killed 2>/dev/null || true)
    RIG_ELAPSED_MS=$((t1 - t0))
}

# xenkvmd, started once (default socket /run/xenkvm/xenstored.sock).
rig_start_xenkvmd() {
    [ -S /run/xenkvm/xenstored.sock ] && return 0
    mkdir -p /run/xenkvm
    xenkvmd >/tmp/xenkvmd.log 2>&1
    local i=0
    while [ ! -S /run/xenkvm/xenstored.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    [ -S /run/xenkvm/xenstored.sock ]
}

# A second toolstack in the outer guest, as on another host: its own run, state and
# log directories under DIR (the variables tests/test_migrate_ssh.py has sshd's SetEnv
# give a session). Sets RIG_DEST_ENV ("VAR=value ...") and RIG_DEST_LOGS. Its xenkvmd
# is started by the first command that needs it (migrate-receive's create).
rig_dest_env() { # DIR
    RIG_DEST_ENV="XENKVM_RUNDIR=$1/run XENKVM_STATEDIR=$1/state XENKVM_LOGDIR=$1/log XENSTORED_PATH=$1/run/xenstored.sock"
    RIG_DEST_LOGS=$1/log
}

# rig_dest CMD...: CMD on the destination's toolstack (rig_dest_env first).
rig_dest() {
    env $RIG_DEST_ENV "$@"
}

# rig_fake_ssh FILE: a stand-in for `ssh HOST CMD...` for `xenkvm migrate -s FILE`:
# drops HOST and runs CMD with the destination's directories (rig_dest_env first), as
# sshd's SetEnv does for the host test.
rig_fake_ssh() { # FILE
    printf '#!/bin/sh\n# ssh HOST CMD...: CMD on the rig'"'"'s second toolstack\nshift\nexec env %s "$@"\n' \
        "$RIG_DEST_ENV" > "$1"
    chmod +x "$1"
}

# A bench scenario's rounds: rig.bench_n=N on the outer command line (default 3).
rig_bench_n() {
    local n=3 arg
    for arg in $(cat /proc/cmdline); do
        case "$arg" in rig.bench_n=*) n=${arg#*=} ;; esac
    done
    echo "$n"
}

# The median of the integers on stdin (the middle two's mean, rounded down, for an
# even count; nothing for none).
rig_median() {
    sort -n | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# rig_wait FILE TEXT TIMEOUT_S: until a line of FILE contains TEXT (1 if it never did).
rig_wait() {
    local i=0
    while [ $i -lt $(($3 * 5)) ]; do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.2; i=$((i + 1))
    done
    return 1
}

rig_xenkvm_v() {
    [ "${RIG_VERBOSE:-0}" != 0 ] && echo -v
}

# The outer side of a guest's network test (the guest's net_test): bridge xenbr0 with
# 10.77.0.1/24, MB MiB of random data served by busybox httpd on 10.77.0.1:8080
# (/out.bin, its sha256 in RIG_NET_RX_SUM), and an nc listener on port 9000 writing what
# it receives to /tmp/from-guest.bin. busybox nc exits when the peer's side ends, and
# shuts its own sending side at EOF on stdin: the listener's stdin is a FIFO held open
# (fd 3), so it receives to the end. Returns 1 (with a FAIL result NAME-bridge) if the
# bridge cannot be made.
rig_net_up() { # NAME MB
    if ! { ip link add xenbr0 type bridge && ip addr add 10.77.0.1/24 dev xenbr0 &&
            ip link set xenbr0 up; } 2>/tmp/bridge.err; then
        rig_result "$1"-bridge FAIL "cannot make bridge xenbr0: $(tr '\n' ' ' < /tmp/bridge.err); $(ls /sys/class/net | tr '\n' ' ')"
        return 1
    fi
    mkdir -p /srv
    dd if=/dev/urandom of=/srv/out.bin bs=1M count="$2" 2>/dev/null
    RIG_NET_RX_SUM=$(sha256sum /srv/out.bin | cut -d' ' -f1)
    httpd -f -p 10.77.0.1:8080 -h /srv &
    RIG_NET_PIDS=$!
    rm -f /tmp/nc-hold; mkfifo /tmp/nc-hold
    exec 3<>/tmp/nc-hold
    rig_net_listen
}

# (Again) an nc listener on port 9000 writing to /tmp/from-guest.bin (it takes one
# connection: call this before each guest's transfer).
rig_net_listen() {
    nc -l -p 9000 <&3 > /tmp/from-guest.bin &
    RIG_NET_PIDS="$RIG_NET_PIDS $!"
}

rig_net_down() {
    kill $RIG_NET_PIDS 2>/dev/null
    exec 3>&-
}

# The results NAME-link, -ping, -rx, -tx from the guest's GUEST-NET-* lines in LOG (its
# eth0 has MAC, MB MiB went each way); WHY is said of a transfer the guest never
# reported (how its VMM ended); with ABI, -link also wants the guest on that event
# channel ABI (its GUEST-EVTCHN line). Sets RIG_NET_RX_BYTES/MS and RIG_NET_TX_BYTES/MS.
rig_net_results() { # NAME LOG MAC MB WHY [ABI]
    local n=$1 log=$2 mac=$3 mb=$4 why=$5 want_abi=${6:-} abi link ping got have
    link=$(grep -m1 -o 'GUEST-NET-LINK.*' "$log" | tr -d '\r')
    abi=$(grep -m1 -o 'GUEST-EVTCHN.*' "$log" | cut -d' ' -f2- | tr -d '\r')
    if echo "$link" | grep -q "carrier 1 mac $mac" && { [ -z "$want_abi" ] || [ "$abi" = "$want_abi" ]; }; then
        rig_result "$n"-link PASS "$link${want_abi:+; events: $abi}"
    else
        rig_result "$n"-link FAIL "'$link' events '$abi' $(grep -m1 GUEST-NET-NODEV "$log"); $why"
    fi
    ping=$(grep -m1 -o 'GUEST-NET-PING.*' "$log" | tr -d '\r')
    if echo "$ping" | grep -q "^GUEST-NET-PING 0 3 packets transmitted, 3 packets received"; then
        rig_result "$n"-ping PASS "${ping#GUEST-NET-PING 0 }"
    else
        rig_result "$n"-ping FAIL "'$ping' ($(echo "$ping" | od -c | head -3 | tr -s ' ' | tr '\n' ' '))"
    fi
    # GUEST-NET-RX rc sha256 bytes ms / GUEST-NET-TX rc sha256 bytes ms
    set -- $(grep -m1 -o 'GUEST-NET-RX.*' "$log" | tr -d '\r') x x x x x
    RIG_NET_RX_BYTES=$4 RIG_NET_RX_MS=$5
    if [ "$2" = 0 ] && [ "$3" = "$RIG_NET_RX_SUM" ] && [ "$4" = $((mb * 1048576)) ]; then
        rig_result "$n"-rx PASS "$mb MiB outer -> guest (wget), sha256 equal, $5 ms in the guest"
    else
        grep -q GUEST-NET-RX "$log" || why="no GUEST-NET-RX line: $why"
        rig_result "$n"-rx FAIL "${why:+$why; }wget exit '$2', $4 bytes, sha256 '$3' want '$RIG_NET_RX_SUM'"
    fi
    set -- $(grep -m1 -o 'GUEST-NET-TX.*' "$log" | tr -d '\r') x x x x x
    RIG_NET_TX_BYTES=$4 RIG_NET_TX_MS=$5
    got=$(sha256sum /tmp/from-guest.bin | cut -d' ' -f1)
    have=$(wc -c < /tmp/from-guest.bin)
    if [ "$2" = 0 ] && [ "$got" = "$3" ] && [ "$have" = $((mb * 1048576)) ]; then
        rig_result "$n"-tx PASS "$mb MiB guest -> outer (nc), sha256 equal, $5 ms in the guest"
    else
        grep -q GUEST-NET-TX "$log" || why="no GUEST-NET-TX line: $why"
        rig_result "$n"-tx FAIL "${why:+$why; }guest nc exit '$2', outer got $have bytes, sha256 '$got' want '$3'"
    fi
}

# MiB/s from BYTES and MS ("?" without both).
rig_mbps() {
    [ -n "$2" ] && [ "$2" -gt 0 ] 2>/dev/null && awk -v b="$1" -v m="$2" 'BEGIN { printf "%.1f", b / 1048576 / (m / 1000) }' || echo "?"
}

# The last non-blank line of FILE, cut to 160 characters (for a FAIL's detail).
rig_last() {
    grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160
}

# rig_blk_boots NAME FORMAT: Linux's xen-blkfront on images of FORMAT (raw, or
# qcow2 through qemu-storage-daemon), two boots on the same images; results
# NAME, NAME-ro, NAME-fs, NAME-reboot, NAME-sigkill (see docs/rig.md, linux-blk).
# qcow2: xvda is an overlay on a backing file; the storage daemons must be gone
# after each boot (after the SIGKILL too).
rig_blk_boots() {
    local n=$1 fmt=$2 t=${RIG_GUEST_TIMEOUT:-300} d=/tmp/$1 left
    mkdir -p "$d"
    rig_start_xenkvmd || rig_result "$n-xenkvmd" FAIL "xenkvmd did not start"
    if [ "$fmt" = raw ]; then
        truncate -s 32M "$d/fs.img"
        dd if=/dev/zero of="$d/ro.img" bs=1M count=8 2>/dev/null
        truncate -s 8M "$d/raw.img"
    else
        qemu-img create -q -f "$fmt" "$d/base.img" 32M &&
        qemu-img create -q -f "$fmt" -b "$d/base.img" -F "$fmt" "$d/fs.img" &&
        qemu-img create -q -f "$fmt" "$d/ro.img" 8M &&
        qemu-img create -q -f "$fmt" "$d/raw.img" 8M || rig_result "$n-images" FAIL "qemu-img create failed"
    fi
    # _bytes IMG SKIP COUNT BS: the image's content (as the guest sees it) to stdout
    _bytes() {
        if [ "$fmt" = raw ]; then
            dd if="$1" bs="$4" skip="$2" count="$3" 2>/dev/null
        else
            qemu-img convert -f "$fmt" -O raw "$1" "$d/content.raw" &&
                dd if="$d/content.raw" bs="$4" skip="$2" count="$3" 2>/dev/null
            rm -f "$d/content.raw"
        fi
    }
    _last() { grep -v '^[[:space:]]*$' "$1" | tail -1 | cut -c1-160; }
    # the storage daemons end with their domain process (SIGTERM, a clean close)
    _daemons_gone() {
        local i=0
        while pidof qemu-storage-daemon >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        pidof qemu-storage-daemon
    }

    rig_run_guest "$d/boot1.log" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --name "$n" --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
        --memory 256 --vcpus 1 --disk "$d/fs.img,$fmt,xvda,rw" --disk "$d/ro.img,$fmt,xvdb,ro" \
        --disk "$d/raw.img,$fmt,xvdc,rw" --cmdline "console=hvc0 quiet guest.scenario=blk"
    local rc1=$RIG_RC ms1=$RIG_ELAPSED_MS log=$d/boot1.log log2=$d/boot2.log
    left=$(_daemons_gone)
    yes xenkvm-blk-pattern | head -c 65536 > "$d/pat"
    _bytes "$d/raw.img" 256 16 4096 > "$d/back"
    local abi; abi=$(grep -m1 GUEST-EVTCHN "$log" | cut -d' ' -f2-)
    if grep -q GUEST-BLK-READBACK-OK "$log" && cmp -s "$d/pat" "$d/back" && [ -z "$left" ] &&
       [ "$abi" = "Using FIFO-based ABI" ]; then
        rig_result "$n" PASS "blkfront wrote, flushed and read back; the data is in the $fmt image; events: $abi"
    else
        rig_result "$n" FAIL "xenkvm exit $rc1; events '$abi'; $(grep 'GUEST-BLK' "$log" | tr '\n' ' '); storage daemons left '$left'; last: $(_last "$log")"
    fi
    if grep -q "GUEST-BLK-RO 1" "$log" && grep -q GUEST-BLK-RO-WRITE-REFUSED "$log" &&
       [ "$(_bytes "$d/ro.img" 0 8 1048576 | tr -d '\000' | wc -c)" = 0 ]; then
        rig_result "$n-ro" PASS "xvdb read-only in the guest, its write refused, the $fmt image untouched"
    else
        rig_result "$n-ro" FAIL "$(grep 'GUEST-BLK-RO' "$log" | tr '\n' ' ')"
    fi
    local sum1
    sum1=$(sed -n 's/.*GUEST-FS-WRITTEN \([0-9a-f]*\).*/\1/p' "$log" | head -1)

    RIG_KILL_ON=GUEST-FLUSHED rig_run_guest "$log2" "$t" GUEST-INIT-MARKER \
        xenkvm run $(rig_xenkvm_v) --name "$n-2" --kernel /guest/vmlinuz --ramdisk /guest/initrd.gz \
        --memory 256 --vcpus 1 --disk "$d/fs.img,$fmt,xvda,rw" --disk "$d/raw.img,$fmt,xvdc,rw" \
        --cmdline "console=hvc0 quiet guest.scenario=blk-check"
    local fsck read2
    fsck=$(grep -m1 GUEST-FSCK "$log2")
    read2=$(grep -m1 GUEST-FS-READ "$log2")
    if [ -n "$sum1" ] && [ "${fsck#*GUEST-FSCK }" != "$fsck" ] && [ "$(echo "$fsck" | awk '{print $2}')" = 0 ] &&
       [ "$(echo "$read2" | awk '{print $2}')" = "$sum1" ] && [ "$(echo "$read2" | awk '{print $4}')" = "$sum1" ]; then
        rig_result "$n-fs" PASS "ext4 made, 4 MiB written and synced, rebooted; boot 2: e2fsck -fn clean, sha256 ${sum1%"${sum1#????????????}"}... equal; mount said: $(grep -m1 GUEST-FS-MOUNTED "$log2" | cut -d' ' -f2- | cut -c1-200)"
    else
        rig_result "$n-fs" FAIL "boot 1: '$(grep -E 'GUEST-FS' "$log" | tr '\n' ' ')'; boot 2: '$fsck' '$read2' $(grep -E 'GUEST-FS-MOUNT-FAILED|GUEST-BLK-NODEV' "$log2")"
    fi
    if [ "$rc1" = 3 ] && grep -q GUEST-REBOOT "$log" && [ -n "$sum1" ]; then
        rig_result "$n-reboot" PASS "boot 1 synced, rebooted: exit 3 after ${ms1} ms; boot 2 on the same image"
    else
        rig_result "$n-reboot" FAIL "boot 1: xenkvm exit $rc1, want 3; last: $(_last "$log")"
    fi
    left=$(pidof xenkvm; _daemons_gone)
    yes xenkvm-flushed-before-sigkill | head -c 262144 > "$d/pat2"
    _bytes "$d/raw.img" 64 4 65536 > "$d/back2"
    if [ "$RIG_RC" = 137 ] && [ -n "$RIG_KILLED_MS" ] && grep -q GUEST-FLUSHED "$log2" && [ -z "$left" ] &&
       cmp -s "$d/pat2" "$d/back2"; then
        rig_result "$n-sigkill" PASS "xenkvm SIGKILLed at the guest's GUEST-FLUSHED (${RIG_KILLED_MS} ms); the 256 KiB written with O_DIRECT+fsync are in the $fmt image"
    else
        rig_result "$n-sigkill" FAIL "exit $RIG_RC (want 137), killed at '${RIG_KILLED_MS}' ms, $(grep -E 'GUEST-FLUSH' "$log2" | tr '\n' ' ') left running '$left', data $(cmp -s "$d/pat2" "$d/back2" && echo found || echo MISSING); last: $(_last "$log2")"
    fi
}
