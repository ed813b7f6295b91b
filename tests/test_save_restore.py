"""xenkvm save / restore (docs/save-restore.md) end to end with the xtest
"saverestore" guest on this host's KVM: the guest sets up a periodic timer,
a pending-but-masked event channel, a grant entry, a node and a watch in its
xenstore subtree, and checks them all itself once the test writes
data/sr-go = "go" (after a save and restore, a checkpoint, a paused save).
Then bad save files: each refused with the file and the fault named, and no
domain created; and a save that fails leaves the domain running. And
dump-core: an ELF core that Debian's gdb reads (stack, variables, memory)."""
import os
import re
import struct
import subprocess
import zlib

import pytest
from test_toolstack import XTEST, Toolstack, wait_for


@pytest.fixture
def ts(build, need_kvm):
    t = Toolstack()
    yield t
    t.close()


def start(ts, name="sr", program="saverestore"):
    ts.create(name, program)
    assert wait_for(lambda: "sr: ready" in ts.console_log(name)), ts.console_log(name)
    return ts.domains()[name][0]


def go(ts, name="sr"):
    domid = ts.domains()[name][0]
    r = subprocess.run(["xenstore-write", f"/local/domain/{domid}/data/sr-go", "go"],
                       env=ts.env, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr


def passes(ts, name="sr"):
    return len(re.findall(r"^RESULT PASS", ts.console_log(name), re.M))


def ticks_after(ts, name, mark):
    """sr: tick lines printed after the first `mark` characters of the log."""
    return len(re.findall(r"sr: tick \d+", ts.console_log(name)[mark:]))


@pytest.mark.parametrize("abi", ["2level", "fifo"])
def test_save_and_restore_carry_the_guest(ts, abi):
    old = start(ts, program="saverestore" + (" fifo" if abi == "fifo" else ""))
    path = os.path.join(ts.dir, "sr.save")
    r = ts.xk("save", "sr", path)
    assert f"Saving to {path} new xl format" in r.stderr
    assert "sr" not in ts.domains()                     # saved: the domain is gone
    assert os.path.getsize(path) > 0
    assert os.stat(path).st_mode & 0o777 == 0o600       # it holds the guest's memory
    assert not [f for f in os.listdir(ts.dir) if ".tmp." in f]
    assert "saved to" in ts.daemon_log() and "restart" not in ts.daemon_log()
    mark = len(ts.console_log("sr"))
    r = ts.xk("restore", path)
    assert "Loading new save file" in r.stderr
    new, state = ts.domains()["sr"]
    assert new != old                                    # a new domain id, as on Xen
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1), ts.console_log("sr")
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")
    log = ts.console_log("sr")
    assert f"domid {old} -> {new}" in log and "FAIL" not in log, log
    # Xen time went on from the save: the ticks and the system time agree
    # (no jump over the time the guest spent in the file).
    m = re.search(r"go after (\d+) ticks, (\d+) ms of system time", log)
    assert abs(int(m.group(1)) * 100 - int(m.group(2))) < 1500, m.group(0)
    assert wait_for(lambda: "sr" not in ts.domains())   # it powered off


def test_checkpoint_keeps_the_domain_and_restores_a_copy(ts):
    start(ts)
    path = os.path.join(ts.dir, "sr.save")
    r = ts.xk("save", "-c", "sr", path)
    assert "still running" in r.stderr
    assert ts.domains()["sr"][1][2] != "p"
    mark = len(ts.console_log("sr"))
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1)    # it runs on
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")
    # The guest did not see the time its checkpoint took (as QEMU stops
    # kvmclock while a VM is stopped): ticks and system time agree.
    m = re.search(r"go after (\d+) ticks, (\d+) ms of system time", ts.console_log("sr"))
    assert abs(int(m.group(1)) * 100 - int(m.group(2))) < 1500, m.group(0)
    assert wait_for(lambda: "sr" not in ts.domains())
    # The copy starts from the checkpoint: before "go" was written.
    ts.xk("restore", path)
    mark = len(ts.console_log("sr"))
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1), ts.console_log("sr")
    go(ts)
    assert wait_for(lambda: passes(ts) == 2), ts.console_log("sr")
    assert "FAIL" not in ts.console_log("sr")


def test_paused_save_and_paused_restore(ts):
    start(ts)
    path = os.path.join(ts.dir, "sr.save")
    r = ts.xk("save", "-c", "-p", "sr", path)
    assert "left paused" in r.stderr
    assert ts.domains()["sr"][1][2] == "p"
    mark = len(ts.console_log("sr"))
    assert not wait_for(lambda: ticks_after(ts, "sr", mark) >= 1, 1.5)
    ts.xk("unpause", "sr")
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1)
    ts.xk("destroy", "sr")
    r = ts.xk("restore", "-p", path)
    assert ts.domains()["sr"][1][2] == "p"
    mark = len(ts.console_log("sr"))
    assert not wait_for(lambda: ticks_after(ts, "sr", mark) >= 1, 1.5)
    ts.xk("unpause", "sr")
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")
    assert "FAIL" not in ts.console_log("sr")


def test_failed_save_leaves_the_domain_running(ts):
    start(ts)
    r = ts.xk("save", "sr", "/proc/sr.save", ok=False)      # nowhere to write
    assert "/proc/sr.save" in r.stderr, r.stderr
    assert ts.domains()["sr"][1][2] != "p"
    mark = len(ts.console_log("sr"))
    assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1)
    # After the refusal the same domain saves fine and comes back whole.
    path = os.path.join(ts.dir, "sr.save")
    ts.xk("save", "sr", path)
    ts.xk("restore", path)
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")


