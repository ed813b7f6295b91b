"""PV guests through Xen's PV shim, and guests that boot from their own disk, on this host.

A PV kernel runs in ring 3 under the shim, which this host's KVM cannot run: here Debian's
xen-shim is run with GRUB's PV image (grub-x86_64-xen.bin, a small PV kernel) up to the
point where it has built its guest. Linux as a PV guest (the shim all the way, blkfront,
netfront, pygrub and pvgrub2 of a Debian kernel) is tested in the rig (test_rig.py,
linux-pv). pygrub itself runs here for real, booting the test guest (a PVH kernel) out of
an ext4 image; and the config mapping (type = "pv" and its spellings -> the shim) is
checked through `xenkvm create -n` and a domain created through the daemon."""
import os
import re
import select
import subprocess
import time

import pytest
from conftest import BUILD
from test_toolstack import Toolstack, wait_for

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
SHIM = "/usr/lib/xen-4.17/boot/xen-shim"
PVGRUB = "/usr/lib/grub-xen/grub-x86_64-xen.bin"
PYGRUB = "/usr/lib/xen-4.17/bin/pygrub"


def bootloader_leftovers(rundir):
    """What is in the run directory but the CPUID cache xenkvm run keeps there."""
    return [f for f in os.listdir(rundir) if f != "kvm-cpuid"]


def need(path, package):
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: install Debian's {package} (scripts/deps.sh)")


@pytest.fixture
def ts(build):
    t = Toolstack()
    yield t
    t.close()


def run(*args, timeout=60, env=None):
    r = subprocess.run([str(XENKVM), "run", *args], capture_output=True, text=True,
                       timeout=timeout, stdin=subprocess.DEVNULL, env=env)
    assert "Sanitizer" not in r.stderr, r.stderr
    return r


