"""`xenkvm run --disk`: the vbd's xenstore nodes as libxl writes them, the
backend waiting in InitWait, toolstack unplug, a frontend handshake with
impossible values, disk-spec errors. The guest (xtest's bench program) keeps
the domain alive and never touches the disk: Linux's blkfront runs in the rig."""
import os
import signal
import subprocess
import time

import pytest
from conftest import BUILD
from test_xenstore_clients import Daemon, XENKVMD

XENKVM = BUILD / "src" / "cli" / "xenkvm"
XTEST = BUILD / "guest" / "xtest"
BE = "/local/domain/0/backend/vbd/1/51712"
FE = "/local/domain/1/device/vbd/51712"


@pytest.fixture
def xsd(build):
    d = Daemon()
    yield d
    assert d.stop(), d.logtext()


@pytest.fixture
def image(tmp_path):
    p = tmp_path / "disk.img"
    with open(p, "wb") as f:
        f.truncate(32 << 20)
    return p


def read(xsd, path):
    r = xsd.run("xenstore-read", path, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def wait_for(xsd, path, want, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if read(xsd, path) == want:
            return True
        time.sleep(0.05)
    return False


class Domain:
    def __init__(self, xsd, *disks, cmdline="bench 100000000"):
        args = [str(XENKVM), "run", "-v", "--kernel", str(XTEST), "--cmdline", cmdline,
                "--xenstore", xsd.sock]
        for d in disks:
            args += ["--disk", d]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        out, err = self.proc.communicate(timeout=30)
        return out + err


def test_vbd_nodes_and_initwait(build, need_kvm, xsd, image):
    dom = Domain(xsd, f"{image},raw,xvda,rw")
    try:
        assert wait_for(xsd, BE + "/state", "2"), dom.kill()
        want = {
            "frontend": FE, "frontend-id": "1", "online": "1", "params": str(image),
            "mode": "w", "type": "phy", "device-type": "disk", "removable": "0",
            "bootable": "1", "dev": "xvda", "feature-flush-cache": "1", "feature-discard": "1",
            "feature-max-indirect-segments": "256", "max-ring-page-order": "4",
            "multi-queue-max-queues": "4", "sectors": str(32 << 11), "sector-size": "512",
            "info": "0",
        }
        for node, value in want.items():
            assert read(xsd, f"{BE}/{node}") == value, node
        for node, value in {"backend": BE, "backend-id": "0", "state": "1",
                            "virtual-device": "51712", "device-type": "disk"}.items():
            assert read(xsd, f"{FE}/{node}") == value, node
        assert xsd.run("xenstore-ls", "-p", BE).returncode == 0
        # libxl's permissions: backend dom0's, readable by the domain; frontend the domain's
        assert xsd.run("xenstore-ls", "-p", os.path.dirname(BE)).stdout.split("\n")[0] \
            .rstrip().endswith("(n0,r1)")
        assert "(n1,r0)" in xsd.run("xenstore-ls", "-p", os.path.dirname(FE)).stdout
    finally:
        out = dom.kill()
    assert "InitWait" in out


def test_read_only_disk_nodes(build, need_kvm, xsd, image):
    dom = Domain(xsd, f"vdev=xvdb, access=ro, target={image}")
    try:
        be = "/local/domain/0/backend/vbd/1/51728"
        assert wait_for(xsd, be + "/state", "2"), dom.kill()
        assert read(xsd, be + "/mode") == "r"
        assert read(xsd, be + "/info") == "4"            # VDISK_READONLY
        assert read(xsd, be + "/feature-discard") == "0"
    finally:
        dom.kill()


def test_toolstack_unplug_removes_the_device(build, need_kvm, xsd, image):
    dom = Domain(xsd, f"{image},raw,xvda,rw")
    try:
        assert wait_for(xsd, BE + "/state", "2"), dom.kill()
        xsd.run("xenstore-write", BE + "/state", "5")
        assert wait_for(xsd, BE + "/state", None), dom.kill()
        assert read(xsd, FE + "/state") is None
    finally:
        dom.kill()


def test_frontend_with_bad_grants_gets_an_error(build, need_kvm, xsd, image):
    """A 'frontend' (dom0 writing the guest's nodes) naming a ring that was
    never granted: the backend reports the error and closes, no crash."""
    dom = Domain(xsd, f"{image},raw,xvda,rw")
    try:
        assert wait_for(xsd, BE + "/state", "2"), dom.kill()
        xsd.run("xenstore-write", FE + "/ring-ref", "4000", FE + "/event-channel", "9",
                FE + "/protocol", "x86_64-abi", FE + "/state", "3")
        assert wait_for(xsd, BE + "/state", "5"), dom.kill()
        assert "cannot map the ring" in (read(xsd, BE + "/error") or "")
        xsd.run("xenstore-write", FE + "/state", "6")
        assert wait_for(xsd, BE + "/state", "6"), dom.kill()
        xsd.run("xenstore-write", FE + "/protocol", "arm-abi", FE + "/state", "1")
        assert wait_for(xsd, BE + "/state", "2"), dom.kill()
        xsd.run("xenstore-write", FE + "/state", "3")
        assert wait_for(xsd, BE + "/state", "5"), dom.kill()
        assert "frontend protocol arm-abi is not supported" in read(xsd, BE + "/error")
        assert dom.proc.poll() is None
    finally:
        dom.kill()


def test_nodes_removed_when_the_domain_ends(build, need_kvm, xsd, image):
    dom = Domain(xsd, f"{image},raw,xvda,rw", cmdline="hello")
    out, err = dom.proc.communicate(timeout=60)
    assert dom.proc.returncode == 0, out + err
    assert read(xsd, BE) is None and read(xsd, "/local/domain/1") is None
    assert "Sanitizer" not in err


@pytest.mark.parametrize("spec,msg", [
    ("{img},qcow2,xvda,rw", "disk {img} (qcow2): Image is not in qcow2 format"),
    ("{img}.missing,raw,xvda,rw", "No such file or directory"),
    ("{img}.missing,qcow2,xvda,rw", "Could not open '{img}.missing': No such file or directory"),
    ("{img},raw", "no vdev specified"),
    ("vdev=xvda,format=vhd,target={img}", "disk {img} (vhd): invalid VPC image"),
])
def test_bad_disk_specs(build, need_kvm, xsd, image, spec, msg):
    dom = Domain(xsd, spec.format(img=image))
    out, err = dom.proc.communicate(timeout=60)
    assert dom.proc.returncode == 1 and msg.format(img=image) in err, out + err
    assert read(xsd, "/local/domain/0/backend/vbd/1") is None


def test_same_vdev_twice(build, need_kvm, xsd, image):
    dom = Domain(xsd, f"{image},raw,xvda,rw", f"{image},raw,xvda,ro")
    out, err = dom.proc.communicate(timeout=60)
    assert dom.proc.returncode == 1 and "xvda is already in use" in err, out + err


def test_disk_needs_xenstore(build, need_kvm, image):
    r = subprocess.run([str(XENKVM), "run", "--kernel", str(XTEST), "--no-xenstore",
                        "--disk", f"{image},raw,xvda,rw"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "need a xenstore daemon" in r.stderr
