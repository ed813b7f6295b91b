"""What a save, a restore and a migration carry about the vCPUs beyond their
registers (docs/save-restore.md, the VCPU_SCHED record): a vCPU the guest took
down with VCPUOP_down stays down, and each vCPU's hard and soft affinity set
by vcpu-pin comes along, as on Xen. The xtest "saverestore down" guest (two
vCPUs) brings vCPU 1 up, takes it down before it says ready, and after the
test's "go" checks that vCPU 1 is still down (VCPUOP_is_up 0, not running)
and runs on after VCPUOP_up. A file without the record (an older xenkvm's)
still restores; a record that would leave no vCPU running is refused."""
import os
import struct
import zlib

import pytest
from test_migrate import local_ssh
from test_save_restore import go, passes, records, start
from test_toolstack import Toolstack, wait_for

VCPU_SCHED, END = 11, 0x454E4421


@pytest.fixture
def ts(build, need_kvm):
    t = Toolstack()
    yield t
    t.close()


def vcpus(ts, name):
    """Per vCPU: (id, online or not, hard affinity, soft affinity) from vcpu-list."""
    rows = [l.split() for l in ts.xk("vcpu-list", name).stdout.splitlines()[1:]]
    return [(r[2], r[4] == "--p" or "offline" in r[4], r[-3], r[-1]) for r in rows]


def test_down_vcpu_and_affinity_survive_save_restore_and_migration(ts):
    last = str(os.cpu_count() - 1)
    ts.create("sv", "saverestore down", vcpus=2)
    assert wait_for(lambda: "sr: ready" in ts.console_log("sv")), ts.console_log("sv")
    ts.xk("vcpu-pin", "sv", "0", last)                 # hard affinity of vCPU 0
    ts.xk("vcpu-pin", "sv", "1", "all", "0")           # soft affinity of vCPU 1
    before = vcpus(ts, "sv")
    assert before[0][2] == last and before[1][3] == "0", before
    assert before[1][1] != before[0][1], before        # vCPU 1 is down, vCPU 0 is not

    path = os.path.join(ts.dir, "sv.save")
    ts.xk("save", "sv", path)
    assert any(t == VCPU_SCHED for _, t, _ in records(open(path, "rb").read()))
    ts.xk("restore", path)
    assert vcpus(ts, "sv") == before
    r = ts.xk("migrate", "-s", local_ssh(ts), "sv", "somehost", timeout=120)
    assert "Migration successful." in r.stderr, r.stderr
    assert vcpus(ts, "sv") == before

    # The guest's own view: vCPU 1 still down, not running, and up again
    # (the destination's console log is named as the domain was created).
    go(ts, "sv")
    assert wait_for(lambda: passes(ts, "sv--incoming") == 1), ts.console_log("sv--incoming")
    log = ts.console_log("sv--incoming")
    assert "FAIL" not in log and "vCPU 1 stays down" in log, log


def without_vcpu_sched(data):
    """The file as a xenkvm before the VCPU_SCHED record wrote it."""
    out, n = bytearray(data[:64]), 0
    for off, t, ln in records(data):
        if t == VCPU_SCHED:
            continue
        if t == END:
            payload = struct.pack("<Q", n)
            out += struct.pack("<IIQ", END, zlib.crc32(payload), 8) + payload
            break
        out += data[off:off + 16 + ln]
        n += 1
    return bytes(out)


def with_down_mask(data, mask):
    b = bytearray(data)
    off, _, ln = next(r for r in records(data) if r[1] == VCPU_SCHED)
    struct.pack_into("<Q", b, off + 16 + 8, mask)
    struct.pack_into("<I", b, off + 4, zlib.crc32(bytes(b[off + 16:off + 16 + ln])))
    return bytes(b)


def test_old_files_restore_and_a_bad_record_is_refused(ts):
    start(ts, "sr", "saverestore")
    good = os.path.join(ts.dir, "good.save")
    ts.xk("save", "sr", good)
    data = open(good, "rb").read()
    bad = os.path.join(ts.dir, "bad.save")
    with open(bad, "wb") as f:
        f.write(with_down_mask(data, 1))              # the only vCPU down
    r = ts.xk("restore", bad, ok=False)
    assert bad in r.stderr and "corrupt: vCPUs 0x1 down of 0x1 up" in r.stderr, r.stderr
    assert "sr" not in ts.domains()
    old = os.path.join(ts.dir, "old.save")
    with open(old, "wb") as f:
        f.write(without_vcpu_sched(data))
    ts.xk("restore", old)
    go(ts)
    assert wait_for(lambda: passes(ts) == 1), ts.console_log("sr")