def rewrite_header(data, **fields):
    offs = {"version": 8, "arch": 12}
    b = bytearray(data)
    for k, v in fields.items():
        struct.pack_into("<I", b, offs[k], v)
    struct.pack_into("<I", b, 60, zlib.crc32(bytes(b[:60])))
    return bytes(b)


def records(data):
    """(offset, type, length) of each record."""
    out, off = [], 64
    while off + 16 <= len(data):
        t, _, n = struct.unpack_from("<IIQ", data, off)
        out.append((off, t, n))
        off += 16 + n
    return out


def test_bad_save_files_are_refused_cleanly(ts):
    start(ts)
    good = os.path.join(ts.dir, "good.save")
    ts.xk("save", "sr", good)
    data = open(good, "rb").read()
    ram = next(r for r in records(data) if r[1] == 7)
    flipped = bytearray(data)
    flipped[ram[0] + 16 + ram[2] // 2] ^= 0x40
    cases = {
        "empty": (b"", "not a xenkvm save file"),
        "text": (b"hello, world\n" * 10, "not a xenkvm save file"),
        "header": (data[:40], "truncated: the header"),
        "half": (data[:len(data) // 2], "truncated"),
        "noend": (data[:records(data)[-1][0]], "before the end record"),
        "flipped": (bytes(flipped), "checksum mismatch in the RAM record"),
        "version": (rewrite_header(data, version=99), "format version 99; this xenkvm reads version 1"),
        "arch": (rewrite_header(data, arch=2), "not x86-64"),
        "hdrcrc": (data[:61] + bytes([data[61] ^ 1]) + data[62:], "header's checksum"),
        "extra": (data + b"x", "data after the end record"),
    }
    for name, (content, why) in cases.items():
        path = os.path.join(ts.dir, f"{name}.save")
        with open(path, "wb") as f:
            f.write(content)
        r = ts.xk("restore", path, ok=False)
        assert path in r.stderr and why in r.stderr, (name, r.stderr)
        assert "sr" not in ts.domains(), name
    r = ts.xk("restore", os.path.join(ts.dir, "missing.save"), ok=False)
    assert "missing.save: No such file or directory" in r.stderr
    # A config that is not the saved guest's: refused by the domain process.
    other = ts.cfg("sr", "saverestore", memory=64)
    r = ts.xk("restore", good, other, ok=False)
    assert "saved with 32 MiB of memory; the config gives 64 MiB" in r.stderr, r.stderr
    assert "sr" not in ts.domains()
    # The good file still restores.
    ts.xk("restore", good)
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")


def test_dump_core_is_read_by_gdb(ts):
    start(ts)
    assert wait_for(lambda: ticks_after(ts, "sr", 0) >= 1)   # a tick counted before the dump
    core = os.path.join(ts.dir, "sr.core")
    # The vCPU may be caught in the test guest's upcall entry, hand-written assembly
    # with no unwind information, where gdb's backtrace stops short (seen once in
    # about 50 runs): then the domain is dumped again, at most three times in all.
    for attempt in range(3):
        ts.xk("dump-core", "sr", core)
        assert ts.domains()["sr"][1][2] != "p"           # it runs on
        mark = len(ts.console_log("sr"))
        assert wait_for(lambda: ticks_after(ts, "sr", mark) >= 1)
        r = subprocess.run(["gdb", "-batch", "-nx", "-q", str(XTEST), core,
                            "-ex", "bt", "-ex", "print ticks", "-ex", "x/s cmdline",
                            "-ex", "info registers rip"],
                           capture_output=True, text=True, timeout=60)
        out = r.stdout + r.stderr
        if "prog_saverestore" in out and "xtest_main" in out:
            break
        print(f"dump {attempt + 1}: backtrace not whole, dumping again:\n{out}")
    assert "prog_saverestore" in out and "xtest_main" in out, out      # a whole stack
    m = re.search(r"\$1 = (\d+)", out)
    assert m and int(m.group(1)) > 0, out                                # ticks counted
    assert '"saverestore"' in out, out                                  # memory read
    r = ts.xk("dump-core", "sr", "/proc/sr.core", ok=False)
    assert "/proc/sr.core" in r.stderr
    assert not [f for f in os.listdir(ts.dir) if ".tmp." in f]


@pytest.mark.parametrize("action", ["coredump-destroy", "coredump-restart"])
def test_on_crash_coredump_writes_the_core_first(ts, action):
    """on_crash = coredump-destroy / coredump-restart: as xl (to XEN_DUMP_DIR/NAME),
    the crashed guest's core goes to STATEDIR/dump/NAME before the action; gdb
    reads the crashing vCPU's stack and the guest's memory from it."""
    ts.create("cd", "shutdown crash", on_crash=action)
    core = os.path.join(ts.env["XENKVM_STATEDIR"], "dump", "cd")
    if action == "coredump-destroy":
        assert wait_for(lambda: "cd" not in ts.domains(), 20), ts.daemon_log()
    else:
        assert wait_for(lambda: "restarted as domain" in ts.daemon_log(), 20), ts.daemon_log()
        ts.xk("destroy", "cd")
    assert os.path.exists(core), ts.daemon_log()
    assert f"dumping core to {core}" in ts.daemon_log()
    assert oct(os.stat(core).st_mode & 0o777) == "0o600"
    r = subprocess.run(["gdb", "-batch", "-nx", "-q", str(XTEST), core,
                        "-ex", "bt", "-ex", "x/s cmdline"],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert "prog_shutdown" in out, out                 # the crashing vCPU's stack
    assert '"shutdown crash"' in out, out              # the guest's memory
