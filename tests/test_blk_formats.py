"""Disk images in QEMU's formats end to end: `xenkvm run --disk IMG,qcow2|vhd,...`
starts a qemu-storage-daemon for the disk (Debian's qemu-system-common) and
blkback's I/O goes there over NBD. xtest's "blk" program (a small blkfront:
guest/prog_blk.c) reads the image's pattern, writes, flushes and discards on
this host's KVM; the image is read back with Debian's qemu-img afterwards.
Also: the storage daemon's life (there while the domain runs, gone after it,
gone when the domain process is SIGKILLed), a storage daemon killed under
the guest (its requests fail, none hangs), an image that cannot be opened
(refused before the guest starts), a flushed write surviving SIGKILL through
the frontend harness, and block-attach/-detach of a qcow2 image through the
toolstack. Each image format's request handling is covered by test_blk_nbd
(tests/unit/blk/test_blk_nbd.c)."""
import os
import queue
import re
import signal
import subprocess
import threading
import time

import pytest
from conftest import BUILD
from test_toolstack import pids_with, alive, wait_for, ts  # noqa: F401  (ts: the fixture)
from test_toolstack_devices import block_rows
from test_xenstore_clients import Daemon

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
HARNESS = BUILD / "tests" / "unit" / "blk" / "blk-harness"
QEMU_FMT = {"qcow2": "qcow2", "vhd": "vpc"}
MIB = 1 << 20


def pattern(size):
    """The bytes xtest's blk program and test_blk_nbd expect: byte at offset o
    is (o >> 9) * 31 + (o & 511) * 7 + 1 (mod 256)."""
    base = bytes((i * 7 + 1) & 0xFF for i in range(512))
    shifted = [base.translate(bytes((b + s) & 0xFF for b in range(256))) for s in range(256)]
    return b"".join(shifted[(s * 31) & 0xFF] for s in range(size // 512))


def make_image(tmp_path, fmt, size=8 * MIB, name="disk"):
    raw = tmp_path / f"{name}.raw"
    raw.write_bytes(pattern(size))
    img = tmp_path / f"{name}.{fmt}"
    subprocess.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", QEMU_FMT[fmt], str(raw),
                    str(img)], check=True)
    raw.unlink()
    return img


def content(img, fmt, tmp_path):
    out = tmp_path / "content.raw"
    subprocess.run(["qemu-img", "convert", "-q", "-f", QEMU_FMT[fmt], "-O", "raw", str(img),
                    str(out)], check=True)
    data = out.read_bytes()
    out.unlink()
    return data


def qemu_img_check(img, fmt):
    r = subprocess.run(["qemu-img", "check", "-f", QEMU_FMT[fmt], str(img)], capture_output=True,
                       text=True)
    # 63: the format has no consistency check (vpc)
    assert r.returncode in (0, 63), r.stdout + r.stderr
    return r


def storage_daemons(img):
    return [p for p in pids_with(str(img))
            if b"qemu-storage-daemon" in open(f"/proc/{p}/cmdline", "rb").read() and alive(p)]


@pytest.fixture
def xsd(build):
    d = Daemon()
    yield d
    assert d.stop(), d.logtext()


