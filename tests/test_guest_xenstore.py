"""The guest's xenstore connection end to end: xtest's "xenstore" program runs
under `xenkvm run --xenstore SOCKET`, talks to xenkvmd through the ring that
xenkvm relays, and waits for a watch event that this test causes by writing
the domain's data/host-key with Debian's xenstore-write, as dom0 would.

Meanwhile the test checks, as dom0, the standard tree xenkvm wrote for the
domain (and what the guest wrote), and after the guest has exited that the
domain's tree is gone.
"""
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import BUILD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XENKVMD = BUILD / "src" / "daemon" / "xenkvmd"
XTEST = BUILD / "guest" / "xtest"

DOMID = 7
NAME = "xs-guest"
VALUE = "written-by-dom0"
WAIT_LINE = "xenstore: waiting for host write"
BOOT_TIMEOUT = 60     # s until the guest waits for the host write
EXIT_TIMEOUT = 60     # s from the host write until xenkvm exits
TOOL_TIMEOUT = 10     # s per xenstore-* command


def _lines(stream, q, keep):
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\n")
        keep.append(line)
        q.put(line)
    q.put(None)


class Store:
    """xenkvmd on a private socket, and Debian's xenstore-* clients on it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xsguest")
        self.sock = os.path.join(self.dir, "xenstored.sock")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([str(XENKVMD), "--foreground", "--socket", self.sock],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(500):
            if os.path.exists(self.sock) or self.proc.poll() is not None:
                break
            time.sleep(0.01)
        assert os.path.exists(self.sock), f"xenkvmd did not start:\n{self.logtext()}"
        self.env = dict(os.environ, XENSTORED_PATH=self.sock)

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def run(self, *cmd):
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT)

    def read(self, path):
        r = self.run("xenstore-read", path)
        assert r.returncode == 0, f"xenstore-read {path}: {r.returncode} {r.stderr.strip()}"
        return r.stdout.rstrip("\n")

    def missing(self, path):
        return self.run("xenstore-read", path).returncode != 0

    def perms(self, path):
        """The node's permissions as xenstore-ls -p prints them, e.g. 'n7'."""
        r = self.run("xenstore-ls", "-p", os.path.dirname(path))
        assert r.returncode == 0, r.stderr
        leaf = os.path.basename(path)
        for line in r.stdout.splitlines():
            if line.split(" = ", 1)[0].strip() == leaf and "(" in line:
                return line.rsplit("(", 1)[1].rstrip(")").strip()
        raise AssertionError(f"{path} not listed:\n{r.stdout}")

    def stop(self):
        alive = self.proc.poll() is None
        if alive:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        return alive


def _need():
    for f in (XENKVM, XENKVMD, XTEST):
        if not f.exists():
            pytest.fail(f"{f} is missing: build first (ninja -C {BUILD})")
    for tool in ("xenstore-read", "xenstore-write", "xenstore-ls"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} not installed (apt-get install xenstore-utils)")


def _check_tree(xs, base):
    """The standard tree as libxl lays it out (see src/xenstore/domtree.c)."""
    assert xs.read(f"{base}/name") == NAME
    assert xs.read(f"{base}/domid") == str(DOMID)
    vm = xs.read(f"{base}/vm")
    assert vm.startswith("/vm/") and len(vm) > 4
    assert xs.read(f"{vm}/name") == NAME
    assert xs.read(f"{vm}/uuid") == vm[4:]
    assert xs.read(f"{base}/memory/target") == str(64 << 10)
    assert xs.read(f"{base}/memory/static-max") == str(64 << 10)
    assert xs.read(f"{base}/cpu/0/availability") == "online"
    for key in ("console/port", "console/ring-ref", "store/port", "store/ring-ref"):
        assert xs.read(f"{base}/{key}").isdigit(), key
    assert xs.read(f"{base}/console/type") == "xenconsoled"
    # Owned by dom0, readable by the domain; "data" and control/shutdown are
    # the domain's own (libxl's rw permission).
    assert xs.perms(f"{base}/name") == f"n0,r{DOMID}"
    assert xs.perms(f"{base}/data") == f"n{DOMID}"
    assert xs.perms(f"{base}/control/shutdown") == f"n{DOMID}"
    for node in ("control/feature-poweroff", "control/feature-reboot", "control/feature-suspend",
                 "control/sysrq", "device/suspend/event-channel", "drivers", "feature", "attr",
                 "error"):
        assert xs.perms(f"{base}/{node}") == f"n{DOMID}", node
    # ... and what the guest wrote there (as Linux's xen:manage does at boot).
    assert xs.read(f"{base}/control/feature-poweroff") == "1"
    listing = xs.run("xenstore-ls", base)
    assert listing.returncode == 0 and "device" in listing.stdout and "control" in listing.stdout
    # What the guest wrote through its ring, seen by dom0.
    assert xs.read(f"{base}/data/xtest") == "hello"
    assert xs.read(f"{base}/data/t1") == "one" and xs.read(f"{base}/data/t2") == "two"
    assert xs.missing(f"{base}/data/t3"), "the aborted transaction's write is visible"
    assert xs.missing(f"{base}/name-x")
    return vm


