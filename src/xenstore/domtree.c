/* The standard tree of a domain, laid out and permissioned as Xen's toolstack
 * (libxl_create.c libxl__domain_make) does: the domain may read its directory,
 * owns the parts it writes (control/shutdown, the control/feature-* nodes its
 * shutdown driver announces itself in, control/sysrq,
 * device/suspend/event-channel, data, drivers, feature, attr, error, console),
 * and cannot touch the rest. */
#include "xenstore/client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIES 16

struct tx {
    struct xs_client *c;
    uint32_t id;
    int rc;
    char base[64];
};

static void put(struct tx *t, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put(struct tx *t, const char *rel, const char *fmt, ...)
{
    char path[256], val[256];
    va_list ap;
    if (t->rc)
        return;
    snprintf(path, sizeof(path), rel[0] == '/' ? "%s" : "%s/%s", rel[0] == '/' ? rel : t->base, rel);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    t->rc = xs_write_str(t->c, t->id, path, val);
}

static void dir(struct tx *t, const char *rel, const struct xs_perm *perms, unsigned n)
{
    char path[256];
    if (t->rc)
        return;
    snprintf(path, sizeof(path), rel[0] == '/' ? "%s" : "%s/%s", rel[0] == '/' ? rel : t->base, rel);
    t->rc = xs_mkdir(t->c, t->id, path);
    if (!t->rc)
        t->rc = xs_set_perms(t->c, t->id, path, perms, n);
}

static int write_tree(struct tx *t, const struct xs_domain_info *d)
{
    uint16_t id = (uint16_t)d->domid;
    /* ro: dom0's, readable by the domain; rw: the domain's own. */
    const struct xs_perm ro[] = { { 0, XS_PERM_NONE }, { id, XS_PERM_READ } };
    const struct xs_perm rw[] = { { id, XS_PERM_NONE } };
    const struct xs_perm front[] = { { id, XS_PERM_NONE }, { 0, XS_PERM_READ } };
    char vm[80];
    snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);

    dir(t, t->base, ro, 2);
    dir(t, vm, ro, 2);
    put(t, "vm", "%s", vm);
    put(t, "name", "%s", d->name);
    put(t, "domid", "%u", d->domid);
    char p[128];
    snprintf(p, sizeof(p), "%s/name", vm);
    put(t, p, "%s", d->name);
    snprintf(p, sizeof(p), "%s/uuid", vm);
    put(t, p, "%s", d->uuid);

    dir(t, "cpu", ro, 2);
    for (unsigned i = 0; i < d->vcpus; i++) {
        snprintf(p, sizeof(p), "cpu/%u/availability", i);
        put(t, p, "online");
    }
    dir(t, "memory", ro, 2);
    put(t, "memory/static-max", "%llu", (unsigned long long)d->memory_kib);
    put(t, "memory/target", "%llu", (unsigned long long)d->memory_kib);
    dir(t, "device", ro, 2);
    dir(t, "control", ro, 2);
    /* A PVH domain is not HVM to libxl: no feature-s3/s4. */
    static const char *const guest_nodes[] = {
        "control/shutdown", "control/feature-poweroff", "control/feature-reboot",
        "control/feature-suspend", "control/sysrq", "device/suspend/event-channel",
    };
    for (size_t i = 0; i < sizeof(guest_nodes) / sizeof(guest_nodes[0]); i++)
        dir(t, guest_nodes[i], rw, 1);
    put(t, "control/platform-feature-multiprocessor-suspend", "1");
    put(t, "control/platform-feature-xs_reset_watches", "1");
    static const char *const own[] = { "data", "drivers", "feature", "attr", "error" };
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        dir(t, own[i], rw, 1);
    put(t, "store/port", "%u", d->store_port);
    put(t, "store/ring-ref", "%llu", (unsigned long long)d->store_gfn);
    dir(t, "console", front, 2);
    put(t, "console/port", "%u", d->console_port);
    put(t, "console/ring-ref", "%llu", (unsigned long long)d->console_gfn);
    put(t, "console/limit", "1048576");
    put(t, "console/type", "xenconsoled");
    put(t, "console/output", "pty");
    return t->rc;
}

int xs_domain_create_tree(struct xs_client *c, const struct xs_domain_info *d)
{
    if (!d->domid || d->domid >= 0x7ff0 || !d->name || !d->uuid || strlen(d->uuid) > 64)
        return -EINVAL;
    for (int i = 0; i < TRIES; i++) {
        struct tx t = { .c = c };
        snprintf(t.base, sizeof(t.base), "/local/domain/%u", d->domid);
        int rc = xs_txn_start(c, &t.id);
        if (rc)
            return rc;
        if ((rc = write_tree(&t, d))) {
            xs_txn_end(c, t.id, false);
            return rc;
        }
        rc = xs_txn_end(c, t.id, true);
        if (rc == -EAGAIN)
            continue;
        if (rc)
            return rc;
        return xs_introduce(c, d->domid, d->store_gfn, d->store_port);
    }
    return -EAGAIN;
}

int xs_domain_destroy_tree(struct xs_client *c, unsigned domid)
{
    char base[64], vmkey[80];
    snprintf(base, sizeof(base), "/local/domain/%u", domid);
    snprintf(vmkey, sizeof(vmkey), "%s/vm", base);
    for (int i = 0; i < TRIES; i++) {
        uint32_t tx;
        int rc = xs_txn_start(c, &tx);
        if (rc)
            return rc;
        char *vm = NULL;
        size_t len;
        if (!xs_read(c, tx, vmkey, &vm, &len) && !strncmp(vm, "/vm/", 4))
            rc = xs_rm(c, tx, vm);
        free(vm);
        if (!rc || rc == -ENOENT)
            rc = xs_rm(c, tx, base);
        if (rc && rc != -ENOENT) {
            xs_txn_end(c, tx, false);
            return rc;
        }
        rc = xs_txn_end(c, tx, true);
        if (rc == -EAGAIN)
            continue;
        if (rc)
            return rc;
        rc = xs_release(c, domid);
        return rc == -ENOENT ? 0 : rc;
    }
    return -EAGAIN;
}
