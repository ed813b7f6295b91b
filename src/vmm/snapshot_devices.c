/* The DEVICES record of a save file (snapshot_devices.h). */
#include "vmm/snapshot_devices.h"
#include "xen/domain.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *snapdev_encode(unsigned visible_domid, const struct dev_saved *devs, unsigned n,
                        size_t *len)
{
    struct snap_devices_hdr h = { n, visible_domid };
    *len = sizeof(h) + (size_t)n * sizeof(*devs);
    uint8_t *p = malloc(*len);
    if (!p)
        return NULL;
    memcpy(p, &h, sizeof(h));
    if (n)
        memcpy(p + sizeof(h), devs, (size_t)n * sizeof(*devs));
    return p;
}

static bool port_ok(uint32_t port)
{
    return port > 0 && port < EVTCHN_NR_PORTS;
}

int snapdev_decode(const void *rec, size_t len, unsigned *visible_domid,
                   const struct dev_saved **devs, unsigned *n, char *err, size_t errlen)
{
    struct snap_devices_hdr h;
    if (len < sizeof(h)) {
        snprintf(err, errlen, "corrupt: the DEVICES record is too short");
        return -1;
    }
    memcpy(&h, rec, sizeof(h));
    if (len != sizeof(h) + (uint64_t)h.count * sizeof(struct dev_saved) || h.count > 1024 ||
        h.visible_domid >= DOMID_FIRST_RESERVED) {
        snprintf(err, errlen, "corrupt: a DEVICES record of %zu bytes for %u devices", len,
                 h.count);
        return -1;
    }
    const struct dev_saved *d = (const void *)((const uint8_t *)rec + sizeof(h));
    for (unsigned i = 0; i < h.count; i++) {
        const struct dev_saved *e = &d[i];
        bool ok = (e->type == DEV_SAVED_VBD || e->type == DEV_SAVED_VIF) &&
                  e->nr_queues >= 1 && e->nr_queues <= DEV_SAVED_QUEUES &&
                  e->ring_pages >= 1 && e->ring_pages <= DEV_SAVED_REFS &&
                  !(e->ring_pages & (e->ring_pages - 1)) &&
                  (e->type == DEV_SAVED_VBD || e->ring_pages == 1) && e->abi32 <= 1;
        for (unsigned q = 0; ok && q < e->nr_queues; q++)
            ok = port_ok(e->q[q].port[0]) &&
                 (e->type == DEV_SAVED_VBD ? !e->q[q].port[1] : port_ok(e->q[q].port[1]));
        for (unsigned j = 0; ok && j < i; j++)
            ok = d[j].type != e->type || d[j].devid != e->devid;
        if (!ok) {
            snprintf(err, errlen, "corrupt: device %u of the DEVICES record (%s %u)", i,
                     e->type == DEV_SAVED_VBD ? "vbd" : e->type == DEV_SAVED_VIF ? "vif" : "?",
                     e->devid);
            return -1;
        }
    }
    *visible_domid = h.visible_domid;
    *devs = d;
    *n = h.count;
    return 0;
}

bool snapdev_has_port(const struct dev_saved *devs, unsigned n, uint32_t port)
{
    for (unsigned i = 0; port && i < n; i++)
        for (unsigned q = 0; q < devs[i].nr_queues; q++)
            if (devs[i].q[q].port[0] == port || devs[i].q[q].port[1] == port)
                return true;
    return false;
}

/* Whether ref is one of the devices' ring pages. */
static bool is_ring(const struct dev_saved *devs, unsigned n, uint32_t ref)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned q = 0; q < devs[i].nr_queues; q++) {
            unsigned refs = devs[i].type == DEV_SAVED_VBD ? devs[i].ring_pages : 2;
            for (unsigned k = 0; k < refs; k++)
                if (devs[i].q[q].ring_ref[k] == ref)
                    return true;
        }
    return false;
}

int snapdev_check_grants(struct domain *d, const struct dev_saved *devs, unsigned n, char *err,
                         size_t errlen)
{
    for (unsigned i = 0; i < GNTTAB_MAX_ENTRIES; i++)
        if ((d->gt.pin_ro[i] || d->gt.pin_rw[i]) && !is_ring(devs, n, i)) {
            snprintf(err, errlen, "grant %u is mapped by a backend and is no device's ring: "
                     "it cannot be carried", i);
            return -1;
        }
    return 0;
}