def test_guest_xenstore(need_kvm):
    _need()
    base = f"/local/domain/{DOMID}"
    xs = Store()
    guest = None
    out, err = [], []
    try:
        # dom0's own entries, as xen-init-dom0 writes them (private to dom0):
        # the guest's EACCES checks then hit an existing node.
        r = xs.run("xenstore-write", "/local/domain/0/name", "Domain-0",
                   "/local/domain/0/domid", "0")
        assert r.returncode == 0, r.stderr

        guest = subprocess.Popen(
            [str(XENKVM), "run", "--kernel", str(XTEST), "--cmdline", f"xenstore {NAME}",
             "--xenstore", xs.sock, "--name", NAME, "--domid", str(DOMID)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = queue.Queue()
        readers = [threading.Thread(target=_lines, args=(guest.stdout, lines, out), daemon=True),
                   threading.Thread(target=_lines, args=(guest.stderr, queue.Queue(), err),
                                    daemon=True)]
        for t in readers:
            t.start()

        def describe():
            return ("--- stdout ---\n" + "\n".join(out[-80:]) + "\n--- stderr ---\n" +
                    "\n".join(err[-30:]) + "\n--- xenkvmd ---\n" + xs.logtext()[-2000:])

        end = time.monotonic() + BOOT_TIMEOUT
        while True:
            left = end - time.monotonic()
            assert left > 0, f"no '{WAIT_LINE}' in {BOOT_TIMEOUT} s\n{describe()}"
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                continue
            assert line is not None, f"xenkvm exited before '{WAIT_LINE}'\n{describe()}"
            if line == WAIT_LINE:
                break

        # The guest waits 20 s for the write: check the tree quickly, then write.
        try:
            vm = _check_tree(xs, base)
        finally:
            r = xs.run("xenstore-write", f"{base}/data/host-key", VALUE)
        assert r.returncode == 0, r.stderr

        try:
            rc = guest.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"xenkvm did not exit {EXIT_TIMEOUT} s after the host write\n{describe()}")
        for t in readers:
            t.join(timeout=10)

        fails = [l for l in out if l.startswith("FAIL ")]
        assert not fails, f"guest checks failed: {fails}\n{describe()}"
        assert f"ok watch fired: {VALUE}" in out, describe()
        assert "RESULT PASS" in out, describe()
        assert rc == 0, f"exit {rc}\n{describe()}"

        # xenkvm removed the domain's tree and its /vm entry on the way out.
        assert xs.missing(f"{base}/name"), describe()
        assert xs.missing(base), describe()
        assert xs.missing(vm), describe()
        listing = xs.run("xenstore-ls", "/local/domain")
        assert listing.returncode == 0 and f"{DOMID} =" not in listing.stdout, listing.stdout
        assert xs.read("/local/domain/0/name") == "Domain-0"
    finally:
        if guest is not None and guest.poll() is None:
            guest.kill()
            guest.wait(timeout=10)
        alive = xs.stop()
        log = xs.logtext()
        shutil.rmtree(xs.dir, ignore_errors=True)
    assert alive, f"xenkvmd died during the test:\n{log}"
