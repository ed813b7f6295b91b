"""Device hot-plug through the toolstack, end to end with xtest guests on this
host's KVM: block-attach/-detach, network-attach/-detach/-list, vifs in the
config, devices kept across a reboot, top's device columns. The xtest guest
has no blkfront or netfront: its devices never connect, so an unplug
completes at once (the backend removes a device whose frontend never
connected). NIC tests create a temporary bridge and need root (tap devices,
bridges); they are skipped, loudly, only when not root."""
import json
import os
import re
import subprocess

import pytest

from test_toolstack import Toolstack, wait_for, ts  # noqa: F401  (ts: the fixture)


def link(name):
    """`ip -j link show NAME` as a dict, or None when there is no such link."""
    r = subprocess.run(["ip", "-j", "link", "show", name], capture_output=True, text=True)
    return json.loads(r.stdout)[0] if r.returncode == 0 and r.stdout.strip() else None


@pytest.fixture
def bridge():
    if os.geteuid() != 0:
        pytest.skip("NOT ROOT: tap devices and bridges need root; NIC tests SKIPPED")
    name = f"xkbr{os.getpid() % 100000}"
    subprocess.run(["ip", "link", "del", name], capture_output=True)
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True)


def stored_config(ts, name):
    (d,) = [x for x in ts.info() if x["config"]["c_info"]["name"] == name]
    return d["config"]


def disk(ts, name="disk.raw"):
    img = os.path.join(ts.dir, name)
    with open(img, "wb") as f:
        f.truncate(1 << 20)
    return img


def block_rows(ts, dom):
    out = ts.xk("block-list", dom).stdout.splitlines()
    assert out[0].split() == ["Vdev", "BE", "handle", "state", "evt-ch", "ring-ref", "BE-path"]
    return [l.split() for l in out[1:]]


def net_rows(ts, dom):
    out = ts.xk("network-list", dom).stdout.splitlines()
    assert out[0] == ("Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref "
                      "BE-path                       "), repr(out[0])
    return out[1:]


def test_block_detach(ts, need_kvm):
    img, img2 = disk(ts), disk(ts, "disk2.raw")
    ts.create("b1", "idle", disk=[f"{img2},raw,xvdc,rw"])
    domid = ts.domains()["b1"][0]
    ts.xk("block-attach", "b1", img, "raw", "xvdb", "rw")
    assert [r[0] for r in block_rows(ts, "b1")] == ["51728", "51744"]
    assert stored_config(ts, "b1")["disks"] == [{"spec": f"{img2},raw,xvdc,rw"},
                                                {"spec": f"{img},raw,xvdb,rw"}]
    # By vdev: gone from block-list, xenstore and the stored config.
    ts.xk("block-detach", "b1", "xvdb")
    assert [r[0] for r in block_rows(ts, "b1")] == ["51744"]
    assert ts.xs_read(f"/local/domain/0/backend/vbd/{domid}/51728/params") is None
    assert ts.xs_read(f"/local/domain/{domid}/device/vbd/51728/state") is None
    assert stored_config(ts, "b1")["disks"] == [{"spec": f"{img2},raw,xvdc,rw"}]
    # A disk from the config file, by device number.
    ts.xk("block-detach", "b1", "51744")
    assert block_rows(ts, "b1") == []
    assert stored_config(ts, "b1")["disks"] == []
    r = ts.xk("block-detach", "b1", "xvdb", ok=False)
    assert "no disk 'xvdb'" in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    # Attach again under the same name works (the old device is really gone).
    ts.xk("block-attach", "b1", f"{img},raw,xvdb,rw")
    assert [r[0] for r in block_rows(ts, "b1")] == ["51728"]
    assert "disk '%s,raw,xvdb,rw' detached" % img in ts.daemon_log()
    ts.xk("destroy", "b1")


def test_block_detach_waits_for_frontend(ts, need_kvm):
    """A frontend that does not close keeps the disk: block-detach waits 10 s,
    then says so and suggests -f; -f removes it at once."""
    img = disk(ts)
    ts.create("w1")
    domid = ts.domains()["w1"][0]
    ts.xk("block-attach", "w1", f"{img},raw,xvdb,rw")
    fe = f"/local/domain/{domid}/device/vbd/51728"
    # Pose as a frontend that initialised (the backend's connect fails: no
    # rings), so the unplug must wait for it to close.
    subprocess.run(["xenstore-write", f"{fe}/state", "3"], env=ts.env, check=True, timeout=10)
    r = ts.xk("block-detach", "w1", "xvdb", ok=False, timeout=40)
    assert "still there after 10 s" in r.stderr and "block-detach -f w1 xvdb" in r.stderr, r.stderr
    assert [r[0] for r in block_rows(ts, "w1")] == ["51728"]
    ts.xk("block-detach", "-f", "w1", "xvdb")
    assert block_rows(ts, "w1") == []
    assert ts.xs_read(f"{fe}/state") is None
    ts.xk("destroy", "w1")