def shim_output(until, timeout):
    """Debian's xen-shim started by `xenkvm run --pv` with GRUB's PV image as the PV
    kernel, its output until a line holding `until` (then it is killed)."""
    need(SHIM, "xen-utils-4.17")
    need(PVGRUB, "grub-xen-host")
    p = subprocess.Popen([str(XENKVM), "run", "--pv", "--kernel", PVGRUB, "--cmdline", "hello pv",
                          "--shim-extra", "loglvl=all", "--memory", "48", "--no-xenstore", "-v"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out = b""
    end = time.time() + timeout
    try:
        while time.time() < end and until.encode() not in out and p.poll() is None:
            if select.select([p.stdout], [], [], 1)[0]:
                out += os.read(p.stdout.fileno(), 65536)
    finally:
        p.kill()
        out += p.communicate(timeout=30)[0]
    text = out.decode(errors="replace")
    assert "Sanitizer" not in text, text[-4000:]
    assert "Panic" not in text, text[-4000:]
    return text


def test_shim_starts_with_its_modules(build, need_kvm):
    """Debian's xen-shim as xenkvm starts it for a PV kernel: its start info carries the
    PV kernel as module 0 with the guest's command line, its own command line is xl's
    default plus pvshim_extra, it runs its PVH entry, finds Xen below it and reads the
    memory map (a second or so: the whole shim runs emulated here)."""
    text = shim_output("PVH-e820 RAM map", 120)
    for want in ["Xen version 4.17", "nr_modules: 1", "mod[0].cmdline:    'hello pv'",
                 "cmdline:    'pv-shim console=xen,pv loglvl=all'", "Bootloader: PVH Directboot",
                 "Running on Xen", "PVH-e820 RAM map"]:
        assert want in text, f"{want!r} not in the shim's output:\n{text[-4000:]}"


@pytest.mark.skipif(not os.environ.get("XENKVM_SLOW_TESTS"),
                    reason="SKIPPED: set XENKVM_SLOW_TESTS=1 (about 90 s here: the shim's "
                           "whole start, emulated; the rig's linux-pv runs it to a Linux guest)")
def test_shim_builds_its_pv_guest(build, need_kvm):
    """The shim's whole start on this host: ACPI, its scheduler and time, and the PV
    guest (dom1) built from module 0, up to where it would enter it in ring 3."""
    text = shim_output("Dom1 has maximum", 600)
    for want in ["ACPI: APIC", "Platform timer is 1000.000MHz XEN PV CLOCK",
                 "*** Building a PV Dom1 ***", "Dom0 kernel: 64-bit, lsb", "ENTRY ADDRESS:",
                 "Dom1 has maximum 1 VCPUs"]:
        assert want in text, f"{want!r} not in the shim's output:\n{text[-4000:]}"


def test_pv_kernel_needs_pv(build):
    """A PV-only kernel given as a PVH kernel: the loader's refusal says to use --pv;
    --shim names a shim that is not there."""
    need(PVGRUB, "grub-xen-host")
    r = run("--kernel", PVGRUB, "--no-xenstore")
    assert r.returncode == 1
    assert "not a PVH kernel (a PV kernel? --pv runs it through Xen's PV shim)" in r.stderr, r.stderr
    r = run("--shim", "/nonexistent/xen-shim", "--kernel", PVGRUB, "--no-xenstore")
    assert r.returncode == 1
    assert "PV shim /nonexistent/xen-shim: No such file or directory" in r.stderr, r.stderr


def boot_image(tmp_path, cfg):
    """An ext4 image with the test guest in /boot and cfg as /boot/grub/grub.cfg."""
    root = tmp_path / "root"
    (root / "boot" / "grub").mkdir(parents=True)
    (root / "boot" / "xtest").write_bytes(XTEST.read_bytes())
    (root / "boot" / "grub" / "grub.cfg").write_text(cfg)
    img = tmp_path / "boot.img"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", "-d", str(root), str(img), "8M"], check=True)
    return img


GRUB_CFG = """set default=0
set timeout=1
insmod ext2
menuentry 'xtest hello' --class xtest {
\tlinux /boot/xtest hello
}
menuentry 'xtest version' {
\tlinux /boot/xtest version
}
"""


@pytest.fixture
def rundir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    return d


def test_pygrub_boots_the_disks_default_entry(build, need_kvm, tmp_path, rundir):
    """`xenkvm run --bootloader pygrub`: Xen's pygrub reads /boot/grub/grub.cfg from the
    first disk on a pty (its menu on the console, the 1 s timeout), the guest boots with
    the entry's kernel and command line, and pygrub's copies are removed."""
    need(PYGRUB, "xen-utils-4.17")
    img = boot_image(tmp_path, GRUB_CFG)
    ts = Toolstack()
    try:
        ts.xk("list")     # starts xenkvmd in its directories
        env = dict(ts.env, XENKVM_RUNDIR=str(rundir))
        sock = os.path.join(ts.run_dir, "xenstored.sock")
        r = run("-v", "--bootloader", "pygrub", "--disk", f"{img},raw,xvda,ro", "--xenstore", sock,
                env=env, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "pyGRUB  version 0.7" in r.stdout, r.stdout
        assert "xtest hello" in r.stdout and "Will boot selected entry in" in r.stdout, r.stdout
        assert "cmdline: 'hello'" in r.stdout and "RESULT PASS" in r.stdout, r.stdout
        assert re.search(r"bootloader: kernel \S+/bootloader\.1\.\w+/boot_kernel\.\w+, args 'hello'",
                         r.stderr), r.stderr
        # --bootloader-arg: pygrub's own options, here the second entry.
        r = run("--bootloader", "pygrub", "--bootloader-arg=--entry=1", "--disk", f"{img},raw,xvda,ro",
                "--xenstore", sock, env=env, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "ok XENVER_version is 4.17" in r.stdout, r.stdout
        # --cmdline is pygrub's --args: appended to the entry's line.
        r = run("--bootloader", "pygrub", "--cmdline", "extra-arg", "--disk", f"{img},raw,xvda,ro",
                "--xenstore", sock, env=env, timeout=120)
        assert "cmdline: 'hello extra-arg'" in r.stdout, r.stdout
    finally:
        ts.close()
    assert bootloader_leftovers(rundir) == [], "bootloader files left behind"


def test_bootloader_failures(build, tmp_path, rundir):
    """A disk pygrub finds no menu on, a bootloader that is not there, no disk: each
    a one-line error naming the bootloader, exit status 1, nothing left behind."""
    need(PYGRUB, "xen-utils-4.17")
    blank = tmp_path / "blank.img"
    subprocess.run(["mke2fs", "-q", "-t", "ext4", str(blank), "8M"], check=True)
    env = dict(os.environ, XENKVM_RUNDIR=str(rundir))
    r = run("--bootloader", "pygrub", "--disk", f"{blank},raw,xvda,ro", "--no-xenstore", env=env,
            timeout=120)
    assert r.returncode == 1
    assert re.search(r"error: bootloader /usr/lib/xen-4.17/bin/pygrub failed \(exit status 1\): .+",
                     r.stderr), r.stderr
    r = run("--bootloader", "/nonexistent/bootloader", "--disk", f"{blank},raw,xvda,ro",
            "--no-xenstore", env=env)
    assert r.returncode == 1
    assert "bootloader /nonexistent/bootloader failed (exit status 127): " \
           "/nonexistent/bootloader: No such file or directory" in r.stderr, r.stderr
    r = run("--bootloader", "pygrub", "--no-xenstore", env=env)
    assert r.returncode == 1
    assert "--bootloader pygrub needs a --disk to boot from" in r.stderr, r.stderr
    assert bootloader_leftovers(rundir) == [], "bootloader files left behind"


def dry_run(ts, name, text, *overrides, ok=True, suffix=".cfg"):
    path = os.path.join(ts.dir, name + suffix)
    with open(path, "w") as f:
        f.write(text)
    r = ts.xk("create", "-n", path, *overrides, ok=ok)
    return r if not ok else __import__("json").loads(r.stdout)


@pytest.mark.parametrize("name,text", [
    ("xl-pv", 'name = "g"\ntype = "pv"\n'),
    ("xm-no-type", 'name = "g"\n'),
    ("xm-builder-linux", 'name = "g"\nbuilder = "linux"\n'),
    ("xl-pvh-pvshim", 'name = "g"\ntype = "pvh"\npvshim = 1\n'),
])
def test_pv_configs_run_through_the_shim(ts, name, text):
    """xl's type = "pv", an xm file with no type or builder = "linux", and xl's own
    spelling type = "pvh" + pvshim = 1: a PV guest in a PVH container with Xen's shim,
    libxl's defaults filled in as `xl list -l` shows them."""
    c = dry_run(ts, name, text + f'kernel = "{XTEST}"\nextra = "root=/dev/xvda"\n')
    assert c["type"] == "pvh" and c["pvshim"] is True, c
    assert c["pvshim_path"] == SHIM and c["pvshim_cmdline"] == "pv-shim console=xen,pv", c
    assert c["cmdline"] == "root=/dev/xvda" and c["kernel"] == str(XTEST), c


def test_pvshim_keys_and_pvh(ts):
    c = dry_run(ts, "keys", f'name = "g"\ntype = "pv"\nkernel = "{XTEST}"\n'
                f'pvshim_path = "{XTEST}"\npvshim_cmdline = "pv-shim console=xen"\n'
                'pvshim_extra = "loglvl=all"\n')
    assert (c["pvshim_path"], c["pvshim_cmdline"], c["pvshim_extra"]) == \
        (str(XTEST), "pv-shim console=xen", "loglvl=all"), c
    c = dry_run(ts, "pvh", f'name = "g"\ntype = "pvh"\nkernel = "{XTEST}"\n')
    assert c["type"] == "pvh" and "pvshim" not in c, c
    r = dry_run(ts, "missing", f'name = "g"\ntype = "pv"\nkernel = "{XTEST}"\n'
                'pvshim_path = "/nonexistent/xen-shim"\n', ok=False)
    assert "missing.cfg: pvshim_path '/nonexistent/xen-shim': No such file or directory" in r.stderr, r.stderr


def test_libvirt_pv_xml_runs_through_the_shim(ts):
    """libvirt's Xen PV domain (<os><type>linux</type>) with a <bootloader>."""
    xml = f"""<domain type='xen'>
  <name>lv</name>
  <memory unit='KiB'>524288</memory>
  <vcpu>2</vcpu>
  <bootloader>pygrub</bootloader>
  <bootloader_args>-q --entry=1</bootloader_args>
  <os><type arch='x86_64' machine='xenpv'>linux</type></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='/tmp/lv.img'/><target dev='xvda' bus='xen'/></disk>
  </devices>
</domain>
"""
    c = dry_run(ts, "lv", xml, suffix=".xml")
    assert c["type"] == "pvh" and c["pvshim"] is True, c
    assert c["bootloader"] == "pygrub" and c["bootloader_args"] == ["-q", "--entry=1"], c
    assert c["disks"] and "kernel" not in c, c


def test_create_with_pygrub_through_the_daemon(ts, need_kvm, tmp_path):
    """`xenkvm create` on an xl.cfg with bootloader = "pygrub" (a PVH guest here: this
    host cannot run PV): the daemon's domain process runs pygrub on the first disk and
    boots what it found; `list -l` shows the bootloader; the guest powers off."""
    need(PYGRUB, "xen-utils-4.17")
    img = boot_image(tmp_path, GRUB_CFG.replace("xtest hello", "xtest idle")
                     .replace("/boot/xtest hello", "/boot/xtest idle"))
    path = os.path.join(ts.dir, "pg.cfg")
    with open(path, "w") as f:
        f.write(f'name = "pg"\ntype = "pvh"\nbootloader = "pygrub"\nbootloader_args = ["-q"]\n'
                f'disk = [ "{img},raw,xvda,ro" ]\nextra = "from-xl-cfg"\nmemory = 32\n')
    ts.env["XENKVM_DOMAIN_VERBOSE"] = "1"     # the domain process's info lines in the log
    ts.xk("create", "-q", path, timeout=120)
    assert wait_for(lambda: "idle: tick" in ts.console_log("pg"), 60), ts.console_log("pg")
    # pygrub's own line on the console; what it chose in the daemon's log.
    assert "to parse /boot/grub/grub.cfg" in ts.console_log("pg"), ts.console_log("pg")
    assert re.search(r"bootloader: kernel \S+/boot_kernel\.\w+, args 'idle from-xl-cfg'",
                     ts.daemon_log()), ts.daemon_log()
    info = ts.info()[0]["config"]
    assert info["c_info"]["type"] == "pvh", info
    assert info["b_info"]["bootloader"] == "pygrub" and info["b_info"]["bootloader_args"] == ["-q"], info
    ts.xk("destroy", "pg")
    assert not [d for d in os.listdir(ts.run_dir) if d.startswith("bootloader.")]


def test_daemon_answers_while_a_bootloader_menu_waits(ts, need_kvm, tmp_path):
    """pygrub's menu with a long timeout waits at the console, as on Xen;
    meanwhile xenkvmd serves other requests: the domain is listed, paused, and a
    destroy ends it, the waiting create reporting why."""
    need(PYGRUB, "xen-utils-4.17")
    img = boot_image(tmp_path, GRUB_CFG.replace("set timeout=1", "set timeout=300"))
    path = os.path.join(ts.dir, "menu.cfg")
    with open(path, "w") as f:
        f.write(f'name = "menu"\ntype = "pvh"\nbootloader = "pygrub"\n'
                f'disk = [ "{img},raw,xvda,ro" ]\nmemory = 32\n')
    ts.domains()                           # the daemon runs before the create
    create = subprocess.Popen([str(XENKVM), "create", path], env=ts.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: "menu" in ts.domains() or create.poll() is not None, 30)
        assert create.poll() is None, create.communicate()
        time.sleep(2)                      # pygrub has drawn its menu and waits
        assert create.poll() is None
        assert ts.domains()["menu"][1] == "--p---", ts.domains()
        ts.xk("destroy", "menu")
        assert "menu" not in ts.domains()
    finally:
        out, err = create.communicate(timeout=60)
    assert create.returncode != 0 and "destroyed while it started" in err, err
