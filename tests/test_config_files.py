"""Configuration files through build/src/config/xkcfg-dump: xl.cfg and xm
files to JSON, libvirt domain XML both ways, malformed and hostile input."""
import json
import os
import random
import subprocess

import pytest
from conftest import BUILD, ROOT

FIX = ROOT / "tests" / "fixtures" / "config"
DUMP = BUILD / "src" / "config" / "xkcfg-dump"


def run(*args, data=None):
    if not DUMP.exists():
        pytest.fail(f"{DUMP} is missing: build first (scripts/build.sh)")
    r = subprocess.run([str(DUMP), *map(str, args)], capture_output=True, text=True,
                       errors="replace", timeout=60)
    assert r.returncode in (0, 1), f"exit {r.returncode}\n{r.stderr}"
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def dump(*args):
    r = run(*args)
    return r, json.loads(r.stdout)


# --- good files --------------------------------------------------------------

def test_pv_cmdline_json():
    r, j = dump(FIX / "pv-cmdline.cfg")
    assert r.returncode == 0, r.stderr
    d = j["domain"]
    assert d["name"] == "XenGuest2" and d["type"] == "pv"
    assert d["memory"] == 394 and d["maxmem"] == 579
    assert d["cmdline"] == "root=/dev/xvda1 console=hvc0"
    assert d["on_crash"] == "restart"
    assert d["disks"][0]["devid"] == 51712 and d["disks"][0]["backendtype"] == "qdisk"
    assert d["vifs"][0]["mac"] == "00:16:3e:66:92:9c" and not d["vifs"][0]["mac_generated"]
    assert [s["key"] for s in j["settings"]][:3] == ["name", "uuid", "maxmem"]
    assert j["errors"] == [] and j["warnings"] == []


def test_pvh_json():
    r, j = dump("--check", FIX / "pvh.cfg")
    assert r.returncode == 0, r.stderr
    d = j["domain"]
    assert d["type"] == "pvh" and d["vcpus"] == 2 and d["maxvcpus"] == 4
    assert [k["vdev"] for k in d["disks"]] == ["xvda", "xvdb"]
    assert d["disks"][0]["target"] == "/srv/xen/pvh-web.img"
    assert d["disks"][0]["line"] == 12 and d["disks"][1]["line"] == 13
    assert d["vifs"][1]["mac_generated"] and d["vifs"][1]["mac"].startswith("00:16:3e:")
    assert d["vifs"][1]["rate_bytes_per_s"] == 10_000_000


def test_generated_mac_is_stable():
    a = dump(FIX / "pvh.cfg")[1]["domain"]["vifs"][1]["mac"]
    b = dump(FIX / "pvh.cfg")[1]["domain"]["vifs"][1]["mac"]
    c = dump(FIX / "pvh.cfg", "uuid='45b60f51-88a9-47a8-a3b3-5e66d71b2284'")[1]["domain"]["vifs"][1]["mac"]
    assert a == b and a != c


def test_pvshim_json():
    r, j = dump(FIX / "pvshim.cfg")
    assert r.returncode == 0, r.stderr
    shim = j["domain"]["pvshim"]
    assert shim == {"enabled": True, "path": "/usr/lib/xen/boot/xen-shim",
                    "cmdline": "pv-shim console=xen,pv", "extra": None}
    cd = j["domain"]["disks"][1]
    assert cd["target"] is None and cd["devtype"] == "cdrom" and cd["access"] == "ro"


def test_xm_legacy_json():
    r, j = dump("--check", FIX / "xm-legacy.cfg")
    assert r.returncode == 0, r.stderr
    d = j["domain"]
    assert d["type"] == "pv" and d["memory"] == 512 and d["vcpus"] == 2
    assert d["cmdline"] == "root=/dev/xvda2 ro elevator=noop"
    assert [k["legacy_prefix"] for k in d["disks"]] == ["phy", "phy", "file"]
    assert [k["devid"] for k in d["disks"]] == [(202 << 8) | 2, (202 << 8) | 1, 22 << 8]
    assert d["vifs"][0]["ip"] == "192.168.1.20"


