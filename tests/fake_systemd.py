"""A stand-in for systemd's manager on a private D-Bus, for the test of the
registry's scope path where systemd does not run (this machine, CI
containers): it answers StartTransientUnit and SetUnitProperties with
systemd's signatures and appends each call, as JSON, to the file named by
argv[1]. It does not move processes: that is systemd's part, checked only
where systemd runs.  Run with /usr/bin/python3 (python3-dbus, python3-gi)."""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.systemd1.Manager"


def plain(v):
    if isinstance(v, (dbus.Array, list)):
        return [plain(x) for x in v]
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.String, str)):
        return str(v)
    return int(v)


class Manager(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.log = log

    def record(self, call):
        with open(self.log, "a") as f:
            f.write(json.dumps(call) + "\n")

    @dbus.service.method(IFACE, in_signature="ssa(sv)a(sa(sv))", out_signature="o")
    def StartTransientUnit(self, name, mode, props, aux):
        self.record({"method": "StartTransientUnit", "name": str(name), "mode": str(mode),
                     "props": {str(k): plain(v) for k, v in props}})
        return dbus.ObjectPath("/org/freedesktop/systemd1/job/1")

    @dbus.service.method(IFACE, in_signature="sba(sv)", out_signature="")
    def SetUnitProperties(self, name, runtime, props):
        self.record({"method": "SetUnitProperties", "name": str(name), "runtime": bool(runtime),
                     "props": {str(k): plain(v) for k, v in props}})


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[2])
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)   # held: released when freed
    manager = Manager(bus, sys.argv[1])
    print("ready", flush=True)
    GLib.MainLoop().run()
    del name, manager


if __name__ == "__main__":
    main()
