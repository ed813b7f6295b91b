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
# reported (how its VMM ended). Sets RIG_NET_RX_BYTES/MS and RIG_NET_TX_BYTES/MS.
rig_net_results() { # NAME LOG MAC MB WHY
    local n=$1 log=$2 mac=$3 mb=$4 why=$5 link ping got have
    link=$(grep -m1 -o 'GUEST-NET-LINK.*' "$log" | tr -d '\r')
    if echo "$link" | grep -q "carrier 1 mac $mac"; then
        rig_result "$n"-link PASS "$link"
    else
        rig_result "$n"-link FAIL "'$link' $(grep -m1 GUEST-NET-NODEV "$log"); $why"
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