def test_overrides_after_file():
    r, j = dump(FIX / "pv-cmdline.cfg", "memory=500", "vif=['bridge=br9']", 'extra="quiet"; vcpus=2')
    assert r.returncode == 0, r.stderr
    d = j["domain"]
    assert d["memory"] == 500 and d["vcpus"] == 2
    assert [v["bridge"] for v in d["vifs"]] == ["br9"]
    assert d["cmdline"] == "root=/dev/xvda1 quiet"
    assert j["settings"][-1]["file"] == "command line"


def test_override_append():
    r, j = dump(FIX / "pvh.cfg", "vif+=['bridge=br2']")
    assert [v["bridge"] for v in j["domain"]["vifs"]] == ["xenbr0", "xenbr1", "br2"]


def test_override_error_names_command_line():
    r = run(FIX / "pv-cmdline.cfg", "memory=lots")
    assert r.returncode == 1
    assert "command line:1: config parsing error near `lots'" in r.stderr


# --- XML both ways ---------------------------------------------------------

XML_CASES = [("pv-cmdline", "xl"), ("pvh", "xl"), ("pvshim", "xl"),
             ("xm-legacy", "xm"), ("xm-bootloader", "xm")]


@pytest.mark.parametrize("name,fmt", XML_CASES)
def test_domxml_from_native(name, fmt):
    r = run("--to-xml", f"xen-{fmt}", FIX / f"{name}.cfg")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (FIX / f"{name}.{fmt}.xml").read_text()


@pytest.mark.parametrize("name,fmt", XML_CASES)
def test_domxml_to_native(name, fmt):
    r = run("--to-native", f"xen-{fmt}", FIX / f"{name}.{fmt}.xml")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (FIX / f"{name}.{fmt}.native.cfg").read_text()


@pytest.mark.parametrize("name,fmt", XML_CASES)
def test_domxml_round_trip(name, fmt, tmp_path):
    """cfg -> XML -> cfg -> XML gives the same XML again."""
    native = tmp_path / "n.cfg"
    native.write_text(run("--to-native", f"xen-{fmt}", FIX / f"{name}.{fmt}.xml").stdout)
    again = run("--to-xml", f"xen-{fmt}", native)
    assert again.returncode == 0, again.stderr
    assert again.stdout == (FIX / f"{name}.{fmt}.xml").read_text()


def test_libvirt_shape_pv():
    x = (FIX / "pv-cmdline.xl.xml").read_text()
    order = ["<domain type='xen'>", "<name>", "<uuid>", "<memory unit='KiB'>592896",
             "<currentMemory unit='KiB'>403456", "<vcpu placement='static'>1",
             "<type arch='x86_64' machine='xenpv'>linux</type>", "<kernel>", "<initrd>",
             "<cmdline>root=/dev/xvda1 console=hvc0</cmdline>", "<clock offset='utc' adjustment='reset'/>",
             "<on_poweroff>", "<on_reboot>", "<on_crash>", "<devices>", "<disk type='file' device='disk'>",
             "<driver name='qemu' type='raw'/>", "<target dev='xvda' bus='xen'/>",
             "<controller type='xenbus' index='0'/>", "<interface type='bridge'>",
             "<script path='vif-bridge'/>", "<console type='pty'>", "<target type='xen' port='0'/>",
             "<memballoon model='xen'/>"]
    pos = [x.index(s) for s in order]
    assert pos == sorted(pos)


# --- malformed files ---------------------------------------------------------

def errors_of(path, *extra):
    r = run(*extra, path)
    assert r.returncode == 1, r.stdout
    return r.stderr


def test_bad_syntax_names_file_and_line():
    e = errors_of(FIX / "bad-syntax.cfg")
    f = str(FIX / "bad-syntax.cfg")
    assert f"{f}:4: config parsing error near `'/b.img,raw,xvdb,w'': expected ',' or ']' in list" in e
    assert f"{f}:5: config parsing error: unexpected character '/'" in e
    assert len(e.strip().splitlines()) == 2      # one error a line