def test_network_attach_list_detach(ts, need_kvm, bridge):
    ts.create("n1")
    domid = ts.domains()["n1"][0]
    assert net_rows(ts, "n1") == []
    r = ts.xk("network-attach", "n1", f"bridge={bridge}", "model=e1000")
    assert "model=e1000 is ignored" in r.stderr
    tap = f"vif{domid}.0"
    l = link(tap)
    assert l and l.get("master") == bridge, l
    (vif,) = [v["spec"] for v in stored_config(ts, "n1")["nics"]]
    m = re.fullmatch(rf"bridge={bridge},model=e1000,devid=0,mac=(00:16:3e(:[0-9a-f]{{2}}){{3}})", vif)
    assert m, vif
    mac = m.group(1)
    (row,) = net_rows(ts, "n1")
    assert re.fullmatch(rf"0   0  {mac}     0     1     -1    -1/-1          "
                        rf"/local/domain/0/backend/vif/{domid}/0 *", row), repr(row)
    assert ts.xs_read(f"/local/domain/0/backend/vif/{domid}/0/bridge") == bridge
    # A second NIC with its own MAC, detached by MAC.
    ts.xk("network-attach", "n1", f"bridge={bridge},mac=00:16:3e:01:02:03")
    assert link(f"vif{domid}.1")["master"] == bridge
    assert [r.split()[:3] for r in net_rows(ts, "n1")] == [["0", "0", mac],
                                                           ["1", "0", "00:16:3e:01:02:03"]]
    assert stored_config(ts, "n1")["nics"][1]["spec"] == \
        f"bridge={bridge},mac=00:16:3e:01:02:03,devid=1"
    ts.xk("network-detach", "-f", "n1", "00:16:3e:01:02:03")
    assert wait_for(lambda: link(f"vif{domid}.1") is None, 5)
    # By devid.
    ts.xk("network-detach", "n1", "0")
    assert wait_for(lambda: link(tap) is None, 5), "the tap is gone"
    assert net_rows(ts, "n1") == []
    assert stored_config(ts, "n1")["nics"] == []
    assert ts.xs_read(f"/local/domain/0/backend/vif/{domid}/0/bridge") is None
    r = ts.xk("network-detach", "n1", "0", ok=False)
    assert "no network device '0'" in r.stderr
    # Refused specs: checked by the CLI, and by the domain process.
    r = ts.xk("network-attach", "n1", "type=ioemu", f"bridge={bridge}", ok=False)
    assert "type=ioemu is not supported" in r.stderr
    r = ts.xk("network-attach", "n1", "bridge=xknosuchbr", ok=False)
    assert "bridge xknosuchbr does not exist" in r.stderr
    assert stored_config(ts, "n1")["nics"] == []
    ts.xk("destroy", "n1")


def test_vif_in_config(ts, need_kvm, bridge):
    r = ts.xk("create", "-q", ts.cfg("v1", "idle", vif=[f"bridge={bridge}", f"bridge={bridge}"]))
    assert "network" not in r.stderr, r.stderr       # no "no network backend" warning
    domid = ts.domains()["v1"][0]
    for devid in (0, 1):
        l = link(f"vif{domid}.{devid}")
        assert l and l.get("master") == bridge, l
    assert [r.split()[0] for r in net_rows(ts, "v1")] == ["0", "1"]
    # A config NIC detaches like a hot-plugged one, and leaves the config.
    ts.xk("network-detach", "v1", "1")
    assert wait_for(lambda: link(f"vif{domid}.1") is None, 5)
    assert [v["spec"] for v in stored_config(ts, "v1")["nics"]] == [f"bridge={bridge}"]
    ts.xk("destroy", "v1")
    assert wait_for(lambda: link(f"vif{domid}.0") is None, 5)


def test_reboot_keeps_attached_devices(ts, need_kvm, bridge):
    img = disk(ts)
    ts.create("k1")
    assert wait_for(lambda: ts.ticks("k1") >= 1, 15)
    domid = ts.domains()["k1"][0]
    ts.xk("block-attach", "k1", f"{img},raw,xvdb,rw")
    ts.xk("network-attach", "k1", f"bridge={bridge}")
    (row,) = net_rows(ts, "k1")
    mac = row.split()[2]
    ts.xk("reboot", "-w", "k1")
    new = wait_for(lambda: ts.domains().get("k1"), 15)
    assert new and new[0] != domid
    domid = new[0]
    assert [r[0] for r in block_rows(ts, "k1")] == ["51728"]
    assert ts.xs_read(f"/local/domain/0/backend/vbd/{domid}/51728/params") == img
    (row,) = net_rows(ts, "k1")
    assert row.split()[:3] == ["0", "0", mac], "the same NIC, the same MAC"
    assert link(f"vif{domid}.0")["master"] == bridge
    ts.xk("destroy", "k1")


def test_top_device_columns(ts, need_kvm, bridge):
    img = disk(ts)
    ts.create("t1", "idle", disk=[f"{img},raw,xvdb,rw"], vif=[f"bridge={bridge}"])
    ts.xk("network-attach", "t1", f"bridge={bridge}")
    out = ts.xk("top", "-b", "-d", "0.2").stdout.splitlines()
    head = out[0].split()
    # xentop's columns at xentop's places (the cgroup's IO_RD(k)/IO_WR(k) follow them).
    assert head[9:18] == ["NETS", "NETTX(k)", "NETRX(k)", "VBDS", "VBD_OO", "VBD_RD", "VBD_WR",
                          "VBD_RSECT", "VBD_WSECT"], head
    (row,) = [l.split() for l in out[1:] if l.split()[0] == "t1"]
    cols = dict(zip(head, row))
    assert cols["NETS"] == "2" and cols["VBDS"] == "1", cols
    for k in head[9:18]:
        assert re.fullmatch(r"\d+", cols[k]), (k, cols[k])
    ts.xk("destroy", "t1")
