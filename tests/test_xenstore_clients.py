"""xenkvmd against real clients: Debian's xenstore-utils, python3-pyxs, a C
program on Debian's libxenstore, and a relay/guest program that plays the
domain process with an in-memory ring page."""
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import threading
import time

import pytest
from conftest import BUILD

XENKVMD = BUILD / "src" / "daemon" / "xenkvmd"
HELPERS = BUILD / "tests" / "unit" / "xenstore"


class Daemon:
    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="xs")
        self.sock = os.path.join(self.dir, "run", "xenstored.sock")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([str(XENKVMD), "--foreground", "--socket", self.sock, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        # listening, not only bound (the path appears between the two)
        for _ in range(500):
            if self.listening():
                break
            time.sleep(0.01)
        assert self.listening(), self.logtext()
        self.env = dict(os.environ, XENSTORED_PATH=self.sock)

    def listening(self):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.sock)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def run(self, *cmd, check=True, timeout=10):
        r = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def stop(self):
        """True if the daemon was still running and exits cleanly on SIGTERM
        (in a sanitizer build: without reports)."""
        alive = self.proc.poll() is None
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        clean = rc == 0 and "Sanitizer" not in self.logtext()
        shutil.rmtree(self.dir, ignore_errors=True)
        return alive and clean


@pytest.fixture
def xsd(build):
    if not XENKVMD.exists():
        pytest.fail(f"{XENKVMD} not built")
    d = Daemon()
    yield d
    assert d.stop(), "xenkvmd died during the test:\n" + d.logtext()


def need(tool):
    if not shutil.which(tool):
        pytest.skip(f"{tool} not installed (apt-get install xenstore-utils)")


# ---- the daemon itself ----

def test_socket_mode_and_dir(xsd):
    st = os.stat(xsd.sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(xsd.sock)).st_mode) == 0o700


