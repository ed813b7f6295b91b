"""Save, restore, checkpoint and live migration of a domain with a disk while
its frontend writes (docs/save-restore.md, "Devices"). xtest's "blk loop"
(guest/prog_blk.c) keeps 4 writes in flight on a raw disk, checks every
response's id (each answered once, none it never asked) and every 64 writes
reads the last one back and reads the backend's state through the path it
learnt at connect (after a restore the domain has a new id; that path still
names the old one). The disk file must hold what was written before the save.
And a NIC: xtest's "net loop" sends numbered frames and counts the echoes a
socket on the bridge sends back, across a save and restore (a new tap); and
"net hold": a frame netback read from the tap but could not deliver yet
arrives after the restore."""
import os
import re
import socket
import struct
import subprocess
import threading
import time

import pytest
from test_migrate import local_ssh
from test_save_restore import records
from test_toolstack import Toolstack, wait_for

SLOTS, BASE = 2048, 4 << 20


@pytest.fixture
def ts(build, need_kvm):
    t = Toolstack()
    yield t
    t.close()


def loops(text):
    return [int(n) for n in re.findall(r"^blk: loop (\d+)", text, re.M)]


def start(ts, name, img, fmt="raw"):
    ts.create(name, "blk loop", disk=[f"{img},{fmt},xvda,rw"])
    assert wait_for(lambda: len(loops(ts.console_log(name))) >= 3, 60), ts.console_log(name)


def make_disk(ts, fmt="raw"):
    img = os.path.join(ts.dir, f"loop.{fmt}")
    if fmt == "raw":
        with open(img, "wb") as f:
            f.truncate(32 << 20)
    else:
        subprocess.run(["qemu-img", "create", "-q", "-f", fmt, img, "32M"], check=True)
    return img


def check_disk(img, n, fmt="raw"):
    """Writes 0..n-1 were answered: write n-1's slot holds it or a later one."""
    k = n - 1
    raw = img
    if fmt != "raw":
        raw = img + ".content"
        subprocess.run(["qemu-img", "convert", "-q", "-f", fmt, "-O", "raw", img, raw], check=True)
    with open(raw, "rb") as f:
        f.seek(BASE + (k % SLOTS) * 4096)
        page = f.read(4096)
    got = struct.unpack("<Q", page[:8])[0]
    assert got % SLOTS == k % SLOTS and got >= k, (got, k)
    assert page[8:64] == bytes((got * 7 + i) & 0xFF for i in range(8, 64))
    assert page[64:] == bytes(4096 - 64)


def going_on(ts, log, mark, before):
    """The guest writes on after the restore, past what it had done."""
    def more():
        after = loops(ts.console_log(log)[mark:])
        return len(after) >= 3 and after[-1] > before + 256
    assert wait_for(more, 60), ts.console_log(log)[mark:]
    out = ts.console_log(log)
    assert "FAIL" not in out, out


# qcow2: the disk is served by qemu-storage-daemon over NBD (its replies drained).
@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_save_and_restore_with_a_disk_being_written(ts, fmt):
    img = make_disk(ts, fmt)
    start(ts, "sd", img, fmt)
    old = ts.domains()["sd"][0]
    path = os.path.join(ts.dir, "sd.save")
    ts.xk("save", "sd", path)
    assert "sd" not in ts.domains()
    before = loops(ts.console_log("sd"))[-1]
    check_disk(img, before, fmt)
    mark = len(ts.console_log("sd"))
    ts.xk("restore", path)
    new = ts.domains()["sd"][0]
    assert new != old
    going_on(ts, "sd", mark, before)
    if fmt != "raw":
        ts.xk("destroy", "sd")
        return
    # A second save and restore: the guest still sees its first domain id in
    # the backend's path (the backend now lives under the second domain's).
    before = loops(ts.console_log("sd"))[-1]
    ts.xk("save", "sd", path)
    mark = len(ts.console_log("sd"))
    ts.xk("restore", path)
    assert ts.domains()["sd"][0] not in (old, new)
    going_on(ts, "sd", mark, before)
    ts.xk("destroy", "sd")


def test_failed_save_leaves_the_disk_working(ts):
    """The devices were drained, then the file cannot be written: they run
    again with the vCPUs, every request still answered once."""
    img = make_disk(ts)
    start(ts, "sf", img)
    r = ts.xk("save", "sf", "/proc/sf.save", ok=False)      # nowhere to write
    assert "/proc/sf.save" in r.stderr, r.stderr
    assert "sf" in ts.domains()
    before = loops(ts.console_log("sf"))[-1]
    going_on(ts, "sf", len(ts.console_log("sf")), before)
    # A restore whose config lacks the connected disk fails before the guest
    # runs, and leaves no domain.
    path = os.path.join(ts.dir, "sf.save")
    ts.xk("save", "sf", path)
    bare = ts.cfg("sf", "blk loop")
    r = ts.xk("restore", path, bare, ok=False)
    assert "the saved guest has disk 51712 connected; the config has none" in r.stderr, r.stderr
    assert "sf" not in ts.domains()


