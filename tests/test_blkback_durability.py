"""Durability: a write followed by FLUSH through the frontend harness is in
the image once the flush is answered, even if the backend's process is then
killed with SIGKILL (no chance to flush anything else)."""
import os
import signal
import subprocess

import pytest
from conftest import BUILD

PAGES = 64            # 256 KiB: an indirect request
SECTOR = 2048         # at 1 MiB


def _harness(build):
    exe = build / "tests" / "unit" / "blk" / "blk-harness"
    if not exe.exists():
        pytest.skip("blk-harness not built (tests disabled?)")
    return exe


@pytest.mark.parametrize("byte", [0x5A, 0xC3])
def test_flushed_write_survives_sigkill(build, tmp_path, byte):
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    p = subprocess.Popen([str(_harness(build)), "write-flush", str(img), str(SECTOR), str(PAGES),
                          str(byte)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.strip() == "flushed 0", line + p.stderr.read()
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == -signal.SIGKILL
    data = img.read_bytes()
    start = SECTOR * 512
    assert data[start:start + PAGES * 4096] == bytes([byte]) * (PAGES * 4096)
    assert data[start - 1] == 0 and data[start + PAGES * 4096] == 0


def test_flushed_write_on_a_block_device(build, tmp_path):
    """The same through a loop device (O_EXCL claim, BLKGETSIZE64, block-device discard)."""
    import shutil
    if os.geteuid() != 0 or not shutil.which("losetup"):
        pytest.skip("needs root and losetup for a loop device")
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(8 << 20)
    r = subprocess.run(["losetup", "-f", "--show", str(img)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip("no loop device: " + r.stderr)
    dev = r.stdout.strip()
    try:
        p = subprocess.Popen([str(_harness(build)), "write-flush", dev, str(SECTOR), "8", "0x6b"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        assert line.strip() == "flushed 0", p.stderr.read()
    finally:
        subprocess.run(["losetup", "-d", dev])
    data = img.read_bytes()
    assert data[SECTOR * 512:SECTOR * 512 + 8 * 4096] == b"\x6b" * (8 * 4096)
