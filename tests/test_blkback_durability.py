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
        assert line.strip() == "flushed", line + p.stderr.read()
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