def test_checkpoint_keeps_the_disk_working(ts):
    img = make_disk(ts)
    start(ts, "sc", img)
    path = os.path.join(ts.dir, "sc.save")
    ts.xk("save", "-c", "sc", path)
    before = loops(ts.console_log("sc"))[-1]
    going_on(ts, "sc", len(ts.console_log("sc")), before)
    ts.xk("destroy", "sc")


def test_live_migration_with_a_disk_being_written(ts):
    img = make_disk(ts)
    start(ts, "sm", img)
    old = ts.domains()["sm"][0]
    r = ts.xk("migrate", "-s", local_ssh(ts), "--debug", "sm", "somehost", timeout=120)
    assert "Migration successful." in r.stderr, r.stderr
    assert wait_for(lambda: "sm--migratedaway" not in ts.domains())
    assert ts.domains()["sm"][0] != old
    before = loops(ts.console_log("sm"))[-1]
    check_disk(img, before)
    going_on(ts, "sm--incoming", 0, before)
    ts.xk("destroy", "sm")


def test_a_device_being_unplugged_is_refused_and_the_domain_goes_on(ts):
    """block-detach waits for the frontend to close ("blk io stay" never does):
    a save and a migration are refused before anything stops."""
    img = make_disk(ts)
    ts.create("su", "blk io stay", disk=[f"{img},raw,xvda,rw"])
    assert wait_for(lambda: "blk: staying" in ts.console_log("su"), 60), ts.console_log("su")
    ts.xk("block-detach", "su", "xvda", ok=False)      # waits 10 s, the device stays unplugging
    r = ts.xk("save", "su", os.path.join(ts.dir, "su.save"), ok=False)
    assert "is being unplugged" in r.stderr, r.stderr
    r = ts.xk("migrate", "-s", local_ssh(ts), "su", "h", ok=False, timeout=60)
    assert "is being unplugged" in r.stderr, r.stderr
    assert "Migration failed, the domain was not stopped." in r.stderr
    assert "su" in ts.domains() and "su--incoming" not in ts.domains()
    assert not os.path.exists(os.path.join(ts.dir, "su.save"))
    ts.xk("destroy", "su")


ETH_P_ALL, ETH_TYPE = 3, 0x88B5
GUEST_MAC = bytes.fromhex("00163e001702")


@pytest.fixture
def bridge():
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        pytest.skip("not root or no /dev/net/tun: taps and bridges need them: vif save test SKIPPED")
    name = f"xksv{os.getpid() % 100000}"
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], check=False)


class Echo:
    """On the bridge: records the guest's XTEST-SEQ numbers and answers each
    with an XTEST-ECHO to the guest's MAC."""

    def __init__(self, br):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((br, ETH_P_ALL))
        self.sock.settimeout(0.2)
        self.seqs, self.stop = [], False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                frame, addr = self.sock.recvfrom(16384)
            except (socket.timeout, OSError):
                continue
            if addr[2] == socket.PACKET_OUTGOING or frame[12:14] != ETH_TYPE.to_bytes(2, "big"):
                continue
            m = re.match(rb"XTEST-SEQ (\d+)", frame[14:40])
            if m:
                n = int(m.group(1))
                self.seqs.append(n)
                reply = GUEST_MAC + bytes.fromhex("020000000002") + frame[12:14] + \
                    b"XTEST-ECHO %d" % n
                try:
                    self.sock.send(reply.ljust(60, b"\0"))
                except OSError:
                    pass                  # no port on the bridge while the guest moves

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def rx_count(text):
    n = re.findall(r"^net: rx (\d+)", text, re.M)
    return int(n[-1]) if n else 0


