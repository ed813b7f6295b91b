"""netback end to end with a guest on this host's KVM: `xenkvm run --vif`
creates tap vif<domid>.0 on a bridge, announces the vif on xenbus, and xtest's
"net" program (a small netfront: guest/prog_net.c) connects to it. The test
reads the guest's frames from the tap with an AF_PACKET socket, checks their
bytes, and answers through the same socket: a small frame and a 6000-byte one
that needs two rx slots; once with v1 grant entries and once with v2 ones.
Linux's xen-netfront is tested in the rig."""
import json
import os
import queue
import socket
import subprocess
import threading
import time

import pytest
from conftest import BUILD
from test_guest_xenstore import Store, _lines

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
DOMID = 23
ETH_TYPE = 0x88B5
ETH_P_ALL = 0x0003
TAP = f"vif{DOMID}.0"
BOOT_TIMEOUT = 60


def _need_net():
    if os.geteuid() != 0:
        pytest.skip("not root: tap devices and bridges need CAP_NET_ADMIN: netback guest test SKIPPED")
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("/dev/net/tun is missing: netback guest test SKIPPED")


@pytest.fixture
def bridge():
    _need_net()
    name = f"xkbr{os.getpid() % 100000}"
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], check=False)


def pattern_frame(dst, src, text, length):
    head = bytes(dst) + bytes(src) + ETH_TYPE.to_bytes(2, "big") + text
    return head + bytes((i * 7) & 0xFF for i in range(len(head), length))


def ctl_request(path, op):
    with socket.socket(socket.AF_UNIX) as ctl:
        ctl.connect(path)
        ctl.sendall(json.dumps({"op": op}).encode() + b"\n")
        return json.loads(ctl.makefile().readline())


# "gntv2": the same frames with the guest's grants as v2 entries (netback maps
# them and sets the in-use bits in the status frame). xtest32: a 32-bit guest
# (netif's rings have one layout in both ABIs).
@pytest.mark.parametrize("kernel,cmdline", [("xtest", "net"), ("xtest", "net gntv2"),
                                            ("xtest32", "net")])
