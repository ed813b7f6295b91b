#!/usr/bin/env python3
"""Soak test of the toolstack (issue 16, part 3): domains of the test guest
created, their consoles read, disks and NICs attached and detached, paused,
shut down and destroyed, in a loop, for a bounded time; xenkvmd is killed
with SIGKILL and restarted (by the next CLI command, as in use) twice during
the run, while domains with devices are up.

After every round it checks that no domain was lost or duplicated (the list
holds exactly the domains it made, each once, with distinct ids; at the end of
a round none), that every process is accounted for (no domain process, storage
daemon or tap left once its domain is gone; one xenkvmd), and that xenstore
holds only live domains (/local/domain, /vm, the backend directories). It
samples xenkvmd's file descriptors and resident size at the end of each round
and, at the end, wants them flat within each daemon's life: the same number of
descriptors, and a resident size that grows by less than RSS_SLACK_KIB from
its second round to its last.

    tests/soak.py [--seconds 60] [--domains 3] [--build DIR] [--kills 2]

CI runs it for about a minute (tests/test_soak.py); run it longer by hand.
Exit status 0 if every check passed. The figures go to stdout, one line per
round and a summary (SOAK ...)."""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RSS_SLACK_KIB = 1024


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Soak:
    def __init__(self, build, domains, verbose):
        self.build = build
        self.xenkvm = os.path.join(build, "src", "cli", "xenkvm")
        self.xtest = os.path.join(build, "guest", "xtest")
        self.ndom = domains
        self.verbose = verbose
        self.dir = tempfile.mkdtemp(prefix="xksoak")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_dir = os.path.join(self.dir, "log")
        self.env = dict(os.environ, XENKVM_RUNDIR=self.run_dir,
                        XENKVM_STATEDIR=os.path.join(self.dir, "state"),
                        XENKVM_LOGDIR=self.log_dir,
                        XENSTORED_PATH=os.path.join(self.run_dir, "xenstored.sock"))
        self.bridge = None
        if os.geteuid() == 0 and os.path.exists("/dev/net/tun"):
            self.bridge = f"xksoak{os.getpid() % 10000}"
            subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True)
            subprocess.run(["ip", "link", "set", self.bridge, "up"], check=True)
        self.qcow2 = shutil.which("qemu-img") and shutil.which("qemu-storage-daemon")
        self.samples = []          # (round, daemon pid, fds, rss KiB)
        self.ops = 0
        self.created = 0
        self.domids = set()

    # ---- helpers ----

    def xk(self, *args, ok=True, timeout=60):
        r = subprocess.run([self.xenkvm, *args], env=self.env, capture_output=True, text=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
        self.ops += 1
        check("Sanitizer" not in r.stderr, f"xenkvm {' '.join(args)}: sanitizer report\n{r.stderr}")
        if ok:
            check(r.returncode == 0, f"xenkvm {' '.join(args)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def xs(self, tool, *args):
        r = subprocess.run([tool, *args], env=self.env, capture_output=True, text=True, timeout=10)
        return r.stdout.split() if r.returncode == 0 else None

    def domains(self):
        """name -> domid, from `xenkvm list` (Domain-0 left out)."""
        out = {}
        for line in self.xk("list").stdout.splitlines()[2:]:
            f = line.split()
            check(f[0] not in out, f"domain {f[0]} listed twice")
            out[f[0]] = int(f[1])
        return out

    def pids(self, needle, prog):
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    cmd = f.read()
                with open(f"/proc/{p}/stat") as f:
                    zombie = f.read().split(")")[-1].split()[0] == "Z"
            except OSError:
                continue
            if not zombie and needle.encode() in cmd and prog.encode() in cmd.split(b"\0")[0]:
                out.append(int(p))
        return out

    def daemon_pids(self):
        return self.pids(os.path.join(self.run_dir, "xenstored.sock"), "xenkvmd")

    def sample(self, rnd):
        (pid,) = self.daemon_pids() or (None,)
        check(pid, "no xenkvmd running")
        # at rest: the fewest over a second (a domain's exit or a client's
        # connection being handled at that moment holds one for a while; a
        # leak stays)
        fds = None
        for _ in range(10):
            n = len(os.listdir(f"/proc/{pid}/fd"))
            fds = n if fds is None else min(fds, n)
            if fds <= min((f for _, p, f, _ in self.samples if p == pid), default=0):
                break
            time.sleep(0.1)
        with open(f"/proc/{pid}/status") as f:
            rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        self.samples.append((rnd, pid, fds, rss))
        return pid, fds, rss

    def image(self, name, fmt="raw"):
        p = os.path.join(self.dir, f"{name}.{fmt}")
        if not os.path.exists(p):
            if fmt == "raw":
                with open(p, "wb") as f:
                    f.truncate(4 << 20)
            else:
                subprocess.run(["qemu-img", "create", "-q", "-f", fmt, p, "4M"], check=True)
        return p

    def cfg(self, name, rnd, j):
        lines = [f'name = "{name}"', 'type = "pvh"', f'kernel = "{self.xtest}"',
                 'extra = "idle"', "memory = 32", 'on_crash = "preserve"']
        if j % 2 == 0:
            lines.append(f'disk = ["{self.image(f"cfg{j}")},raw,xvda,rw"]')
        if self.bridge and j % 3 == 1:
            lines.append(f'vif = ["bridge={self.bridge}"]')
        path = os.path.join(self.dir, f"{name}.cfg")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def read_console(self, name):
        """`xenkvm console NAME` until the guest's next tick."""
        p = subprocess.Popen([self.xenkvm, "console", name], env=self.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.ops += 1
        try:
            seen, end = b"", time.time() + 20
            while time.time() < end and not re.search(rb"idle: tick \d+\r?\n.*idle: tick", seen, re.S):
                chunk = os.read(p.stdout.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
            check(b"idle: tick" in seen, f"console of {name}: no ticks in {seen[-300:]!r}")
        finally:
            p.kill()
            p.wait()

    def kill_daemon(self):
        pids = self.daemon_pids()
        check(len(pids) == 1, f"xenkvmd processes: {pids}")
        os.kill(pids[0], signal.SIGKILL)
        end = time.time() + 10
        while time.time() < end and self.daemon_pids():
            time.sleep(0.05)
        check(not self.daemon_pids(), "xenkvmd survived SIGKILL")
        print(f"  xenkvmd {pids[0]} killed with SIGKILL", flush=True)

    # ---- one round ----

    def round(self, rnd, kill_now):
        names = [f"s{rnd}-{j}" for j in range(self.ndom)]
        for j, n in enumerate(names):
            self.xk("create", "-q", self.cfg(n, rnd, j))
            self.created += 1
        doms = self.domains()
        check(sorted(doms) == sorted(names), f"listed {sorted(doms)}, made {names}")
        check(len(set(doms.values())) == len(doms), f"duplicate domain ids: {doms}")
        self.domids |= set(doms.values())
        for n in names:
            self.read_console(n)
        # Hot-plug: a disk on every domain (a qcow2 image through
        # qemu-storage-daemon on one), a NIC on one.
        for j, n in enumerate(names):
            fmt = "qcow2" if self.qcow2 and j == 1 else "raw"
            self.xk("block-attach", n, f"{self.image(f'hp{j}', fmt)},{fmt},xvdb,rw")
            rows = self.xk("block-list", n).stdout.splitlines()[1:]
            check(any(r.split()[0] == "51728" for r in rows), f"{n}: xvdb not listed: {rows}")
        if self.bridge:
            self.xk("network-attach", names[0], f"bridge={self.bridge}")
        survivors = set()
        if kill_now:
            # Domains with devices are up: xenkvmd goes, the next command
            # starts it again and it re-adopts them.
            self.kill_daemon()
            survivors = set(names)
            doms = self.domains()
            check(sorted(doms) == sorted(names), f"after the restart: {sorted(doms)}, made {names}")
            check(len(self.daemon_pids()) == 1, "xenkvmd not restarted once")
            # The domain processes rewrite their trees and devices within a second.
            end = time.time() + 15
            while time.time() < end and any(
                    self.xs("xenstore-read", f"/local/domain/0/backend/vbd/{doms[n]}/51728/state") is None
                    for n in names):
                time.sleep(0.2)
        for j, n in enumerate(names):
            self.xk("block-detach", n, "xvdb")
        if self.bridge:
            self.xk("network-detach", names[0], "0")
        self.xk("pause", names[-1])
        self.xk("unpause", names[-1])
        # Shut down the even ones, destroy the others. A guest that lived
        # through a daemon restart lost its xenstore watches (docs/toolstack.md):
        # it cannot hear a shutdown request, so it is destroyed.
        for j, n in enumerate(names):
            if j % 2 == 0 and n not in survivors:
                self.xk("shutdown", "-w", n, timeout=60)
            else:
                self.xk("destroy", n)
        self.settle()

    # ---- what must hold after each round ----

    def settle(self):
        end = time.time() + 10
        while time.time() < end:
            try:
                self.assert_clean()
                return
            except Failure:
                time.sleep(0.2)
        self.assert_clean()

    def assert_clean(self):
        doms = self.domains()
        check(not doms, f"domains left: {doms}")
        left = self.pids(self.run_dir, "xenkvm")
        left = [p for p in left if p not in self.daemon_pids()]
        check(not left, f"domain processes left: {left}")
        check(not self.pids(self.dir, "qemu-storage-daemon"), "qemu-storage-daemon left")
        check(len(self.daemon_pids()) == 1, f"xenkvmd processes: {self.daemon_pids()}")
        taps = [n for n in os.listdir("/sys/class/net")
                if any(n.startswith(f"vif{d}.") for d in self.domids)]
        check(not taps, f"taps left: {taps}")
        local = self.xs("xenstore-list", "/local/domain")
        check(local == ["0"], f"/local/domain holds {local}")
        vm = self.xs("xenstore-list", "/vm")
        check(not vm, f"/vm holds {vm}")
        be = self.xs("xenstore-list", "/local/domain/0/backend")
        check(not be, f"/local/domain/0/backend holds {be}")
        socks = [f for f in os.listdir(self.run_dir) if f.startswith("dom-")]
        check(not socks, f"control sockets left: {socks}")

    def assert_flat(self):
        by_pid = {}
        for rnd, pid, fds, rss in self.samples:
            by_pid.setdefault(pid, []).append((rnd, fds, rss))
        for pid, s in by_pid.items():
            if len(s) < 3:
                continue
            # the first round of a daemon's life opens what it keeps open
            fds = {f for _, f, _ in s[1:]}
            check(len(fds) == 1, f"xenkvmd {pid}: descriptors not flat: {[f for _, f, _ in s]}")
            growth = s[-1][2] - s[1][2]
            check(growth < RSS_SLACK_KIB,
                  f"xenkvmd {pid}: resident size grew {growth} KiB: {[r for _, _, r in s]}")

    def close(self):
        try:
            if os.path.exists(os.path.join(self.run_dir, "xenkvmd.sock")):
                for n in self.domains():
                    self.xk("destroy", n, ok=False)
        except Exception:
            pass
        for pid in self.daemon_pids():
            os.kill(pid, signal.SIGTERM)
        for pid in self.pids(self.dir, ""):
            os.kill(pid, signal.SIGKILL)
        if self.bridge:
            subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        log = ""
        try:
            with open(os.path.join(self.log_dir, "xenkvmd.log")) as f:
                log = f.read()
        except OSError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        return log


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--domains", type=int, default=3)
    ap.add_argument("--kills", type=int, default=2)
    ap.add_argument("--build", default=os.environ.get("XENKVM_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()
    s = Soak(os.path.abspath(a.build), a.domains, a.verbose)
    t0 = time.time()
    kill_at = [t0 + a.seconds * (k + 1) / (a.kills + 1) for k in range(a.kills)]
    kills, rnd, ok = 0, 0, False
    log = ""
    try:
        s.xk("list")                      # starts xenkvmd
        print(f"soak: {a.seconds:.0f} s, {a.domains} domains a round, build {a.build}, "
              f"NICs {'on ' + s.bridge if s.bridge else 'off (not root)'}, "
              f"qcow2 {'on' if s.qcow2 else 'off'}", flush=True)
        print("round  secs  daemon    fds  rss_KiB  domains_made  ops", flush=True)
        while time.time() - t0 < a.seconds or kills < a.kills:
            rnd += 1
            kill_now = kills < a.kills and time.time() >= kill_at[kills]
            s.round(rnd, kill_now)
            kills += kill_now
            pid, fds, rss = s.sample(rnd)
            print(f"{rnd:5d} {time.time() - t0:5.0f} {pid:7d} {fds:6d} {rss:8d} {s.created:13d} "
                  f"{s.ops:4d}{'  (daemon killed this round)' if kill_now else ''}", flush=True)
        s.assert_flat()
        ok = True
    except Failure as e:
        print(f"SOAK FAIL round {rnd}: {e}", flush=True)
    finally:
        log = s.close()
    pids = sorted({p for _, p, _, _ in s.samples})
    print(f"SOAK {'PASS' if ok else 'FAIL'} rounds={rnd} domains={s.created} ops={s.ops} "
          f"daemon_kills={kills} daemons={len(pids)} seconds={time.time() - t0:.0f}")
    for pid in pids:
        fds = [f for _, p, f, _ in s.samples if p == pid]
        rss = [r for _, p, _, r in s.samples if p == pid]
        print(f"SOAK xenkvmd {pid}: rounds={len(fds)} fds={fds[0]}..{fds[-1]} "
              f"(min {min(fds)} max {max(fds)}) rss_kib={rss[0]}..{rss[-1]} (max {max(rss)})")
    if "Sanitizer" in log:
        print("SOAK FAIL: sanitizer report in xenkvmd's log:\n" + log[-3000:])
        ok = False
    if not ok and log:
        print("--- xenkvmd log (end) ---\n" + log[-4000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