def read(xsd, path):
    r = xsd.run("xenstore-read", path, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


class Guest:
    """xenkvm run with xtest, its output lines collected on a thread."""

    def __init__(self, xsd, program, *disks, domid=1, kernel=XTEST):
        args = [str(XENKVM), "run", "-v", "--kernel", str(kernel), "--cmdline", program,
                "--xenstore", xsd.sock, "--domid", str(domid), "--name", f"g{domid}"]
        for d in disks:
            args += ["--disk", d]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines = queue.Queue()
        self.out = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            self.out.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def wait_line(self, needle, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.lines.get(timeout=max(0.1, end - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            if needle in line:
                return line
        return None

    def finish(self, timeout=60):
        self.proc.wait(timeout=timeout)
        time.sleep(0.2)
        return "".join(self.out)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        return self.finish()


@pytest.mark.parametrize("fmt,kernel", [("qcow2", "xtest"), ("vhd", "xtest"),
                                        ("qcow2", "xtest32")])
def test_guest_blkfront_on_image(build, need_kvm, xsd, tmp_path, fmt, kernel):
    """xtest32's blkfront speaks x86_32-abi (its native layout)."""
    img = make_image(tmp_path, fmt)
    g = Guest(xsd, "blk io", f"{img},{fmt},xvda,rw", kernel=BUILD / "guest" / kernel)
    out = g.finish()
    assert g.proc.returncode == 0 and "RESULT PASS" in out, out
    assert ("x86_32-abi" in out) == (kernel == "xtest32"), out
    assert "blk: io done" in out and "type qdisk" in out, out
    assert "Sanitizer" not in out, out
    m = re.search(r"storage daemon (\d+): ", out)
    assert m and not alive(int(m.group(1))), out
    assert not storage_daemons(img)
    data = content(img, fmt, tmp_path)
    want = bytearray(pattern(8 * MIB))
    for p in range(4):
        page = bytearray((p * 5 + i) & 0xFF for i in range(4096))
        page[:9] = b"XTEST-BLK"
        want[MIB + p * 4096:MIB + (p + 1) * 4096] = page
    want[2 * MIB:2 * MIB + 4096] = b"\xa5" * 4096
    if fmt == "qcow2":      # the discard at 3 MiB unmapped its clusters
        want[3 * MIB:4 * MIB] = bytes(MIB)
    assert data[:8 * MIB] == bytes(want)
    qemu_img_check(img, fmt)


def test_image_nodes_and_storage_daemon_life(build, need_kvm, xsd, tmp_path):
    """Nodes as libxl writes them for a qdisk; the storage daemon is the child
    of the domain process's spawn helper (the confined domain process cannot
    fork and exec, src/backend/spawner.h) while it runs, and goes when the
    domain process is SIGKILLed."""
    img = make_image(tmp_path, "qcow2")
    g = Guest(xsd, "bench 100000000", f"{img},qcow2,xvda,rw")
    try:
        be = "/local/domain/0/backend/vbd/1/51712"
        assert wait_for(lambda: read(xsd, be + "/state") == "2", 20), g.kill()
        assert read(xsd, be + "/type") == "qdisk"
        assert read(xsd, be + "/params") == f"qcow2:{img}"
        assert read(xsd, be + "/sectors") == str(8 * MIB // 512)
        assert read(xsd, be + "/feature-flush-cache") == "1"
        assert read(xsd, be + "/feature-discard") == "1"
        (sd,) = storage_daemons(img)
        with open(f"/proc/{sd}/stat") as f:
            helper = int(f.read().split(")")[-1].split()[1])
        with open(f"/proc/{helper}/stat") as f:
            stat = f.read()
        assert "(xenkvm-spawner)" in stat, stat
        assert int(stat.split(")")[-1].split()[1]) == g.proc.pid
    finally:
        out = g.kill()
    assert g.proc.returncode == -signal.SIGKILL, out
    assert wait_for(lambda: not alive(sd), 10), "the storage daemon outlived its domain"
    assert wait_for(lambda: not alive(helper), 10), "the spawn helper outlived its domain"
    qemu_img_check(img, "qcow2")


def test_storage_daemon_killed_under_the_guest(build, need_kvm, xsd, tmp_path):
    img = make_image(tmp_path, "qcow2")
    g = Guest(xsd, "blk kill", f"{img},qcow2,xvda,rw")
    try:
        assert g.wait_line("blk: connected"), g.kill()
        time.sleep(0.3)                  # some reads succeed first
        (sd,) = storage_daemons(img)
        os.kill(sd, signal.SIGKILL)
        out = g.finish(timeout=60)
    finally:
        out = g.kill()
    assert g.proc.returncode == 0 and "RESULT PASS" in out, out
    assert re.search(r"blk: [1-9]\d* reads before the first failure", out), out
    assert "connection to the storage daemon lost" in out, out
    assert "ended: signal 9" in out, out


def test_unopenable_image_refused_before_the_guest_starts(build, need_kvm, xsd, tmp_path):
    img = make_image(tmp_path, "qcow2")
    first = Guest(xsd, "bench 100000000", f"{img},qcow2,xvda,rw")
    try:
        assert wait_for(lambda: read(xsd, "/local/domain/0/backend/vbd/1/51712/state") == "2",
                        20), first.kill()
        second = Guest(xsd, "hello", f"{img},qcow2,xvda,rw", domid=2)
        out = second.finish()
        assert second.proc.returncode == 1, out
        assert f'disk {img} (qcow2): Failed to get "write" lock' in out, out
        assert "RESULT" not in out and "hello" not in out.split("lock")[-1], out
        assert read(xsd, "/local/domain/2") is None
    finally:
        first.kill()
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(tmp_path / "gone.qcow2"),
                    "-F", "qcow2", "-u", str(overlay), "8M"], check=True)
    g = Guest(xsd, "hello", f"{overlay},qcow2,xvda,rw", domid=3)
    out = g.finish()
    assert g.proc.returncode == 1 and "Could not open backing file" in out, out


@pytest.mark.parametrize("fmt", ["qcow2", "vhd"])
def test_flushed_write_survives_sigkill(build, tmp_path, fmt):
    """The harness writes and flushes through the storage daemon, prints
    `flushed PID` on the answer and is SIGKILLed: its storage daemon follows
    (SIGTERM from PR_SET_PDEATHSIG), the data is in the image, which is clean."""
    img = make_image(tmp_path, fmt, 8 * MIB)
    p = subprocess.Popen([str(HARNESS), "-f", fmt, "write-flush", str(img), "2048", "64", "90"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().split()
        assert line[:1] == ["flushed"] and int(line[1]) > 0, p.stderr.read()
        sd = int(line[1])
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert wait_for(lambda: not alive(sd), 10), "the storage daemon outlived the harness"
    data = content(img, fmt, tmp_path)
    assert data[MIB:MIB + 64 * 4096] == bytes([90]) * (64 * 4096)
    assert data[:MIB] == pattern(MIB)
    qemu_img_check(img, fmt)


def test_top_counts_qcow2_requests(ts, need_kvm, tmp_path):
    """`top`'s VBD columns count an image disk's requests as a raw disk's."""
    img = make_image(tmp_path, "qcow2", 8 * MIB)
    ts.create("q2", "blk io stay", disk=[f"{img},qcow2,xvda,rw"])
    assert wait_for(lambda: "blk: staying" in ts.console_log("q2"), 30), ts.console_log("q2")
    out = ts.xk("top", "-b", "-d", "0.2").stdout.splitlines()
    head = out[0].split()
    (row,) = [l.split() for l in out[1:] if l.split()[0] == "q2"]
    cols = dict(zip(head, row))
    # reads: sector 0, the 4 pages back, past the end (refused before the disk: not
    # counted), the ungranted ref (not counted), and one more; writes: 4 pages + 1 page
    assert cols["VBDS"] == "1" and int(cols["VBD_RD"]) >= 3 and int(cols["VBD_WR"]) >= 2, cols
    assert int(cols["VBD_WSECT"]) >= 40, cols
    ts.xk("destroy", "q2")
    assert wait_for(lambda: not storage_daemons(img), 10)


def test_block_attach_detach_qcow2(ts, need_kvm, tmp_path):
    img = make_image(tmp_path, "qcow2", 4 * MIB)
    ts.create("q1", "idle")
    domid = ts.domains()["q1"][0]
    ts.xk("block-attach", "q1", f"{img},qcow2,xvdb,w")
    assert [r[0] for r in block_rows(ts, "q1")] == ["51728"]
    assert ts.xs_read(f"/local/domain/0/backend/vbd/{domid}/51728/params") == f"qcow2:{img}"
    (sd,) = storage_daemons(img)
    # the same image cannot be attached twice: QEMU's lock
    r = ts.xk("block-attach", "q1", f"{img},qcow2,xvdc,w", ok=False)
    assert 'Failed to get "write" lock' in r.stderr, r.stderr
    ts.xk("block-detach", "q1", "xvdb")
    assert block_rows(ts, "q1") == []
    assert wait_for(lambda: not alive(sd), 10), "the storage daemon outlived its disk"
    qemu_img_check(img, "qcow2")
    ts.xk("destroy", "q1")