def test_second_daemon_refused(xsd):
    r = subprocess.run([str(XENKVMD), "-f", "-s", xsd.sock], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "another" in r.stderr


def test_garbage_does_not_hurt_others(xsd):
    need("xenstore-write")
    bad = []
    for payload in (b"\xff" * 5000, b"\x02\x00\x00\x00" * 4 + b"x" * 3,
                    bytes(16) + b"/", (2).to_bytes(4, "little") * 3 + (0xffffffff).to_bytes(4, "little")):
        s = socket.socket(socket.AF_UNIX)
        s.connect(xsd.sock)
        s.sendall(payload)
        bad.append(s)   # left open, half-sent: must not stall anyone
    xsd.run("xenstore-write", "/ok", "1")
    assert xsd.run("xenstore-read", "/ok").stdout == "1\n"
    for s in bad:
        s.close()


# ---- Debian's xenstore-utils ----

def test_utils_write_read_ls_rm(xsd):
    need("xenstore-write")
    xsd.run("xenstore-write", "/tool/t/a", "hello", "/tool/t/b", "world")
    assert xsd.run("xenstore-read", "/tool/t/a").stdout == "hello\n"
    assert xsd.run("xenstore-list", "/tool/t").stdout.split() == ["a", "b"]
    ls = xsd.run("xenstore-ls", "-f", "/tool/t").stdout
    assert '/tool/t/a = "hello"' in ls and '/tool/t/b = "world"' in ls
    assert xsd.run("xenstore-exists", "/tool/t/a").returncode == 0
    assert xsd.run("xenstore-exists", "/tool/t/zz", check=False).returncode != 0
    xsd.run("xenstore-rm", "/tool/t/a")
    assert xsd.run("xenstore-read", "/tool/t/a", check=False).returncode != 0
    assert xsd.run("xenstore-list", "/tool/t").stdout.split() == ["b"]
    # relative paths of a dom0 client are under /local/domain/0
    xsd.run("xenstore-write", "rel", "5")
    assert xsd.run("xenstore-read", "/local/domain/0/rel").stdout == "5\n"


def test_utils_chmod_and_perms(xsd):
    need("xenstore-chmod")
    xsd.run("xenstore-write", "/p/q/r", "v")
    xsd.run("xenstore-chmod", "-r", "/p", "n3", "r4", "b5")
    out = xsd.run("xenstore-ls", "-p", "/p").stdout
    assert "(n3,r4,b5)" in out, out
    assert "r" in xsd.run("xenstore-ls", "-p", "/").stdout


def test_utils_watch(xsd):
    need("xenstore-watch")
    xsd.run("xenstore-write", "/w/x", "0")
    w = subprocess.Popen(["xenstore-watch", "-n", "3", "/w"], env=xsd.env, stdout=subprocess.PIPE,
                         text=True)
    time.sleep(0.3)
    xsd.run("xenstore-write", "/w/x", "1")
    xsd.run("xenstore-rm", "/w/x")
    out, _ = w.communicate(timeout=10)
    assert out.split() == ["/w", "/w/x", "/w/x"]


def test_utils_big_directory_uses_directory_part(xsd):
    need("xenstore-list")
    names = [f"child-with-a-rather-long-name-{i:04d}" for i in range(300)]
    args = []
    for n in names:
        args += [f"/big/{n}", "x"]
    for i in range(0, len(args), 100):
        xsd.run("xenstore-write", *args[i:i + 100])
    # > 4096 bytes of names: DIRECTORY says E2BIG, libxenstore falls back
    assert xsd.run("xenstore-list", "/big").stdout.split() == names


# ---- python3-pyxs ----

def test_pyxs_transactions_and_watches(xsd):
    pyxs = pytest.importorskip("pyxs")
    with pyxs.Client(unix_socket_path=xsd.sock) as c:
        c.write(b"/py/a", b"1")
        assert c.read(b"/py/a") == b"1"
        assert c.list(b"/py") == [b"a"]
        assert c.exists(b"/py/a")
        assert c.get_domain_path(7) == b"/local/domain/7"
        c.set_perms(b"/py/a", [b"n0", b"r3"])
        assert c.get_perms(b"/py/a") == [b"n0", b"r3"]

        # a committed transaction
        c.transaction()
        c.write(b"/py/t", b"x")
        assert c.commit() is True
        assert c.read(b"/py/t") == b"x"

        # a conflicting one: another client changes what this one read
        with pyxs.Client(unix_socket_path=xsd.sock) as other:
            c.transaction()
            assert c.read(b"/py/a") == b"1"
            other.write(b"/py/a", b"2")
            c.write(b"/py/a", b"3")
            assert c.commit() is False
            assert other.read(b"/py/a") == b"2"

        # watches
        m = c.monitor()
        m.watch(b"/py", b"tok")
        events = m.wait()
        assert next(events) == (b"/py", b"tok")
        with pyxs.Client(unix_socket_path=xsd.sock) as other:
            other.write(b"/py/b", b"9")
        assert next(events) == (b"/py/b", b"tok")
        m.unwatch(b"/py", b"tok")

        # pyxs allows RELEASE only where /proc/xen/capabilities says
        # control_d; this host has no /proc/xen, and the socket is dom0's.
        c.SU = True
        c.introduce_domain(3, 1234, 5)
        assert c.is_domain_introduced(3)
        c.release_domain(3)
        assert not c.is_domain_introduced(3)


# ---- C on Debian's libxenstore ----

def test_libxenstore_c_client(xsd):
    exe = HELPERS / "xs_libxenstore_client"
    if not exe.exists():
        pytest.skip("xs_libxenstore_client not built (libxen-dev missing)")
    r = xsd.run(str(exe), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "libxenstore: all checks passed" in r.stdout


# ---- the relay: a domain process and its guest ----

def test_relay_guest_confined(build):
    d = Daemon("--quota", "nodes=60", "--quota", "watches=4")
    try:
        r = d.run(str(HELPERS / "xs_relay_check"), d.sock, check=False, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr + d.logtext()
        assert "relay: all checks passed" in r.stdout
    finally:
        assert d.stop(), d.logtext()


def test_standard_tree_visible_to_utils(build):
    need("xenstore-ls")
    d = Daemon()
    try:
        r = d.run(str(HELPERS / "xs_relay_check"), d.sock, "--keep", check=False, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        ls = d.run("xenstore-ls", "-p", "/local/domain/5").stdout
        for key in ("name = \"guest5\"", "domid = \"5\"", "target = \"65536\"", "availability = \"online\"",
                    "ring-ref", "port", "shutdown", "feature", "data"):
            assert key in ls, ls
        assert "(n0,r5)" in ls and "(n5)" in ls and "(n5,r0)" in ls, ls
        vm = d.run("xenstore-read", "/local/domain/5/vm").stdout.strip()
        assert vm.startswith("/vm/") and d.run("xenstore-read", vm + "/name").stdout == "guest5\n"
    finally:
        assert d.stop(), d.logtext()
