"""The domain process confined (issue 16, part 5; src/vmm/confine.h): once set
up it runs under a seccomp filter with only CAP_NET_ADMIN, CAP_DAC_OVERRIDE
and CAP_DAC_READ_SEARCH left, and every feature still works under it: disks
raw and qcow2 (a qemu-storage-daemon started through the spawn helper, also
for a disk hot-plugged after confinement), NICs, the console, xenstore,
attach/detach, pause. The unit test tests/unit/vmm/test_confine.c shows the
calls it is refused. And the toolstack's sockets are root's only: a user
other than root reaches none of them."""
import os
import re
import shutil
import subprocess

import pytest

from test_toolstack import XENKVM, alive, wait_for, ts  # noqa: F401  (ts: the fixture)
from test_toolstack_devices import bridge, link  # noqa: F401  (bridge: the fixture)

KEEP = (1 << 12) | (1 << 1) | (1 << 2)      # CAP_NET_ADMIN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH


def status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    st = f.read()
            except OSError:
                continue
            if int(st.split(")")[-1].split()[1]) == pid:
                out.append((int(p), st[st.index("(") + 1:st.rindex(")")]))
    return out


def image(ts, name, fmt):
    p = os.path.join(ts.dir, f"{name}.{fmt}")
    if fmt == "raw":
        with open(p, "wb") as f:
            f.truncate(8 << 20)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, p, "8M"], check=True)
    return p


def test_every_feature_under_the_filter(ts, need_kvm, bridge):
    if not shutil.which("qemu-storage-daemon"):
        pytest.skip("qemu-storage-daemon missing (apt-get install qemu-system-common): SKIPPED")
    q1, q2, raw = image(ts, "q1", "qcow2"), image(ts, "q2", "qcow2"), image(ts, "r", "raw")
    ts.create("c1", "idle", disk=[f"{q1},qcow2,xvda,rw"], vif=[f"bridge={bridge}"])
    (d,) = ts.info()
    domid, pid = d["domid"], d["xenkvm"]["pid"]
    st = status(pid)
    assert st["Seccomp"] == "2" and st["NoNewPrivs"] == "1", st
    assert int(st["CapEff"], 16) == KEEP and int(st["CapPrm"], 16) == KEEP, st
    assert int(st["CapBnd"], 16) == KEEP and int(st["CapInh"], 16) == 0, st
    # the spawn helper: the domain process's child, unconfined, parent of the
    # storage daemons
    (helper,) = [p for p, name in children(pid) if name == "xenkvm-spawner"]
    assert status(helper)["Seccomp"] == "0"
    assert [n for _, n in children(helper)] == ["qemu-storage-da"]
    # hot-plug after confinement: another image (a second storage daemon), a
    # raw file, a NIC
    ts.xk("block-attach", "c1", f"{q2},qcow2,xvdb,rw")
    ts.xk("block-attach", "c1", f"{raw},raw,xvdc,ro")
    assert sorted(n for _, n in children(helper)) == ["qemu-storage-da", "qemu-storage-da"]
    ts.xk("network-attach", "c1", f"bridge={bridge}")
    assert link(f"vif{domid}.1")["master"] == bridge
    rows = ts.xk("block-list", "c1").stdout.splitlines()[1:]
    assert [r.split()[0] for r in rows] == ["51712", "51728", "51744"], rows
    for node in ("51728", "51744"):
        assert ts.xs_read(f"/local/domain/0/backend/vbd/{domid}/{node}/state") == "2"
    # console, pause, xenstore, the devices' counters
    assert wait_for(lambda: ts.ticks("c1") >= 2, 15)
    ts.xk("pause", "c1")
    assert ts.domains()["c1"][1] == "--p---"
    ts.xk("unpause", "c1")
    assert ts.xs_read(f"/local/domain/{domid}/name") == "c1"
    assert "c1" in ts.xk("top", "-b", "-d", "0.2").stdout
    # unplug: the storage daemon goes, the tap goes
    ts.xk("block-detach", "c1", "xvdb")
    ts.xk("block-detach", "c1", "xvdc")
    assert wait_for(lambda: len(children(helper)) == 1, 10)
    ts.xk("network-detach", "c1", "1")
    assert wait_for(lambda: link(f"vif{domid}.1") is None, 5)
    # the process is still confined, and ends cleanly
    assert status(pid)["Seccomp"] == "2"
    ts.xk("shutdown", "-w", "c1", timeout=60)
    assert wait_for(lambda: not alive(pid) and not alive(helper), 10)
    assert "Sanitizer" not in ts.daemon_log()
    assert not re.search(r"seccomp|Operation not permitted", ts.daemon_log()), ts.daemon_log()


def test_sockets_are_roots_only(ts, need_kvm):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("not root, or no setpriv (util-linux): the non-root check is SKIPPED")
    ts.create("u1", "idle")
    domid = ts.domains()["u1"][0]
    socks = [os.path.join(ts.run_dir, n) for n in
             ("xenstored.sock", "xenkvmd.sock", f"dom-{domid}.sock")]
    for s in socks:
        assert os.stat(s).st_mode & 0o077 == 0, s
    # As nobody: no socket can be reached (the directory is root's too).
    probe = ("import socket, sys\n"
             "for p in sys.argv[1:]:\n"
             "    s = socket.socket(socket.AF_UNIX)\n"
             "    try:\n"
             "        s.connect(p); print('CONNECTED', p)\n"
             "    except OSError as e:\n"
             "        print(type(e).__name__, p)\n")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    r = subprocess.run(nobody + ["/usr/bin/python3", "-c", probe, *socks], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [w for s in socks for w in ("PermissionError", s)], r.stdout
    # The CLI as nobody: refused with a clear message, and no second daemon.
    r = subprocess.run(nobody + [str(XENKVM), "list"], env=ts.env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0 and "needs root" in r.stderr, r.stdout + r.stderr
    assert len(ts.daemon_pids()) == 1
    ts.xk("destroy", "u1")
