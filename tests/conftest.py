"""Shared pytest fixtures: where the build is, and whether /dev/kvm can be used."""
import os
import pathlib
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("XENKVM_BUILD", ROOT / "build"))


def kvm_usable():
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def pytest_report_header(config):
    lines = [f"xenkvm build dir: {BUILD}"]
    if not kvm_usable():
        lines.append("WARNING: /dev/kvm is absent or not accessible: every test that boots a guest is SKIPPED")
    return lines


@pytest.fixture(scope="session")
def build():
    if not (BUILD / "build.ninja").exists():
        pytest.fail(f"no build in {BUILD}: run scripts/build.sh first")
    return BUILD


@pytest.fixture
def need_kvm():
    if not kvm_usable():
        pytest.skip("/dev/kvm is absent or not accessible: guest boot tests SKIPPED")