def test_netfront_in_xtest(build, need_kvm, bridge, kernel, cmdline):
    xs = Store()
    out, err = [], []
    lines = queue.Queue()
    ctl_path = os.path.join(xs.dir, "ctl.sock")
    # Under --control the console goes to the control socket: the test attaches
    # as a console client before the paused domain starts.
    guest = subprocess.Popen(
        [str(XENKVM), "run", "--kernel", str(BUILD / "guest" / kernel), "--cmdline", cmdline,
         "--xenstore", xs.sock,
         "--name", "nettest", "--domid", str(DOMID),
         "--vif", f"bridge={bridge},mac=00:16:3e:00:17:01,mtu=9000",
         "--control", ctl_path, "--paused"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(1000):
        if os.path.exists(ctl_path) or guest.poll() is not None:
            break
        time.sleep(0.01)
    console = socket.socket(socket.AF_UNIX)
    console.connect(ctl_path)
    console.sendall(b'{"op":"console"}\n')
    stream = console.makefile("rb")
    assert json.loads(stream.readline())["ok"]
    readers = [threading.Thread(target=_lines, args=(stream, lines, out), daemon=True),
               threading.Thread(target=_lines, args=(guest.stderr, queue.Queue(), err), daemon=True)]
    for t in readers:
        t.start()
    assert ctl_request(ctl_path, "unpause")["ok"]

    def describe():
        return ("--- stdout ---\n" + "\n".join(out[-60:]) + "\n--- stderr ---\n" +
                "\n".join(err[-30:]))

    def wait_line(want, timeout=BOOT_TIMEOUT):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, f"no '{want}' in {timeout} s\n{describe()}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, f"xenkvm exited before '{want}'\n{describe()}"
            if line.startswith(want):
                return line

    sock = None
    try:
        mac_line = wait_line("net: mac ")
        guest_mac = bytes(int(x, 16) for x in mac_line.split()[2].split(":"))
        assert guest_mac == bytes.fromhex("00163e001701"), mac_line
        # The tap exists, on the bridge, before the guest connects.
        link = subprocess.run(["ip", "-o", "link", "show", TAP], capture_output=True, text=True)
        assert link.returncode == 0 and f"master {bridge}" in link.stdout, link.stdout + link.stderr
        assert "mtu 9000" in link.stdout, link.stdout
        # ETH_P_ALL: on a bridge port the bridge takes incoming frames before
        # sockets bound to one EtherType see them.
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((TAP, ETH_P_ALL))
        sock.settimeout(20)
        wait_line("net: connected")

        got = []
        while len(got) < 3:
            frame, addr = sock.recvfrom(16384)
            if addr[2] != socket.PACKET_OUTGOING and frame[12:14] == ETH_TYPE.to_bytes(2, "big"):
                got.append(frame)
        assert got[0][14:26] == b"XTEST-PING 1", got[0][:32]
        assert got[0][:6] == b"\xff" * 6 and got[0][6:12] == guest_mac
        want = pattern_frame(b"\xff" * 6, guest_mac, b"XTEST-MULTI", 3000)
        assert got[1] == want, f"3-slot frame differs: len {len(got[1])}"
        assert got[2][14:24] == b"XTEST-LAST", got[2][:32]
        wait_line("net: sent")
        # The domain process's counters (what `xenkvm top` shows) saw them.
        reply = ctl_request(ctl_path, "devices")
        vif = reply["devices"][0]
        assert vif["kind"] == "vif" and vif["name"] == TAP and vif["mac"] == "00:16:3e:00:17:01", reply
        assert vif["state_name"] == "Connected" and vif["bridge"] == bridge, reply
        assert vif["tx_packets"] == 3 and vif["tx_bytes"] == 60 + 3000 + 60, reply

        host_mac = bytes.fromhex("020000000001")
        sock.send(pattern_frame(guest_mac, host_mac, b"XTEST-PONG 1", 60))
        sock.send(pattern_frame(guest_mac, host_mac, b"XTEST-BIG", 6000))
        wait_line("net: received", timeout=30)
        rc = guest.wait(timeout=30)
        console.close()
        for t in readers:
            t.join(timeout=10)
        fails = [l for l in out if l.startswith("FAIL ")]
        assert not fails, f"guest checks failed: {fails}\n{describe()}"
        assert "RESULT PASS" in out and rc == 0, describe()
        if cmdline.endswith("gntv2"):
            assert "ok v2: the backend's ring mappings show in the status words" in out, describe()
        # The domain is gone, and so is its tap.
        assert subprocess.run(["ip", "link", "show", TAP], capture_output=True).returncode != 0
    finally:
        if sock:
            sock.close()
        if guest.poll() is None:
            guest.kill()
            guest.wait()
        xs.proc.terminate()
        xs.proc.wait(timeout=10)


def test_vif_errors(build, need_kvm, bridge):
    """Clear errors for a missing bridge and a bad spec; no tap is left."""
    xs = Store()
    try:
        for spec, want in ((f"bridge=nosuchbr{os.getpid() % 1000}", "does not exist"),
                           ("bridge=" + bridge + ",mac=zz:16:3e:00:00:01", "mac"),
                           ("bridge=" + bridge + ",type=ioemu", "not supported")):
            r = subprocess.run(
                [str(XENKVM), "run", "--kernel", str(XTEST), "--cmdline", "hello",
                 "--xenstore", xs.sock, "--domid", str(DOMID), "--vif", spec],
                capture_output=True, text=True, timeout=60)
            assert r.returncode == 1 and want in r.stderr, (spec, r.stderr)
            assert subprocess.run(["ip", "link", "show", TAP], capture_output=True).returncode != 0
    finally:
        xs.proc.terminate()
        xs.proc.wait(timeout=10)