def test_save_and_restore_with_a_nic_in_use(ts, bridge):
    """Frames flow both ways across a save and restore: the guest's sequence
    goes on where it was (each tx answered once: the guest checks), a new tap
    vifNEW.0 joins the bridge, and the guest receives again."""
    echo = Echo(bridge)
    try:
        ts.create("sn", "net loop", vif=[f"bridge={bridge},mac=00:16:3e:00:17:02"])
        assert wait_for(lambda: rx_count(ts.console_log("sn")) >= 20, 60), ts.console_log("sn")
        old = ts.domains()["sn"][0]
        path = os.path.join(ts.dir, "sn.save")
        ts.xk("save", "sn", path)
        assert subprocess.run(["ip", "link", "show", f"vif{old}.0"],
                              capture_output=True).returncode != 0
        sent, rx_before = max(echo.seqs), rx_count(ts.console_log("sn"))
        mark = len(ts.console_log("sn"))
        ts.xk("restore", path)
        new = ts.domains()["sn"][0]
        link = subprocess.run(["ip", "-o", "link", "show", f"vif{new}.0"], capture_output=True,
                              text=True)
        assert link.returncode == 0 and f"master {bridge}" in link.stdout, link
        assert wait_for(lambda: max(echo.seqs) > sent + 20, 60), ts.console_log("sn")[mark:]
        after = [n for n in echo.seqs if n > sent]
        assert after[0] <= sent + 2, (sent, after[:5])     # it went on, not over
        assert wait_for(lambda: rx_count(ts.console_log("sn")) > rx_before + 20, 60), \
            ts.console_log("sn")[mark:]
        assert "FAIL" not in ts.console_log("sn"), ts.console_log("sn")
        ts.xk("destroy", "sn")
    finally:
        echo.close()


def test_live_migration_with_a_nic_in_use(ts, bridge):
    echo = Echo(bridge)
    try:
        ts.create("mn", "net loop", vif=[f"bridge={bridge},mac=00:16:3e:00:17:02"])
        assert wait_for(lambda: rx_count(ts.console_log("mn")) >= 20, 60), ts.console_log("mn")
        old = ts.domains()["mn"][0]
        r = ts.xk("migrate", "-s", local_ssh(ts), "mn", "somehost", timeout=120)
        assert "Migration successful." in r.stderr, r.stderr
        assert wait_for(lambda: "mn--migratedaway" not in ts.domains())
        new = ts.domains()["mn"][0]
        assert new != old
        assert wait_for(lambda: subprocess.run(["ip", "link", "show", f"vif{old}.0"],
                                               capture_output=True).returncode != 0, 10)
        sent, got = max(echo.seqs), rx_count(ts.console_log("mn"))
        log = "mn--incoming"
        assert wait_for(lambda: max(echo.seqs) > sent + 20, 60), ts.console_log(log)
        assert wait_for(lambda: rx_count(ts.console_log(log)) > got + 20, 60), ts.console_log(log)
        assert "FAIL" not in ts.console_log(log) + ts.console_log("mn"), ts.console_log(log)
        ts.xk("destroy", "mn")
    finally:
        echo.close()


def held_frame():
    """A 6000-byte frame to the guest (two rx slots), as test_netback_guest's."""
    head = GUEST_MAC + bytes.fromhex("020000000003") + ETH_TYPE.to_bytes(2, "big") + b"XTEST-HELD"
    return head + bytes((i * 7) & 0xFF for i in range(len(head), 6000))


@pytest.mark.parametrize("how", ["restore", "migrate"])
def test_a_frame_waiting_in_the_backend_is_delivered_after_the_restore(ts, bridge, how):
    """The guest has one rx buffer posted; a two-slot frame sent to it is read
    from the tap by netback and waits there for slots. A save (or migration)
    carries it in the DEV_DATA record and the restored backend delivers it
    once the guest posts more buffers."""
    ts.create("nh", "net hold", vif=[f"bridge={bridge},mac=00:16:3e:00:17:02,mtu=9000"])
    assert wait_for(lambda: "net: holding" in ts.console_log("nh"), 60), ts.console_log("nh")
    tap = f"vif{ts.domains()['nh'][0]}.0"
    # Quiet the host's own IPv6 traffic on the tap (it would pass the one buffer).
    with open(f"/proc/sys/net/ipv6/conf/{tap}/disable_ipv6", "w") as f:
        f.write("1")
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL)) as s:
        s.bind((tap, ETH_P_ALL))
        s.send(held_frame())
    time.sleep(1)                    # netback reads it, and holds it for want of slots
    if how == "restore":
        path = os.path.join(ts.dir, "nh.save")
        ts.xk("save", "nh", path)
        data = open(path, "rb").read()
        assert any(t == 12 for _, t, _ in records(data)), "no DEV_DATA record"
        ts.xk("restore", path)
        log = "nh"
    else:
        r = ts.xk("migrate", "-s", local_ssh(ts), "nh", "somehost", timeout=120)
        assert "Migration successful." in r.stderr, r.stderr
        log = "nh--incoming"
    domid = ts.domains()["nh"][0]
    subprocess.run(["xenstore-write", f"/local/domain/{domid}/data/net-go", "go"], env=ts.env,
                   check=True, timeout=10)
    assert wait_for(lambda: "RESULT" in ts.console_log(log), 30), ts.console_log(log)
    out = ts.console_log(log)
    assert "net: got the held frame" in out and "RESULT PASS" in out, out
