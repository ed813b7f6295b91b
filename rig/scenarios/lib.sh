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
