/* A domain's disks and NICs on its one xenbus connection. */
#include "backend/devices.h"
#include "backend/blkback_vbd.h"
#include "backend/netback_vif.h"
#include "backend/xenbus_backend.h"
#include "xen/domain.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct domain_devices {
    struct domain *d;
    struct xenbus_bus *bus;
    char *name;
    bool has_uuid;
    uint8_t uuid[16];
};

static int watch_on_domain(void *opaque, int fd, void (*fn)(void *), void *arg)
{
    if (!fn) {
        domain_unwatch_fd(opaque, fd);
        return 0;
    }
    return domain_watch_fd(opaque, fd, fn, arg);
}

struct domain_devices *devices_open(struct domain *d, const char *socket_path, const char *name,
                                    const uint8_t *uuid)
{
    struct domain_devices *ds = calloc(1, sizeof(*ds));
    if (!ds || !(ds->name = strdup(name ? name : ""))) {
        free(ds);
        errno = ENOMEM;
        return NULL;
    }
    ds->d = d;
    if (uuid) {
        memcpy(ds->uuid, uuid, 16);
        ds->has_uuid = true;
    }
    ds->bus = xenbus_bus_open(socket_path, d->domid, watch_on_domain, d);
    if (!ds->bus) {
        int e = errno;
        free(ds->name);
        free(ds);
        errno = e;
        return NULL;
    }
    return ds;
}

void devices_close(struct domain_devices *ds)
{
    if (!ds)
        return;
    xenbus_bus_close(ds->bus);       /* disconnects and releases every device */
    free(ds->name);
    free(ds);
}

bool devices_lost(struct domain_devices *ds)
{
    return xenbus_bus_lost(ds->bus);
}

int devices_reconnect(struct domain_devices *ds)
{
    return xenbus_bus_reconnect(ds->bus);
}

int devices_add_disk(struct domain_devices *ds, const char *spec, char *err, size_t errlen)
{
    return vbd_add(ds->bus, ds->d, spec, err, errlen);
}

int devices_add_nic(struct domain_devices *ds, const char *spec, char *err, size_t errlen)
{
    return vif_add(ds->bus, ds->d, spec, ds->name, ds->has_uuid ? ds->uuid : NULL, err, errlen);
}

int devices_check_saveable(struct domain_devices *ds, char *err, size_t errlen)
{
    return xenbus_bus_check_saveable(ds->bus, err, errlen);
}

int devices_pause(struct domain_devices *ds, struct dev_saved **out, unsigned *n, char *err,
                  size_t errlen)
{
    return xenbus_bus_pause(ds->bus, out, n, err, errlen);
}

void devices_resume(struct domain_devices *ds)
{
    xenbus_bus_resume(ds->bus);
}

int devices_set_saved(struct domain_devices *ds, const struct dev_saved *saved, unsigned n)
{
    return xenbus_bus_set_saved(ds->bus, saved, n);
}

int devices_saved_data(struct domain_devices *ds, uint8_t **out, size_t *len)
{
    return xenbus_bus_saved_data(ds->bus, out, len);
}

int devices_set_saved_data(struct domain_devices *ds, const void *rec, size_t len, char *err,
                           size_t errlen)
{
    return xenbus_bus_set_saved_data(ds->bus, rec, len, err, errlen);
}

int devices_restored(struct domain_devices *ds, char *err, size_t errlen)
{
    return xenbus_bus_restored(ds->bus, err, errlen);
}

static bool is_disk(struct xenbus_dev *dev, void *id) { return vbd_is(dev, id); }
static bool is_nic(struct xenbus_dev *dev, void *id) { return vif_is(dev, id); }

int devices_remove(struct domain_devices *ds, bool nic, const char *id, bool force, char *err,
                   size_t errlen)
{
    struct xenbus_dev *dev = xenbus_bus_find(ds->bus, nic ? "vif" : "vbd", nic ? is_nic : is_disk,
                                             (void *)id);
    if (!dev) {
        snprintf(err, errlen, "no %s '%s' in domain %u", nic ? "network device" : "disk", id,
                 ds->d->domid);
        return -1;
    }
    if (force)
        xenbus_dev_remove(dev);
    else
        xenbus_dev_unplug(dev);
    return 0;
}

struct list_ctx {
    struct device_info *out;
    unsigned max, n;
    bool nic;
};

/* Collects into ctx; never stops the walk. */
static bool collect(struct xenbus_dev *dev, void *arg)
{
    struct list_ctx *c = arg;
    if (c->n < c->max) {
        struct device_info *o = &c->out[c->n];
        memset(o, 0, sizeof(*o));
        o->devid = dev->devid;
        o->state = dev->state;
        if (c->nic)
            vif_info(dev, o);
        else
            vbd_info(dev, o);
    }
    c->n++;
    return false;
}

static int by_devid(const void *a, const void *b)
{
    const struct device_info *x = a, *y = b;
    if (x->nic != y->nic)
        return x->nic ? 1 : -1;
    return x->devid < y->devid ? -1 : x->devid > y->devid;
}

unsigned devices_list(struct domain_devices *ds, struct device_info *out, unsigned max)
{
    struct list_ctx c = { out, max, 0, false };
    xenbus_bus_find(ds->bus, "vbd", collect, &c);
    c.nic = true;
    xenbus_bus_find(ds->bus, "vif", collect, &c);
    qsort(out, c.n < max ? c.n : max, sizeof(*out), by_devid);
    return c.n;
}
