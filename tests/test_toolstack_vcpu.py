"""vCPUs, scheduling, triggers and the `xl` name, end to end with xtest
guests on this host's KVM: vcpu-set through cpu/N/availability (read back
with Debian's xenstore-read), vcpu-pin and cpus= on the vCPU threads (read
back from /proc), sched-credit on a cgroup (the systemd path against a
stand-in manager on a private D-Bus; the cgroup filesystem path is checked
in the rig, where cgroup v2 has its controllers), trigger nmi (the guest
counts the NMIs it takes), max_grant_frames / max_event_channels as the
guest meets them, and xl's messages and exit codes."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import BUILD
from test_toolstack import Toolstack, wait_for, ts  # noqa: F401  (ts: the fixture)

XENKVM = BUILD / "src" / "cli" / "xenkvm"


def xl(ts, *args, ok=True):
    """The CLI under the name xl (a link, as installed where Xen's xl is absent)."""
    link = os.path.join(ts.dir, "xl")
    if not os.path.exists(link):
        os.symlink(XENKVM, link)
    r = subprocess.run([link, *args], env=ts.env, capture_output=True, text=True, timeout=30)
    assert "Sanitizer" not in r.stderr, r.stderr
    if ok is not None:
        assert (r.returncode == 0) == ok, f"xl {' '.join(args)}: {r.returncode}\n{r.stdout}{r.stderr}"
    return r


def domid(ts, name):
    return ts.domains()[name][0]


def domain_pid(ts, name):
    (d,) = [x for x in ts.info() if x["config"]["c_info"]["name"] == name]
    return d["xenkvm"]["pid"]


def thread_cpus(pid):
    """Cpus_allowed_list of every thread of a process (not KVM's own kernel
    workers, which it counts among the process's tasks)."""
    out = []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{t}/comm") as f:
                if f.read().startswith("kvm-"):
                    continue
            with open(f"/proc/{pid}/task/{t}/status") as f:
                out.append(re.search(r"Cpus_allowed_list:\s*(\S+)", f.read()).group(1))
        except OSError:
            pass        # a thread that ended meanwhile
    return out


def host_cpus():
    return os.cpu_count()


# ---- without guests ----

def test_xl_name_messages_and_exit_codes(ts):
    r = xl(ts, ok=False)
    assert r.returncode == 1 and r.stderr.startswith("usage: xl [-c URI] COMMAND")
    r = xl(ts, "frobnicate", ok=False)
    assert r.returncode == 1 and r.stderr == "command not implemented\n"
    r = xl(ts, "vcpu-set", "x", ok=False)
    assert r.returncode == 2
    assert r.stderr.startswith("'xl vcpu-set' requires at least 2 arguments.\n\nusage: xl vcpu-set")
    r = xl(ts, "list", "nosuch", ok=False)
    assert r.returncode == 1 and "nosuch is an invalid domain identifier (rc=-6)" in r.stderr
    r = xl(ts, "-v", "help", "vcpu-pin")
    assert r.stdout.startswith("usage: xl vcpu-pin [-f] DOMAIN VCPU|all HARD [SOFT]")
    r = xl(ts, "trigger", "0", "frob", ok=False)
    assert r.stderr == 'Invalid trigger "frob"\n'
    # Under its own name the CLI keeps its messages.
    r = ts.xk("list", "nosuch", ok=False)
    assert "xenkvm: error: domain 'nosuch' does not exist" in r.stderr


def test_info_numa_list_verbose_uptime_short(ts):
    out = ts.xk("info", "-n").stdout
    assert "cpu_topology           :\ncpu:    core    socket     node\n" in out
    assert re.search(r"^  0:\s+\d+\s+\d+\s+\d+$", out, re.M), out
    assert "device topology        :\ndevice           node\n" in out
    assert re.search(r"numa_info              :\nnode:    memsize    memfree    distances\n"
                     r"   0:\s+\d+\s+\d+\s+10", out), out
    assert out.index("free_cpus") < out.index("cpu_topology") < out.index("xen_major")
    assert ts.xk("info", "xen_major").stdout == "4\n"
    head = ts.xk("list", "-v").stdout.splitlines()[0]
    assert head.endswith("   UUID                            Reason-Code\tSecurity Label")
    line = ts.xk("uptime", "-s").stdout.splitlines()[0]
    assert re.fullmatch(r" \d\d:\d\d:\d\d up (\d+ days?, )? ?\d+:\d\d, Domain-0 \(0\)", line), line


def test_sched_credit_host_and_usage(ts):
    out = ts.xk("sched-credit").stdout.splitlines()
    assert out[0] == "Cpupool Pool-0: [sched params unavailable]"
    assert out[1] == f"{'Name':<33} {'ID':>4} {'Weight':>6} {'Cap':>4}"
    assert out[2].split() == ["Domain-0", "0", "256", "0"]
    r = ts.xk("sched-credit", "-w", "3", ok=False)
    assert r.stderr == "Must specify a domain.\n"
    r = ts.xk("sched-credit2", "-s", "-d", "x", ok=False)
    assert "not allowed with domain options" in r.stderr
    assert ts.xk("sched-credit2", "-s").stdout == "Cpupool Pool-0: [sched params unavailable]\n"


# ---- with guests ----

def test_vcpu_set_writes_availability(ts, need_kvm):
    ts.create("v1", vcpus=1, maxvcpus=3)
    d = domid(ts, "v1")
    avail = lambda: [ts.xs_read(f"/local/domain/{d}/cpu/{i}/availability") for i in range(3)]
    assert avail() == ["online", "offline", "offline"]
    (info,) = ts.info()
    assert info["config"]["b_info"]["max_vcpus"] == 3
    assert info["config"]["b_info"]["avail_vcpus"] == [0]
    ts.xk("vcpu-set", "v1", "2")
    assert avail() == ["online", "online", "offline"]
    assert ts.info()[0]["config"]["b_info"]["avail_vcpus"] == [0, 1]
    r = ts.xk("vcpu-set", "-i", "v1", "4", ok=False)
    assert "Requested 4 VCPUs, however maxcpus is 3!" in r.stderr
    assert f"libxl_set_vcpuonline failed domid={d} max_vcpus=4, rc: -3" in r.stderr
    if host_cpus() < 16:
        r = ts.xk("vcpu-set", "v1", "16", ok=False)
        assert "You are overcommmitting!" in r.stderr
    assert ts.xk("vcpu-set", "v1", "x", ok=False).stderr == "Error: Invalid argument.\n"
    assert avail() == ["online", "online", "offline"]
    # A reset restarts the domain with the count vcpu-set left (libxl keeps
    # it in the domain's configuration).
    ts.xk("trigger", "v1", "reset")
    assert wait_for(lambda: ts.domains().get("v1", (d,))[0] != d, 30)
    d2 = domid(ts, "v1")
    assert [ts.xs_read(f"/local/domain/{d2}/cpu/{i}/availability") for i in range(3)] == \
        ["online", "online", "offline"]


def test_xm_vcpu_avail_honoured(ts, need_kvm):
    ts.create("v2", vcpus=4, vcpu_avail=5)
    d = domid(ts, "v2")
    assert [ts.xs_read(f"/local/domain/{d}/cpu/{i}/availability") for i in range(4)] == \
        ["online", "offline", "online", "offline"]


def test_vcpu_pin_and_cpus_on_threads(ts, need_kvm):
    last = host_cpus() - 1
    ts.create("p1", vcpus=2, cpus="0", cpus_soft="all")
    pid = domain_pid(ts, "p1")
    # Two vCPU threads pinned to CPU 0; the process's other threads anywhere.
    assert thread_cpus(pid).count("0") == 2, thread_cpus(pid)
    rows = [l.split() for l in ts.xk("vcpu-list", "p1").stdout.splitlines()[1:]]
    assert [r[-3:] for r in rows] == [["0", "/", "all"]] * 2
    ts.xk("vcpu-pin", "p1", "1", str(last))
    assert thread_cpus(pid).count(str(last)) == (1 if last else 2), thread_cpus(pid)
    assert ts.xk("vcpu-list", "p1").stdout.splitlines()[2].split()[-3] == str(last)
    ts.xk("vcpu-pin", "p1", "all", "all", "-")
    assert set(thread_cpus(pid)) == {f"0-{last}" if last else "0"}, thread_cpus(pid)
    assert all(r.split()[-3:] == ["all", "/", "all"]
               for r in ts.xk("vcpu-list", "p1").stdout.splitlines()[1:])
    r = ts.xk("vcpu-pin", "p1", "0", "1-", ok=False)
    assert "Invalid argument 1- as cpu range" in r.stderr
    r = ts.xk("vcpu-pin", "p1", "0", "1000", ok=False)
    assert "'1000' has no CPU of this host" in r.stderr and "Could not set affinity for vcpu `0'." in r.stderr
    r = ts.xk("vcpu-pin", "p1", "7", "0", ok=False)
    assert "vcpu 7: the domain has 2 vCPUs" in r.stderr
    r = ts.xk("vcpu-pin", "-f", "p1", "all", "0", ok=False)
    assert r.stderr == "Error: --force and 'all' as VCPU not allowed.\n"


def test_trigger_nmi_reaches_the_guest(ts, need_kvm):
    ts.create("t1")
    assert wait_for(lambda: ts.ticks("t1") >= 1, 15)
    ts.xk("trigger", "t1", "nmi")
    assert wait_for(lambda: "idle: NMI count 1" in ts.console_log("t1"), 10)
    xl(ts, "trigger", "t1", "nmi", "0")
    assert wait_for(lambda: "idle: NMI count 2" in ts.console_log("t1"), 10)
    r = ts.xk("trigger", "t1", "nmi", "5", ok=False)
    assert "vcpu 5: no such vCPU" in r.stderr
    # power/sleep: no ACPI button device in a PVH domain (see docs/toolstack.md):
    # xenkvm fails; xl reports it and exits 0, as xl does for a failed trigger.
    r = ts.xk("trigger", "t1", "sleep", ok=False)
    assert "trigger 'sleep'" in r.stderr
    assert "trigger 'sleep'" in xl(ts, "trigger", "t1", "sleep").stderr
    assert ts.domains()["t1"][1] != "---s--"


def test_console_types(ts, need_kvm):
    ts.create("c1")
    r = xl(ts, "console", "-t", "serial", "c1", ok=False)
    assert r.stderr.endswith("Unable to attach console\n") and "PV console 0 only" in r.stderr
    r = xl(ts, "console", "-t", "vga", "c1", ok=False)
    assert r.stderr == "console type supported are: pv, serial, vuart\n"


def test_grant_and_event_channel_limits(ts, need_kvm):
    ts.create("l1", "limits", max_grant_frames=8, max_event_channels=63)
    assert wait_for(lambda: "RESULT" in ts.console_log("l1"), 15)
    log = ts.console_log("l1")
    assert "limits: max_nr_frames 8" in log and "limits: highest port 63, then -ENOSPC" in log
    assert "RESULT PASS" in log, log
    r = ts.xk("create", "-q", ts.cfg("l2", "limits", max_grant_frames=128), ok=False)
    assert "--max-grant-frames: '128' is not a number in 1..64" in r.stderr


def test_sched_without_cgroups_is_a_clear_error(ts, need_kvm):
    ts.env["XENKVM_CGROUP"] = "none"
    ts.create("s1")
    r = ts.xk("sched-credit", "-d", "s1", "-w", "512", ok=False)
    assert "has no cgroup to weigh or cap" in r.stderr
    assert r.stderr.endswith("libxl_domain_sched_params_set failed.\n")
    r = ts.xk("create", "-q", ts.cfg("s2", "idle", cap=50), ok=False)
    assert "cpu_weight/cap need cgroups" in r.stderr
    out = ts.xk("sched-credit", "-d", "s1").stdout.splitlines()
    assert out[1].split() == ["s1", str(domid(ts, "s1")), "256", "0"]
    top = ts.xk("top", "-b", "-d", "0.1").stdout.splitlines()
    assert top[0].split()[-2:] == ["IO_RD(k)", "IO_WR(k)"] and top[1].split()[-2:] == ["n/a", "n/a"]


@pytest.fixture
def fake_systemd(ts):
    """A private bus with the stand-in manager; the registry told to use it."""
    sock = os.path.join(ts.dir, "bus.sock")
    addr = f"unix:path={sock}"
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--address={addr}",
                            "--print-address"], stdout=subprocess.PIPE, text=True)
    bus.stdout.readline()
    calls = os.path.join(ts.dir, "calls.jsonl")
    mgr = subprocess.Popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                                              "fake_systemd.py"), calls, addr],
                           stdout=subprocess.PIPE, text=True)
    assert mgr.stdout.readline().strip() == "ready"
    ts.env.update(XENKVM_CGROUP="systemd", DBUS_SYSTEM_BUS_ADDRESS=addr)
    yield lambda: [json.loads(l) for l in open(calls)] if os.path.exists(calls) else []
    mgr.kill()
    bus.kill()
    mgr.wait()
    bus.wait()


