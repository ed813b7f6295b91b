"""Debian's GRUB PVH image (grub-xen-host: /usr/lib/grub-xen/grub-i386-xen_pvh.bin),
a 32-bit guest nobody here wrote, on this host's KVM: it has no vmcall and no
hypercall-page note (it fills its page through the MSR), calls every
hypercall with the i386 layouts, speaks blkif's x86_32-abi and prints on its
PV console. It must find /boot/grub/grub.cfg on the ext2 filesystem of its
xvda through blkback, run it (a marker, a listing of (xen/xvda)/, a second
marker) and power off through `halt`, so that xenkvm exits 0."""
import os
import re
import subprocess
import tempfile

import pytest
from conftest import BUILD
from test_guest_xenstore import Store

XENKVM = BUILD / "src" / "cli" / "xenkvm"
GRUB = "/usr/lib/grub-xen/grub-i386-xen_pvh.bin"
MKE2FS = "/usr/sbin/mke2fs"
TIMEOUT = 120

GRUB_CFG = """\
echo XENKVM-GRUB-MARKER
ls (xen/xvda)/
echo XENKVM-GRUB-LISTED
halt
"""


def _need():
    for f in (GRUB, MKE2FS):
        if not os.path.exists(f):
            pytest.fail(f"{f} is missing: run scripts/deps.sh (grub-xen-host, e2fsprogs)")


def make_disk(root):
    """An 8 MiB raw image holding an ext2 filesystem built from a directory
    (mke2fs -d: no mount, no root needed)."""
    tree = os.path.join(root, "tree")
    os.makedirs(os.path.join(tree, "boot", "grub"))
    with open(os.path.join(tree, "boot", "grub", "grub.cfg"), "w") as f:
        f.write(GRUB_CFG)
    with open(os.path.join(tree, "xenkvm-was-here.txt"), "w") as f:
        f.write("hello from the disk\n")
    img = os.path.join(root, "disk.img")
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    subprocess.run([MKE2FS, "-q", "-t", "ext2", "-d", tree, "-F", img], check=True,
                   capture_output=True)
    return img


def console_text(raw):
    """GRUB's terminal output without its escape sequences and carriage returns."""
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", raw).replace("\r", "")


def test_grub_pvh_reads_its_config_through_blkback(build, need_kvm):
    _need()
    xs = Store()
    root = tempfile.mkdtemp(prefix="grubpvh")
    try:
        img = make_disk(root)
        r = subprocess.run([str(XENKVM), "run", "-v", "--kernel", GRUB, "--xenstore", xs.sock,
                            "--disk", f"{img},raw,xvda,rw", "--memory", "64"],
                           capture_output=True, text=True, errors="replace", timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        out = console_text(r.stdout)
        describe = f"exit {r.returncode}\n--- console ---\n{out[-3000:]}\n--- stderr ---\n{r.stderr[-3000:]}"
        assert "Welcome to GRUB!" in out, describe
        # A line may start with GRUB's progress indicator (cursor moves).
        lines = [l for l in out.splitlines() if l.strip()]
        marker = [i for i, l in enumerate(lines) if l.endswith("XENKVM-GRUB-MARKER")]
        assert marker, describe
        listing = lines[marker[0] + 1].split()
        assert {"boot/", "xenkvm-was-here.txt", "lost+found/"} <= set(listing), describe
        assert lines[marker[0] + 2] == "XENKVM-GRUB-LISTED", describe
        # blkback served a 32-bit frontend; GRUB halted by powering off.
        assert "vbd xvda: connected: 1 queue(s) of 1 ring page(s), x86_32-abi" in r.stderr, describe
        assert r.returncode == 0, describe
        assert "Sanitizer" not in r.stderr and "error:" not in r.stderr, describe
    finally:
        xs.stop()
        for dirpath, dirs, files in os.walk(root, topdown=False):
            for f in files:
                os.unlink(os.path.join(dirpath, f))
            for d in dirs:
                os.rmdir(os.path.join(dirpath, d))
        os.rmdir(root)