def test_bad_values_name_file_line_key():
    e = errors_of(FIX / "bad-values.cfg")
    f = str(FIX / "bad-values.cfg")
    assert f"{f}:2: memory: 'lots' is not a number" in e
    assert f"{f}:3: vcpus: 0 is out of range (1 to 512)" in e
    assert f"{f}:4: on_crash: invalid action 'explode'" in e
    assert f"{f}:5: kernel: expected a quoted string, not the number 42" in e


def test_bad_maxmem():
    e = errors_of(FIX / "bad-maxmem.cfg")
    assert f"{FIX / 'bad-maxmem.cfg'}:3: maxmem: 512 MiB is less than memory (1024 MiB)" in e


def test_hvm_rejected():
    e = errors_of(FIX / "bad-hvm.cfg")
    assert "bad-hvm.cfg:2: type: \"hvm\" guests are not supported by xenkvm" in e


def test_bad_disk_spec():
    e = errors_of(FIX / "bad-disk.cfg")
    assert "bad-disk.cfg:4: disk '/b.img,raw,xvdb,rx': invalid access 'rx'" in e


def test_unsupported_disk_only_on_check():
    """qcow2 runs (through qemu-storage-daemon); a block script does not."""
    r, j = dump(FIX / "unsupported-format.cfg")
    assert r.returncode == 0 and j["domain"]["disks"][1]["format"] == "qcow2"
    e = errors_of(FIX / "unsupported-format.cfg", "--check")
    assert ("unsupported-format.cfg:5: disk 'iscsi:iqn.2001-04.com.example:disk,xvdc,w': "
            "block scripts are not supported") in e
    assert "qcow2" not in e


def test_unknown_keys_are_warnings():
    r, j = dump(FIX / "unknown-keys.cfg")
    assert r.returncode == 0
    assert j["errors"] == []
    w = "\n".join(j["warnings"])
    assert "unknown-keys.cfg:3: warning: colour: unknown key, ignored" in w
    assert "unknown-keys.cfg:4: warning: vnc: not supported by xenkvm, ignored" in w


def test_missing_name():
    e = errors_of(FIX / "no-name.cfg")
    assert "no-name.cfg: name: the domain needs a name" in e


def test_missing_file():
    r = run(FIX / "does-not-exist.cfg")
    assert r.returncode == 1 and "unable to open configuration file" in r.stderr


def test_malformed_xml_has_line():
    e = errors_of(FIX / "bad-xml.xml", "--to-native", "xen-xl")
    assert "bad-xml.xml:9: malformed XML: Opening and ending tag mismatch: disk line 8 and devices" in e


def test_xml_missing_memory():
    e = errors_of(FIX / "missing-memory.xml", "--to-native", "xen-xl")
    assert "missing-memory.xml:1: <memory> is missing" in e


# --- hostile input -----------------------------------------------------------

def good_files():
    return sorted(FIX.glob("*.cfg")) + sorted(FIX.glob("*.xml"))


def test_truncated_files_never_crash(tmp_path):
    for src in good_files():
        data = src.read_bytes()
        for n in range(0, len(data), max(1, len(data) // 40)):
            p = tmp_path / ("t" + src.suffix)
            p.write_bytes(data[:n])
            if src.suffix == ".xml":
                run("--to-native", "xen-xl", p)
            else:
                run(p)
                run("--to-xml", "xen-xm", p)


def test_garbage_files_never_crash(tmp_path):
    rng = random.Random(1234)
    for i in range(60):
        p = tmp_path / f"g{i}.cfg"
        if i % 3 == 0:
            p.write_bytes(os.urandom(rng.randrange(1, 2000)))
        else:
            src = rng.choice(good_files()).read_bytes()
            b = bytearray(src)
            for _ in range(rng.randrange(1, 12)):
                b[rng.randrange(len(b))] = rng.choice(b"[]=,;+'\"\\#\n\x00\xff<>&/ ")
            p.write_bytes(bytes(b))
        r = run(p)
        if r.returncode == 1:
            assert r.stderr.strip(), "failure without a message"
        run("--to-native", "xen-xl", p)