def test_sched_credit_through_a_systemd_scope(ts, need_kvm, fake_systemd):
    ts.create("sd1", cpu_weight=512, cap=50)
    d = domid(ts, "sd1")
    (start,) = fake_systemd()
    assert start["method"] == "StartTransientUnit" and start["mode"] == "fail"
    assert start["name"] == f"xenkvm-dom{d}.scope"
    p = start["props"]
    assert p["PIDs"] == [domain_pid(ts, "sd1")] and p["Slice"] == "machine.slice"
    assert p["Delegate"] is True and p["MemoryAccounting"] is True and p["IOAccounting"] is True
    assert p["CPUWeight"] == 200 and p["CPUQuotaPerSecUSec"] == 500000   # 512/256*100, 50%
    ts.xk("sched-credit2", "-d", "sd1", "-w", "128", "-c", "0")
    setp = fake_systemd()[1]
    assert setp == {"method": "SetUnitProperties", "name": f"xenkvm-dom{d}.scope", "runtime": True,
                    "props": {"CPUWeight": 50, "CPUQuotaPerSecUSec": 2**64 - 1}}
    out = ts.xk("sched-credit", "-d", "sd1").stdout.splitlines()
    assert out[1].split() == ["sd1", str(d), "128", "0"]


def test_sched_credit_survives_save_and_restore(ts, need_kvm, fake_systemd):
    """The weight and cap set by sched-credit go into the domain's stored
    config, so a save (and a migration, which sends that config) carries
    them, as libxl's retrieved configuration does."""
    ts.create("sd2")
    ts.xk("sched-credit", "-d", "sd2", "-w", "512", "-c", "30")
    path = os.path.join(ts.dir, "sd2.save")
    ts.xk("save", "sd2", path)
    ts.xk("restore", path)
    out = ts.xk("sched-credit", "-d", "sd2").stdout.splitlines()
    assert out[1].split() == ["sd2", str(domid(ts, "sd2")), "512", "30"]
    start = [c for c in fake_systemd() if c["method"] == "StartTransientUnit"][-1]
    assert start["name"] == f"xenkvm-dom{domid(ts, 'sd2')}.scope"
    assert start["props"]["CPUWeight"] == 200 and start["props"]["CPUQuotaPerSecUSec"] == 300000
    ts.xk("sched-credit", "-d", "sd2", "-c", "0")        # the cap lifted: gone from the config
    ts.xk("save", "sd2", path)
    ts.xk("restore", path)
    assert ts.xk("sched-credit", "-d", "sd2").stdout.splitlines()[1].split()[2:] == ["512", "0"]
