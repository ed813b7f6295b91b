"""Remote control: `xenkvm -c ssh://[user@]host[:port] COMMAND` and
XENKVM_URI, against Debian's openssh-server on localhost with keys the test
makes. The "remote" toolstack's directories reach the remote CLI through
sshd's SetEnv only; the local CLI points at directories with no daemon, so
a command that worked ran on the far side."""
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD
from test_toolstack import Toolstack, XTEST, wait_for, ts  # noqa: F401  (ts: the fixture)

XENKVM = BUILD / "src" / "cli" / "xenkvm"
SSHD = "/usr/sbin/sshd"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sshd:
    def __init__(self, ts):
        self.dir = tempfile.mkdtemp(prefix="xkssh")
        d = self.dir
        for key in ("host", "client"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/{key}"],
                           check=True)
        shutil.copy(f"{d}/client.pub", f"{d}/authorized_keys")
        self.port = free_port()
        env = {k: v for k, v in ts.env.items() if k.startswith("XENKVM_") or k == "XENSTORED_PATH"}
        env["PATH"] = f"{XENKVM.parent}:/usr/sbin:/usr/bin:/sbin:/bin"
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            if k in os.environ:
                env[k] = os.environ[k]
        with open(f"{d}/sshd_config", "w") as f:
            f.write(f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {d}/host\n"
                    f"AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\n"
                    "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                    f"SetEnv {' '.join(f'{k}={v}' for k, v in env.items())}\n")
        with open(f"{d}/known_hosts", "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {open(f'{d}/host.pub').read().split(' ')[0]} "
                    f"{open(f'{d}/host.pub').read().split(' ')[1]}\n")
        with open(f"{d}/ssh_config", "w") as f:
            f.write(f"Host *\n  IdentityFile {d}/client\n  IdentitiesOnly yes\n"
                    f"  UserKnownHostsFile {d}/known_hosts\n  StrictHostKeyChecking yes\n"
                    "  BatchMode yes\n  LogLevel ERROR\n")
        os.makedirs("/run/sshd", exist_ok=True)    # sshd's privilege separation directory
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", f"{d}/sshd_config"],
                                     stderr=open(f"{d}/sshd.log", "w"))
        assert wait_for(lambda: self._listening(), 10), open(f"{d}/sshd.log").read()
        self.uri = f"ssh://root@127.0.0.1:{self.port}"
        # The local side: no daemon here (directories of its own).
        self.env = dict(os.environ, XENKVM_SSH=f"ssh -F {d}/ssh_config",
                        XENKVM_RUNDIR=f"{d}/local-run", XENKVM_STATEDIR=f"{d}/local-state",
                        XENKVM_LOGDIR=f"{d}/local-log")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def xk(self, *args, ok=True, uri=True, env=None, input=None, timeout=60):
        cmd = [str(XENKVM)] + (["-c", self.uri] if uri else []) + list(args)
        r = subprocess.run(cmd, env=env or self.env, capture_output=True, text=True,
                           timeout=timeout, input=input,
                           stdin=None if input is not None else subprocess.DEVNULL)
        assert "Sanitizer" not in r.stderr, r.stderr
        if ok is not None:
            assert (r.returncode == 0) == ok, f"{cmd}: {r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def sshd(ts):
    if os.geteuid() != 0 or not os.path.exists(SSHD):
        pytest.fail("remote control tests need root and openssh-server (scripts/deps.sh)")
    s = Sshd(ts)
    yield s
    s.close()


def test_remote_commands(ts, sshd):
    # The URI reaches the far side: its info and its (empty) domain list.
    r = sshd.xk("info", "xen_version")
    assert r.stdout == "4.17.0-xenkvm\n"
    r = sshd.xk("list")
    assert r.stdout.splitlines()[1].startswith("Domain-0")
    assert ts.daemon_pids(), "the remote xenkvmd was started in the remote directories"
    assert not os.path.exists(os.path.join(sshd.env["XENKVM_RUNDIR"], "xenkvmd.sock"))
    # Errors and exit status come back as the CLI prints them.
    r = sshd.xk("destroy", "nosuch", ok=False)
    assert r.returncode == 1 and r.stderr == "xenkvm: error: domain 'nosuch' does not exist\n"
    # A local config file is read here, its messages name it.
    bad = os.path.join(sshd.dir, "bad.cfg")
    with open(bad, "w") as f:
        f.write('name = "x"\nmemory = "lots"\n')
    r = sshd.xk("create", bad, ok=False)
    assert f"Parsing config from {bad}" in r.stderr and f"{bad}:2" in r.stderr, r.stderr
    # -c with a local URI, and no URI at all: this host (no daemon here yet).
    r = sshd.xk("-c", "xen:///system", "info", "xen_version", uri=False)
    assert r.stdout == "4.17.0-xenkvm\n"
    r = sshd.xk("-c", "ftp://x", "list", uri=False, ok=False)
    assert "connection URI 'ftp://x'" in r.stderr


def test_remote_guest_and_console(ts, sshd, need_kvm):
    cfg = os.path.join(sshd.dir, "r1.cfg")      # only on this side
    with open(cfg, "w") as f:
        f.write(f'name = "r1"\ntype = "pvh"\nkernel = "{XTEST}"\nextra = "echo"\nmemory = 32\n')
    r = sshd.xk("create", cfg, "memory=48")
    assert "Parsing config from " + cfg in r.stderr
    assert "r1" in ts.domains()                  # on the far side's daemon
    lst = sshd.xk("list", "-l").stdout
    assert '"target_memkb": 49152' in lst
    # XENKVM_URI, and the console both ways (input piped, as a script would).
    env = dict(sshd.env, XENKVM_URI=sshd.uri)
    p = subprocess.Popen([str(XENKVM), "console", "r1"], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2)
    p.stdin.write(b"over ssh\r")
    p.stdin.flush()
    assert wait_for(lambda: "echo: 'over ssh' (8 characters)" in ts.console_log("r1"), 20)
    sshd.xk("shutdown", "-w", "r1", env=env, uri=False)
    out, err = p.communicate(timeout=20)         # the console ends with the domain
    assert b"echo: 'over ssh' (8 characters)" in out, (out, err)
    assert "r1" not in ts.domains()
