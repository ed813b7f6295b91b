"""The toolstack end to end: `xenkvm` (the xl-like CLI) against xenkvmd's
registry, with xtest guests on this host's KVM. Each test gets its own run,
state and log directories (XENKVM_RUNDIR/STATEDIR/LOGDIR); the CLI starts
xenkvmd there by itself. Long-running guests run xtest's "idle" program,
which ticks every 500 ms and obeys control/shutdown."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from conftest import BUILD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"


def pids_with(needle):
    """Processes whose command line contains needle (ours, by their path)."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if needle.encode() in f.read():
                        out.append(int(p))
            except OSError:
                pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(cond, timeout=20, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(step)
    return cond()


class Toolstack:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="xk")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_dir = os.path.join(self.dir, "log")
        self.env = dict(os.environ, XENKVM_RUNDIR=self.run_dir,
                        XENKVM_STATEDIR=os.path.join(self.dir, "state"),
                        XENKVM_LOGDIR=self.log_dir,
                        XENSTORED_PATH=os.path.join(self.run_dir, "xenstored.sock"))

    def xk(self, *args, ok=True, timeout=30, stdin=subprocess.DEVNULL):
        r = subprocess.run([str(XENKVM), *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=stdin)
        assert "Sanitizer" not in r.stderr, r.stderr
        if ok is not None:
            assert (r.returncode == 0) == ok, f"xenkvm {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
        return r

    def cfg(self, name, program, **extra):
        path = os.path.join(self.dir, f"{name}.cfg")
        lines = [f'name = "{name}"', 'type = "pvh"', f'kernel = "{XTEST}"',
                 f'extra = "{program}"', "memory = 32"]
        lines += [f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in extra.items()]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def create(self, name, program="idle", *args, **extra):
        self.xk("create", "-q", self.cfg(name, program, **extra), *args)

    def domains(self):
        """name -> (domid, state) from `xenkvm list`."""
        out = {}
        for line in self.xk("list").stdout.splitlines()[2:]:
            f = line.split()
            out[f[0]] = (int(f[1]), f[4])
        return out

    def info(self):
        return json.loads(self.xk("list", "-l").stdout)

    def xs_read(self, path):
        r = subprocess.run(["xenstore-read", path], env=self.env, capture_output=True,
                           text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None

    def console_log(self, name):
        try:
            with open(os.path.join(self.log_dir, f"{name}.log")) as f:
                return f.read()
        except OSError:
            return ""

    def ticks(self, name):
        return len(re.findall(r"idle: tick \d+", self.console_log(name)))

    def daemon_pids(self):
        def is_daemon(p):
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    return b"xenkvmd" in f.read()
            except OSError:        # it ended meanwhile
                return False
        return [p for p in pids_with(os.path.join(self.run_dir, "xenstored.sock")) if is_daemon(p)]

    def daemon_log(self):
        try:
            with open(os.path.join(self.log_dir, "xenkvmd.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop_daemon(self):
        for pid in self.daemon_pids():
            os.kill(pid, signal.SIGTERM)
        assert wait_for(lambda: not self.daemon_pids(), 10)

    def close(self):
        if os.path.exists(os.path.join(self.run_dir, "xenkvmd.sock")):
            for name in self.domains():
                if name != "Domain-0":
                    self.xk("destroy", name, ok=None)
        self.stop_daemon()
        for pid in pids_with(self.run_dir):        # domain processes left behind
            os.kill(pid, signal.SIGKILL)
        log = self.daemon_log()
        shutil.rmtree(self.dir, ignore_errors=True)
        assert "Sanitizer" not in log, log


@pytest.fixture
def ts(build):
    t = Toolstack()
    yield t
    t.close()


# ---- without guests ----

def test_usage_and_errors(ts):
    r = ts.xk("frobnicate", ok=False)
    assert "unknown command 'frobnicate'" in r.stderr
    assert "create" in ts.xk("help").stdout
    assert "usage: xenkvm list" in ts.xk("list", "-h").stdout
    r = ts.xk("create", "-q", "/nonexistent.cfg", ok=False)
    assert "/nonexistent.cfg" in r.stderr and len(r.stderr.splitlines()) == 1
    bad = os.path.join(ts.dir, "bad.cfg")
    with open(bad, "w") as f:
        f.write('name = "x"\nmemory = "lots"\n')
    r = ts.xk("create", "-q", bad, ok=False)
    assert f"{bad}:2" in r.stderr and "memory" in r.stderr
    r = ts.xk("create", "-q", ts.cfg("nokernel", "idle"), 'kernel="/nonexistent/vmlinux"', ok=False)
    assert "/nonexistent/vmlinux" in r.stderr
    r = ts.xk("mem-set", "x", "12q", ok=False)
    assert "invalid memory size '12q'" in r.stderr
    r = ts.xk("destroy", "0", ok=False)
    assert "domain 0" in r.stderr


def test_daemon_started_by_cli_and_dom0(ts):
    assert not ts.daemon_pids()
    out = ts.xk("list").stdout.splitlines()
    assert out[0] == "Name                                        ID   Mem VCPUs\tState\tTime(s)"
    assert re.fullmatch(r"Domain-0 {33} {4}0 +\d+ +\d+     r-----  +\d+\.\d", out[1]), out[1]
    assert len(ts.daemon_pids()) == 1
    st = os.stat(os.path.join(ts.run_dir, "xenkvmd.sock"))
    assert st.st_mode & 0o777 == 0o600
    r = ts.xk("destroy", "nosuch", ok=False)
    assert "domain 'nosuch' does not exist" in r.stderr
    r = ts.xk("domid", "nosuch", ok=False)
    assert "nosuch" in r.stderr
    assert ts.xk("domid", "Domain-0").stdout == "0\n"
    assert ts.xk("domname", "0").stdout == "Domain-0\n"
    info = dict(re.match(r"(\w+)\s*: ?(.*)", l).groups() for l in ts.xk("info").stdout.splitlines())
    assert info["xen_major"] == "4" and info["xen_minor"] == "17"
    assert info["xen_extra"] == ".0-xenkvm" and info["nr_cpus"] == str(os.cpu_count())
    assert int(info["total_memory"]) > 0 and info["host"] == os.uname().nodename
    assert ts.xk("info", "xen_version").stdout == "4.17.0-xenkvm\n"
    for cmd in ("block-detach", "network-detach", "network-attach"):
        r = ts.xk(cmd, "nosuch", "bridge=x" if cmd == "network-attach" else "1", ok=False)
        assert "domain 'nosuch' does not exist" in r.stderr, r.stderr
    assert "usage: xenkvm block-detach [-f]" in ts.xk("block-detach", "x", ok=False).stderr


def test_dry_run_and_xml(ts):
    r = ts.xk("create", "-n", "-q", ts.cfg("dry", "idle"), "memory=48", 'on_crash="preserve"')
    cfg = json.loads(r.stdout)
    assert cfg["name"] == "dry" and cfg["memory"] == 48 and cfg["on_crash"] == "preserve"
    assert cfg["kernel"] == str(XTEST.resolve())


# ---- with guests ----

def test_create_list_console_destroy(ts, need_kvm):
    ts.create("g1")
    doms = ts.domains()
    domid, state = doms["g1"]
    assert state in ("-b----", "r-----")
    line = [l for l in ts.xk("list").stdout.splitlines() if l.startswith("g1 ")][0]
    assert line[:41] == "g1".ljust(41) and line[41:46] == f"{domid:5d}", line
    assert re.fullmatch(rf"g1 +{domid} +32 +1     [-rb]{{6}}  +\d+\.\d", line), line
    (d,) = [x for x in ts.info() if x["domid"] == domid]
    assert d["config"]["c_info"]["name"] == "g1"
    assert d["config"]["b_info"]["target_memkb"] == 32768
    assert d["config"]["on_reboot"] == "restart"
    assert ts.xk("domid", "g1").stdout == f"{domid}\n"
    assert ts.xk("domname", str(domid)).stdout == "g1\n"
    assert ts.xs_read(f"/local/domain/{domid}/name") == "g1"
    # The console: output so far, then live ticks.
    p = subprocess.Popen([str(XENKVM), "console", "g1"], env=ts.env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = b""
        end = time.time() + 15
        while b"idle: tick 3" not in seen and time.time() < end:
            seen += os.read(p.stdout.fileno(), 4096)
        assert b"idle: running" in seen and b"idle: tick 3" in seen, seen
    finally:
        p.kill()
        p.wait()
    assert "idle: running" in ts.console_log("g1")
    out = ts.xk("uptime").stdout.splitlines()
    assert out[0].split() == ["Name", "ID", "Uptime"]
    assert re.fullmatch(rf"g1 +{domid} +0:00:\d\d", out[-1]), out
    out = ts.xk("vcpu-list", "g1").stdout.splitlines()
    assert re.fullmatch(rf"g1 +{domid} +0 +\d+ +[-rb][-b]- +\d+\.\d  all / all", out[1]), out
    out = ts.xk("top", "-b", "-d", "0.2").stdout.splitlines()
    assert "CPU(%)" in out[0] and out[1].split()[0] == "g1"
    # The domain's counters: since it started in list -l, per second in top -x.
    stats = [x for x in ts.info() if x["domid"] == domid][0]["xenkvm"]["stats"]
    assert stats["hypercalls_total"] > 0 and stats["exits_total"] > 0, stats
    assert stats["hypercalls"]["sched_op"] > 0 and stats["ports"]["0x5e out"] > 0, stats
    assert stats["exits"]["wrmsr"] == 1, stats      # the hypercall page
    out = ts.xk("top", "-b", "-d", "0.5", "-x").stdout.splitlines()
    head = [n for n, l in enumerate(out) if l.split()[:2] == ["NAME", "EXITS/s"]]
    assert head, out
    row = out[head[0] + 1].split()
    assert row[0] == "g1" and all(re.fullmatch(r"\d+", v) for v in row[1:8]), out
    assert "domain %d (g1) started" % domid in ts.xk("dmesg").stdout
    pid = d["xenkvm"]["pid"]
    ts.xk("destroy", "g1")
    assert "g1" not in ts.domains()
    assert wait_for(lambda: not alive(pid), 5)
    assert ts.xs_read(f"/local/domain/{domid}/name") is None
    assert not os.path.exists(os.path.join(ts.run_dir, f"dom-{domid}.sock"))


def test_pause_unpause(ts, need_kvm):
    ts.create("p1")
    assert wait_for(lambda: ts.ticks("p1") >= 1, 15)
    ts.xk("pause", "p1")
    assert ts.domains()["p1"][1] == "--p---"
    time.sleep(0.7)
    n = ts.ticks("p1")
    time.sleep(1.5)
    assert ts.ticks("p1") == n, "ticks while paused"
    # xl: a paused domain's online vCPU is neither running nor blocked.
    assert ts.xk("vcpu-list", "p1").stdout.splitlines()[1].split()[4] == "---"
    ts.xk("unpause", "p1")
    assert wait_for(lambda: ts.ticks("p1") > n + 1, 10)
    assert ts.domains()["p1"][1] != "--p---"
    # create -p starts paused; destroy works on a paused domain.
    ts.create("p2", "idle", "-p")
    assert ts.domains()["p2"][1] == "--p---"
    time.sleep(1.5)
    assert ts.ticks("p2") == 0
    ts.xk("destroy", "p2")


def test_shutdown_and_reboot(ts, need_kvm):
    ts.create("s1")
    assert wait_for(lambda: ts.ticks("s1") >= 1, 15)
    domid = ts.domains()["s1"][0]
    r = ts.xk("reboot", "-w", "s1")
    assert f"Rebooting domain {domid}" in r.stderr
    new = wait_for(lambda: ts.domains().get("s1"), 15)
    assert new and new[0] != domid, "restarted with a new domid (on_reboot=restart)"
    assert "control/shutdown = reboot" in ts.console_log("s1")
    r = ts.xk("shutdown", "-w", "s1", timeout=60)
    assert "Shutting down domain" in r.stderr and "has been" in r.stderr
    assert "s1" not in ts.domains()
    assert "action destroy" in ts.daemon_log()


@pytest.mark.parametrize("program,key,action,expect", [
    ("shutdown reboot", "on_reboot", "restart", "restarted"),
    ("shutdown crash", "on_crash", "preserve", "preserved"),
    ("shutdown crash", "on_crash", "restart", "restarted"),
    ("shutdown crash", "on_crash", "rename-restart", "renamed"),
    ("shutdown poweroff", "on_poweroff", "destroy", "gone"),
    ("watchdog expire", "on_watchdog", "preserve", "preserved"),
])
def test_on_actions(ts, need_kvm, program, key, action, expect):
    ts.create("a1", program, **{key: action})
    first = ts.domains().get("a1", (None,))[0]
    if expect == "preserved":
        # xl's state letter and reason code: crash c / 3, watchdog w / 4.
        letter, code = ("w", 4) if key == "on_watchdog" else ("c", 3)
        assert wait_for(lambda: ts.domains().get("a1", (0, ""))[1] == f"---s{letter}-", 15)
        rows = [l for l in ts.xk("list", "-v").stdout.splitlines() if l.startswith("a1 ")]
        assert len(rows) == 1 and re.search(rf"---s{letter}- +\d+\.\d [-0-9a-f]{{36}} +{code} +-$",
                                            rows[0]), rows
        ts.xk("destroy", "a1")
        assert "a1" not in ts.domains()
    elif expect == "gone":
        assert wait_for(lambda: "a1" not in ts.domains(), 15)
        assert "action destroy" in ts.daemon_log()
    elif expect == "restarted":
        assert wait_for(lambda: "restarted as domain" in ts.daemon_log(), 20)
        ts.xk("destroy", "a1")      # running, or between two restarts
        assert wait_for(lambda: "a1" not in ts.domains(), 5)
    else:
        renamed = wait_for(lambda: [n for n in ts.domains() if n.startswith("a1-")], 20)
        assert renamed and re.fullmatch(r"a1-\d{8}T\d{4}Z(-\d+)?", renamed[0])
        assert ts.domains()[renamed[0]][1] == "---sc-"
        assert first is None or ts.domains()[renamed[0]][0] != 0
        for n in list(ts.domains()):
            if n != "Domain-0":
                ts.xk("destroy", n, ok=None)
        ts.xk("destroy", "a1", ok=None)


def test_rename_mem_sysrq(ts, need_kvm):
    ts.create("r1", "idle", maxmem=64)
    domid = ts.domains()["r1"][0]
    ts.xk("rename", "r1", "r2")
    assert ts.domains()["r2"][0] == domid and "r1" not in ts.domains()
    assert ts.xs_read(f"/local/domain/{domid}/name") == "r2"
    ts.create("r3")
    r = ts.xk("rename", "r2", "r3", ok=False)
    assert "already in use" in r.stderr
    def mem(name):   # `list`'s Mem column: what the guest holds
        return int([l for l in ts.xk("list").stdout.splitlines() if l.startswith(name + " ")][0].split()[2])

    assert mem("r2") == 32
    # The guest's balloon (xtest idle follows memory/target as Linux's driver
    # does) hands 8 MiB back; list shows what it holds.
    ts.xk("mem-set", "r2", "24m")
    assert ts.xs_read(f"/local/domain/{domid}/memory/target") == str(24 * 1024)
    assert wait_for(lambda: mem("r2") == 24), (mem("r2"), (ts.console_log("r1") + ts.console_log("r2"))[-500:])
    assert "idle: memory target 24576 KiB, holding 24576 KiB" in (ts.console_log("r1") + ts.console_log("r2"))
    r = ts.xk("mem-set", "r2", "128", ok=False)
    assert "maximum" in r.stderr
    ts.xk("mem-max", "r2", "256m")
    assert ts.xs_read(f"/local/domain/{domid}/memory/static-max") == str(256 * 1024)
    ts.xk("mem-set", "r2", "128")
    # Above its RAM (32 MiB) the guest takes every frame back.
    assert wait_for(lambda: mem("r2") == 32), (mem("r2"), (ts.console_log("r1") + ts.console_log("r2"))[-500:])
    ts.xk("sysrq", "r2", "h")
    assert ts.xs_read(f"/local/domain/{domid}/control/sysrq") == "h"


def test_define_start_undefine(ts, need_kvm):
    ts.xk("define", ts.cfg("d1", "idle"))
    ts.xk("autostart", "d1")
    out = ts.xk("list-defined").stdout
    assert re.search(r"^d1 +yes$", out, re.M), out
    assert "d1" not in ts.domains()
    ts.xk("start", "d1")
    assert "d1" in ts.domains()
    r = ts.xk("start", "d1", ok=False)
    assert "already in use" in r.stderr
    ts.xk("destroy", "d1")
    ts.xk("undefine", "d1")
    assert "d1" not in ts.xk("list-defined").stdout
    r = ts.xk("start", "d1", ok=False)
    assert "not defined" in r.stderr


def test_daemon_restart_readopts(ts, need_kvm):
    ts.create("k1")
    domid = ts.domains()["k1"][0]
    pid = [d for d in ts.info() if d["domid"] == domid][0]["xenkvm"]["pid"]
    ts.stop_daemon()
    time.sleep(0.5)
    assert alive(pid), "the domain outlives the daemon"
    assert ts.domains()["k1"][0] == domid        # the CLI restarts xenkvmd
    assert "re-adopted process %d" % pid in ts.daemon_log()
    # The domain process rewrites its tree and reconnects its ring.
    assert wait_for(lambda: ts.xs_read(f"/local/domain/{domid}/name") == "k1", 10)
    ts.xk("shutdown", "-w", "k1", timeout=60)
    assert "k1" not in ts.domains()
    assert wait_for(lambda: not alive(pid), 5)


def test_daemon_killed_with_a_request_in_flight(ts, need_kvm):
    """The guest's request that the daemon took but never answered (it was
    stopped, then killed) is sent again to the next daemon, so the guest gets
    its reply and stays usable; its watches are registered again too. The
    idle guest reads control/shutdown every 500 ms: with xenkvmd stopped for
    1.5 s one read is surely in flight when it dies."""
    ts.create("k2")
    domid = ts.domains()["k2"][0]
    pid = [d for d in ts.info() if d["domid"] == domid][0]["xenkvm"]["pid"]
    for p in ts.daemon_pids():
        os.kill(p, signal.SIGSTOP)
    time.sleep(1.5)
    for p in ts.daemon_pids():
        os.kill(p, signal.SIGKILL)
        os.kill(p, signal.SIGCONT)
    assert wait_for(lambda: not ts.daemon_pids(), 10)
    assert ts.domains()["k2"][0] == domid        # the CLI restarts xenkvmd
    assert wait_for(lambda: ts.xs_read(f"/local/domain/{domid}/name") == "k2", 10)
    ts.xk("shutdown", "-w", "k2", timeout=60)
    assert "k2" not in ts.domains()
    assert wait_for(lambda: not alive(pid), 5)


def test_exit_while_daemon_down(ts, need_kvm):
    """A domain process that dies while xenkvmd is away is handled when the
    daemon returns: no status file, so a crash, and on_crash applies."""
    ts.create("e1", "idle", on_crash="preserve")
    pid = ts.info()[0]["xenkvm"]["pid"]
    ts.stop_daemon()
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not alive(pid), 5)
    # The leader is a zombie before the other threads are gone; the pidfd says
    # "exited" (and the daemon acts) only once they are: the list may show the
    # domain running for that moment.
    assert wait_for(lambda: ts.domains()["e1"][1] == "---sc-", 10), ts.daemon_log()
    ts.xk("destroy", "e1")
    assert "e1" not in ts.domains()


def test_create_console_and_xml(ts, need_kvm):
    r = ts.xk("create", "-q", "-c", ts.cfg("c1", "hello"), timeout=60)
    assert "Hello from xtest" in r.stdout and "RESULT PASS" in r.stdout
    assert wait_for(lambda: "c1" not in ts.domains(), 10)
    # console_io and port 0xE9 reach the hypervisor's log (xenkvm dmesg), as
    # on Xen's `xl dmesg`, and not the console.
    dmesg = ts.xk("dmesg").stdout.splitlines()
    logged = [l.split(") ", 1)[1] for l in dmesg if re.match(r"\(d\d+\) ", l)]
    assert "Hello from xtest via console_io" in logged, dmesg
    assert "Hello from xtest via port 0xE9" in logged, dmesg
    assert "via console_io" not in r.stdout
    xml = os.path.join(ts.dir, "x1.xml")
    with open(xml, "w") as f:
        f.write(f"""<domain type='xen'>
  <name>x1</name>
  <memory unit='KiB'>32768</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenpvh'>xenpvh</type><kernel>{XTEST}</kernel>
      <cmdline>idle</cmdline></os>
  <on_crash>preserve</on_crash>
</domain>
""")
    ts.xk("create", "-q", xml)
    (d,) = [x for x in ts.info() if x["config"]["c_info"]["name"] == "x1"]
    assert d["config"]["on_crash"] == "preserve" and d["config"]["b_info"]["cmdline"] == "idle"
    out = ts.xk("block-list", "x1").stdout.splitlines()
    assert out[0].split()[:2] == ["Vdev", "BE"] and len(out) == 1
    # Hot-plug a disk: blkback announces it; block-list shows the frontend.
    img = os.path.join(ts.dir, "disk.raw")
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    ts.xk("block-attach", "x1", img, "raw", "xvdb", "rw")
    domid = ts.domains()["x1"][0]
    out = ts.xk("block-list", "x1").stdout.splitlines()
    assert len(out) == 2 and out[1].split()[0] == "51728", out
    assert ts.xs_read(f"/local/domain/0/backend/vbd/{domid}/51728/params") == img
    r = ts.xk("block-attach", "x1", f"{img},raw,xvdb,rw", ok=False)
    assert "already in use" in r.stderr
    (d,) = [x for x in ts.info() if x["domid"] == domid]
    assert d["config"]["disks"] == [{"spec": f"{img},raw,xvdb,rw"}]
    ts.xk("destroy", "x1")
