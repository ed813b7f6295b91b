"""`xenkvm domxml-from-native` / `domxml-to-native` on the fixture configs: the XML and
the native config they print are the expected files (tests/fixtures/config/NAME.FMT.xml
and NAME.FMT.native.cfg), and bad input is a one-line error naming the file."""
import subprocess
import pytest
from conftest import BUILD, ROOT

FIX = ROOT / "tests" / "fixtures" / "config"
PAIRS = sorted((x.name.split(".")[0], x.name.split(".")[1]) for x in FIX.glob("*.x[lm].xml"))


def xenkvm(*args):
    return subprocess.run([str(BUILD / "src/cli/xenkvm"), *args], capture_output=True,
                          text=True, timeout=30)


@pytest.mark.parametrize("name,fmt", PAIRS, ids=[f"{n}-{f}" for n, f in PAIRS])
def test_from_native_matches_expected_xml(build, name, fmt):
    r = xenkvm("domxml-from-native", f"xen-{fmt}", str(FIX / f"{name}.cfg"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (FIX / f"{name}.{fmt}.xml").read_text()


@pytest.mark.parametrize("name,fmt", PAIRS, ids=[f"{n}-{f}" for n, f in PAIRS])
def test_to_native_matches_expected_config(build, name, fmt):
    r = xenkvm("domxml-to-native", f"xen-{fmt}", str(FIX / f"{name}.{fmt}.xml"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (FIX / f"{name}.{fmt}.native.cfg").read_text()


def test_round_trip_is_stable(build, tmp_path):
    """After one trip through libvirt's form (which adds what libvirt always
    writes, e.g. script=vif-bridge), XML -> native -> XML changes nothing."""
    xml1 = xenkvm("domxml-from-native", "xen-xl", str(FIX / "pvh.cfg")).stdout
    (tmp_path / "a.xml").write_text(xml1)
    cfg1 = xenkvm("domxml-to-native", "xen-xl", str(tmp_path / "a.xml")).stdout
    (tmp_path / "b.cfg").write_text(cfg1)
    xml2 = xenkvm("domxml-from-native", "xen-xl", str(tmp_path / "b.cfg")).stdout
    (tmp_path / "c.xml").write_text(xml2)
    cfg2 = xenkvm("domxml-to-native", "xen-xl", str(tmp_path / "c.xml")).stdout
    (tmp_path / "d.cfg").write_text(cfg2)
    xml3 = xenkvm("domxml-from-native", "xen-xl", str(tmp_path / "d.cfg")).stdout
    assert xml1 and cfg1 == cfg2 and xml2 == xml3


def test_override_applies(build):
    r = xenkvm("domxml-from-native", "xen-xl", str(FIX / "pvh.cfg"), 'name="renamed"')   # xl syntax: strings quoted
    assert r.returncode == 0, r.stderr
    assert "<name>renamed</name>" in r.stdout


@pytest.mark.parametrize("args,msg", [
    (["domxml-from-native", "xen-xq", "x.cfg"], "format 'xen-xq' is not xen-xl or xen-xm"),
    (["domxml-from-native", "xen-xl", str(FIX / "bad-syntax.cfg")], "bad-syntax.cfg:"),
    (["domxml-to-native", "xen-xl", str(FIX / "bad-xml.xml")], "bad-xml.xml:"),
    (["domxml-to-native", "xen-xl", "/nonexistent.xml"], "No such file"),
])
def test_errors_name_the_file(build, args, msg):
    r = xenkvm(*args)
    assert r.returncode == 1
    assert msg in r.stderr
    assert r.stdout == ""


def test_libvirt_written_xml_to_native(build):
    """XML as libvirt itself writes it (addresses, video, a console that
    mirrors a serial port, host-passthrough CPU, elements xl has no key for)."""
    r = xenkvm("domxml-to-native", "xen-xl", str(FIX / "libvirt-written.xml"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (FIX / "libvirt-written.xl.expected.cfg").read_text()
    assert "libvirt-written.xml:79: warning: <watchdog>: not converted" in r.stderr


@pytest.mark.parametrize("cfg,fmt,msg", [
    ("name='h'\nbuilder='hvm'\nserial=['pty','pty']\n", "xm",
     "serial: multiple serial devices are not supported by xen-xm"),
    ("name='h'\ntype='hvm'\nsoundhw='sb16,gus'\n", "xl", "soundhw: unknown sound model 'gus'"),
    ("name='h'\npci=['01:02']\n", "xl", "pci '01:02': expected [DOMAIN:]BUS:SLOT.FUNCTION"),
    ("name='h'\ntype='hvm'\ncpuid='0x1:ecx=xxxx'\n", "xl", "cpuid: '0x1:ecx=xxxx': only libxl's"),
    ("name='h'\nchannel=['connection=tcp,name=a']\n", "xl", "connection must be pty or socket"),
    ("name='h'\ntype='hvm'\nserial='bogus:x'\n", "xl", "unknown character device type 'bogus'"),
])
def test_conversion_errors_name_file_and_device(build, tmp_path, cfg, fmt, msg):
    f = tmp_path / "g.cfg"
    f.write_text(cfg)
    r = xenkvm("domxml-from-native", f"xen-{fmt}", str(f))
    assert r.returncode == 1 and r.stdout == ""
    assert str(f) in r.stderr and msg in r.stderr, r.stderr


def test_libvirt_defaults_differ_from_xl(build, tmp_path):
    """With no memory= and no on_crash=, libvirt converts 128 MiB and
    'restart'; xl (and xenkvm create) run 32 MiB and 'destroy'."""
    f = tmp_path / "d.cfg"
    f.write_text("name='d'\nkernel='/k'\n")
    x = xenkvm("domxml-from-native", "xen-xl", str(f)).stdout
    assert "<memory unit='KiB'>131072</memory>" in x and "<on_crash>restart</on_crash>" in x
