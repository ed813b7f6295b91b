"""xenkvm migrate / migrate-receive (docs/save-restore.md, "Live migration")
end to end on this host's KVM with the xtest "saverestore" guest, whose
periodic timer keeps printing ticks and which checks its own state (timer,
event channels, grant, xenstore node and watch) once data/sr-go is written.
SSHCMD is a wrapper that ignores HOST and runs the rest here, as xl's -s
allows, so no sshd is needed; the destination is this host's daemon, so the
guest gets a new domain id. Faults: a receiver that dies mid-stream, and a
destination that refuses the guest, each leave the source running."""
import os
import re
import stat
import subprocess
import time

import pytest
from test_save_restore import go, passes, start, ticks_after
from test_toolstack import XENKVM, Toolstack, wait_for


@pytest.fixture
def ts(build, need_kvm):
    t = Toolstack()
    yield t
    t.close()


def wrapper(ts, name, body):
    """An SSHCMD: called as WRAPPER HOST xenkvm migrate-receive [OPTS]."""
    path = os.path.join(ts.dir, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\nshift\n" + body + "\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


def local_ssh(ts):
    # "xenkvm" on the far side is this build's binary.
    return wrapper(ts, "fake-ssh", f'shift\nexec {XENKVM} "$@"')


def rounds(stderr):
    return [(int(n), int(p)) for n, p in
            re.findall(r"migration sender: round (\d+)[^:]*: (\d+) pages", stderr)]


def runs_on_at_the_source(a, old):
    """After a failed migration: the same domain ticks on and its checks pass."""
    assert a.domains()["sr"][0] == old
    mark = len(a.console_log("sr"))
    assert wait_for(lambda: ticks_after(a, "sr", mark) >= 2), a.console_log("sr")
    go(a)
    assert wait_for(lambda: passes(a) == 1), a.console_log("sr")
    assert "FAIL" not in a.console_log("sr")


@pytest.mark.parametrize("abi", ["2level", "fifo"])
def test_live_migration_carries_the_running_guest(ts, abi):
    old = start(ts, program="saverestore" + (" fifo" if abi == "fifo" else ""))
    assert wait_for(lambda: ticks_after(ts, "sr", 0) >= 3)
    r = ts.xk("migrate", "-s", local_ssh(ts), "--debug", "sr", "somehost", timeout=120)
    err = r.stderr
    for line in ("migration target: Ready to receive domain.",
                 "migration sender: Target has acknowledged transfer.",
                 "migration sender: Giving target permission to start.",
                 "migration target: Domain started successfully.",
                 "migration sender: Target reports successful startup.",
                 "Migration successful."):
        assert line in err, err
    # Pre-copy: the whole memory while the guest ran, then rounds of the
    # frames it dirtied meanwhile, then the stop-and-copy.
    rs = rounds(err)
    assert len(rs) >= 3 and rs[0][1] > 0, err
    # The dirty log found what the guest wrote after round 1 (with never-written
    # frames skipped round 1 takes a few ms, so the pages may all come in the
    # stop-and-copy).
    assert sum(p for _, p in rs[1:]) > 0, err
    assert "(stop-and-copy)" in err and "stopped for" in err
    # The stop's parts (--debug), inside the time the domain was stopped.
    m = re.search(r"stopped for the last (\d+) ms.*\n.*the stop: vCPUs parked ([\d.]+) ms, "
                  r"xenstore ([\d.]+) ms, devices drained ([\d.]+) ms, last pages ([\d.]+) ms, "
                  r"state records ([\d.]+) ms", err)
    assert m, err
    assert sum(float(x) for x in m.groups()[1:]) <= int(m.group(1)) + 1, m.group(0)
    doms = ts.domains()
    assert "sr--migratedaway" not in doms and wait_for(lambda: "sr--migratedaway" not in ts.domains())
    new = doms["sr"][0]
    assert new != old                                       # its own domain id there
    log = "sr--incoming"    # the destination's console log is named as it was created
    assert wait_for(lambda: ticks_after(ts, log, 0) >= 2), ts.console_log(log)
    go(ts)
    assert wait_for(lambda: passes(ts, log) == 1), ts.console_log(log)
    out = ts.console_log(log)
    assert f"domid {old} -> {new}" in out and "FAIL" not in out, out
    # Time went on: ticks and Xen system time agree (no jump, never back).
    m = re.search(r"go after (\d+) ticks, (\d+) ms of system time", out)
    assert abs(int(m.group(1)) * 100 - int(m.group(2))) < 1500, m.group(0)
    print(err)


def test_receiver_dying_mid_stream_leaves_the_source_running(ts):
    old = start(ts)
    banner = "xenkvm migration receiver ready, send binary domain data."
    dies = wrapper(ts, "dies", f"printf '{banner}\\n'; head -c 4096 >/dev/null; exit 1")
    r = ts.xk("migrate", "-s", dies, "sr", "somehost", ok=False, timeout=120)
    assert "Migration failed, resuming at sender." in r.stderr, r.stderr
    runs_on_at_the_source(ts, old)


CUT_FILTER = r"""
import os, struct, sys, time
# The sender's stream, passed on up to the middle of the second RAM record:
# the destination's domain process has loaded the first one by then.
i, o = sys.stdin.buffer, sys.stdout.buffer
def put(b):
    o.write(b)
    o.flush()
put(i.read(64))
ram = 0
while True:
    head = i.read(16)
    kind, _, n = struct.unpack("<IIQ", head)
    body = i.read(n)
    ram += kind == 7
    if ram == 2 or (ram and kind not in (1, 7)):   # (the stop-and-copy's records)
        put(head + body[:len(body) // 2])
        time.sleep(0.5)
        os.close(1)
        sys.exit(0)
    time.sleep(0.5 if kind == 7 else 0)
    put(head + body)
"""


def test_stream_cut_in_the_ram_rounds_leaves_nothing_at_the_destination(ts):
    """The connection to the receiver drops in the middle of a RAM record:
    the destination's domain process, restoring while the stream arrives,
    finds the stream truncated; the registry forgets it, and the source runs."""
    old = start(ts)
    filt = os.path.join(ts.dir, "cut.py")
    with open(filt, "w") as f:
        f.write(CUT_FILTER)
    cut = wrapper(ts, "cut", f'shift\n/usr/bin/python3 {filt} | {XENKVM} "$@"')
    r = ts.xk("migrate", "-s", cut, "--debug", "sr", "somehost", ok=False, timeout=120)
    assert "truncated" in r.stderr, r.stderr
    assert "migration target: Domain creation failed." in r.stderr, r.stderr
    assert "Migration failed, resuming at sender." in r.stderr, r.stderr
    doms = ts.domains()
    assert doms["sr"][0] == old and "sr--incoming" not in doms, doms
    assert not [f for f in os.listdir(ts.run_dir) if f.startswith("migrate-in-")]
    runs_on_at_the_source(ts, old)


STALL_FILTER = r"""
import os, struct, sys, time
# The sender's stream, held after the first RAM record until the test says go.
i, o = sys.stdin.buffer, sys.stdout.buffer
d = os.path.dirname(os.path.abspath(__file__))
def put(b):
    o.write(b)
    o.flush()
put(i.read(64))
held = False
while True:
    head = i.read(16)
    if len(head) < 16:
        break
    kind, _, n = struct.unpack("<IIQ", head)
    put(head + i.read(n))
    if kind == 0x454e4421:      # END: then xl's handshake, passed on as it comes
        while True:
            b = i.read1(4096)
            if not b:
                break
            put(b)
        break
    if kind == 7 and not held:
        held = True
        open(os.path.join(d, "stalled"), "w").close()
        for _ in range(600):
            if os.path.exists(os.path.join(d, "release")):
                break
            time.sleep(0.1)
"""


def held_migration(ts):
    """`migrate sr` through a filter that holds the stream after its first RAM
    record until held_release(ts): the migrate process, once the hold began."""
    filt = os.path.join(ts.dir, "stall.py")
    with open(filt, "w") as f:
        f.write(STALL_FILTER)
    stall = wrapper(ts, "stall", f'shift\n/usr/bin/python3 {filt} | {XENKVM} "$@"')
    mig = subprocess.Popen([str(XENKVM), "migrate", "-s", stall, "sr", "somehost"], env=ts.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait_for(lambda: os.path.exists(os.path.join(ts.dir, "stalled")), 60):
        held_release(ts, mig)
        pytest.fail("the stream was never held")
    return mig


def held_release(ts, mig):
    """Lets the held stream go on: the migrate process's stderr."""
    open(os.path.join(ts.dir, "release"), "w").close()
    return mig.communicate(timeout=120)[1]


def test_destination_daemon_answers_while_the_stream_arrives(ts):
    """The destination's create waits for the whole pre-copy; meanwhile its
    xenkvmd serves other requests: the incoming domain is listed, paused,
    other domains can be created and destroyed, and requests on the
    incoming one are refused as still starting."""
    old = start(ts)
    mig = held_migration(ts)
    try:
        t0 = time.monotonic()
        doms = ts.domains()
        took = time.monotonic() - t0
        assert doms["sr"][0] == old and doms["sr--incoming"][1] == "--p---", doms
        r = ts.xk("pause", "sr--incoming", ok=False)
        assert "still starting" in r.stderr, r.stderr
        ts.xk("create", ts.cfg("other", "idle"))
        assert "other" in ts.domains()
        ts.xk("destroy", "other")
        assert "other" not in ts.domains() and "sr--incoming" in ts.domains()
        print(f"list answered in {took * 1000:.0f} ms while the stream was held")
    finally:
        err = held_release(ts, mig)
    assert mig.returncode == 0 and "Migration successful." in err, err
    doms = ts.domains()
    assert "sr--incoming" not in doms and doms["sr"][0] != old, doms
    go(ts)
    assert wait_for(lambda: passes(ts, "sr--incoming") == 1), ts.console_log("sr--incoming")


def test_destroying_the_incoming_domain_fails_the_migration(ts):
    """xl destroy of the half-received domain: the destination's create ends
    with an error, and the source runs on."""
    old = start(ts)
    mig = held_migration(ts)
    try:
        ts.xk("destroy", "sr--incoming")
        assert "sr--incoming" not in ts.domains()
    finally:
        err = held_release(ts, mig)
    assert mig.returncode != 0 and "Migration failed, resuming at sender." in err, err
    assert "destroyed while it started" in err, err
    runs_on_at_the_source(ts, old)


def test_destination_refusing_leaves_the_source_running(ts):
    old = start(ts)
    # Another memory size: the destination's restore refuses the guest.
    other = ts.cfg("other", "saverestore", memory=64)
    r = ts.xk("migrate", "-s", local_ssh(ts), "-C", other, "sr", "somehost", ok=False,
              timeout=120)
    assert "the config gives 64 MiB" in r.stderr or "64 MiB" in r.stderr, r.stderr
    assert "Migration failed, resuming at sender." in r.stderr, r.stderr
    doms = ts.domains()
    assert doms["sr"][0] == old and "other--incoming" not in doms and "sr--incoming" not in doms
    mark = len(ts.console_log("sr"))
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 2), ts.console_log("sr")
    assert not [f for f in os.listdir(ts.run_dir) if f.startswith("migrate-in-")]


def test_no_receiver_banner(ts):
    old = start(ts)
    r = ts.xk("migrate", "-s", wrapper(ts, "nothing", "echo hello; exit 3"), "sr", "h",
              ok=False)
    assert "migration receiver stream contained unexpected data instead of banner" in r.stderr \
        or "unexpected end of stream" in r.stderr, r.stderr
    assert ts.domains()["sr"][0] == old


def test_migrate_killed_before_go_leaves_the_source_running(ts):
    """The stream goes all the way, the receiver never answers, and the
    `migrate` command is killed while the source waits stopped: the domain
    process sees its connection close and resumes."""
    old = start(ts)
    banner = "xenkvm migration receiver ready, send binary domain data."
    silent = wrapper(ts, "silent", f"printf '{banner}\\n'; exec cat >/dev/null")
    p = subprocess.Popen([str(XENKVM), "migrate", "-s", silent, "sr", "h"], env=ts.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        # Stopped for the stop-and-copy: no more ticks (one every 100 ms)
        # while it waits for the receiver.
        def stopped():
            mark = len(ts.console_log("sr"))
            time.sleep(0.5)
            return ticks_after(ts, "sr", mark) == 0
        assert wait_for(stopped, 30), ts.console_log("sr")[-300:]
    finally:
        p.kill()
        p.wait()
    mark = len(ts.console_log("sr"))
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 2), ts.console_log("sr")
    assert ts.domains()["sr"][0] == old and ts.domains()["sr"][1][2] != "p"
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")
    assert "FAIL" not in ts.console_log("sr")


def test_help_lists_migrate(ts):
    out = ts.xk("help").stdout
    assert re.search(r"^  migrate +move a running domain", out, re.M), out
    assert re.search(r"^  migrate-receive +the other end", out, re.M), out
    r = ts.xk("migrate", "-h")
    assert "usage: xenkvm migrate [-s SSHCMD] [-C CONFIG] [-e] [-p] [--debug] [--live] " \
        "DOMAIN HOST" in r.stdout + r.stderr
