/* xenbus backend framework: device directories and the state handshake. */
#include "backend/xenbus_backend.h"
#include "backend/device_state.h"
#include "xenstore/client.h"
#include "common/log.h"
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TX_TRIES 16

struct xenbus_bus {
    struct xs_client *xs;
    unsigned domid;
    pthread_mutex_t lock;         /* the client and the device list */
    struct xenbus_dev *devs;
    char *socket_path;            /* NULL: the default */
    xenbus_watch_fd_fn watch_fd;
    void *opaque;
    bool lost;                    /* the daemon went away: see xenbus_bus_reconnect */
    struct dev_saved *saved;      /* restore: the saved devices (xenbus_bus_set_saved) */
    bool *saved_taken;
    unsigned nr_saved;
    uint8_t *saved_data;          /* restore: the DEV_DATA record (xenbus_bus_set_saved_data) */
    size_t saved_data_len;
    bool restoring;
};

const char *xenbus_state_name(enum xenbus_state s)
{
    static const char *const n[] = { "Unknown", "Initialising", "InitWait", "Initialised",
                                     "Connected", "Closing", "Closed", "Reconfiguring",
                                     "Reconfigured" };
    return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

static int vprint(struct xenbus_dev *dev, uint32_t tx, bool fe, const char *node,
                  const char *fmt, va_list ap)
{
    char path[160], val[256];
    snprintf(path, sizeof(path), "%s/%s", fe ? dev->fe_path : dev->be_path, node);
    vsnprintf(val, sizeof(val), fmt, ap);
    return xs_write_str(dev->bus->xs, tx, path, val);
}

int xenbus_printf(struct xenbus_dev *dev, uint32_t tx, bool frontend, const char *node,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vprint(dev, tx, frontend, node, fmt, ap);
    va_end(ap);
    return rc;
}

int xenbus_read_fe(struct xenbus_dev *dev, const char *node, char **val)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", dev->fe_path, node);
    return xs_read(dev->bus->xs, 0, path, val, NULL);
}

int xenbus_read_fe_uint(struct xenbus_dev *dev, const char *node, unsigned long def,
                        unsigned long *out)
{
    char *v, *end;
    int rc = xenbus_read_fe(dev, node, &v);
    if (rc == -ENOENT) {
        *out = def;
        return 0;
    }
    if (rc)
        return rc;
    errno = 0;
    *out = strtoul(v, &end, 10);
    rc = (errno || end == v || *end || v[0] == '-') ? -EINVAL : 0;
    free(v);
    return rc;
}

static void set_state(struct xenbus_dev *dev, enum xenbus_state s)
{
    if (dev->state == s)
        return;
    log_info("xenbus: %s: %s -> %s", dev->be_path, xenbus_state_name(dev->state),
             xenbus_state_name(s));
    dev->state = s;
    int rc = xenbus_printf(dev, 0, false, "state", "%d", s);
    if (rc)
        log_warn("xenbus: %s: cannot write state: %s", dev->be_path, strerror(-rc));
}

/* Reads a state node: Unknown if absent or garbage. */
static enum xenbus_state read_state(struct xenbus_bus *bus, const char *dir)
{
    char path[160], *v, *end;
    snprintf(path, sizeof(path), "%s/state", dir);
    if (xs_read(bus->xs, 0, path, &v, NULL))
        return XenbusStateUnknown;
    unsigned long s = strtoul(v, &end, 10);
    bool ok = end != v && !*end && s <= XenbusStateReconfigured;
    free(v);
    return ok ? (enum xenbus_state)s : XenbusStateUnknown;
}

/* ---- creation and removal ---- */

static int write_dirs(struct xenbus_dev *dev, uint32_t tx)
{
    struct xs_client *xs = dev->bus->xs;
    uint16_t dom = dev->domid;
    /* libxl: the frontend directory is the domain's, readable by the backend
     * (dom 0); the backend directory is dom 0's, readable by the domain. */
    const struct xs_perm fe_perms[] = { { dom, XS_PERM_NONE }, { 0, XS_PERM_READ } };
    const struct xs_perm be_perms[] = { { 0, XS_PERM_NONE }, { dom, XS_PERM_READ } };
    int rc = xs_mkdir(xs, tx, dev->be_path);
    if (!rc) rc = xs_set_perms(xs, tx, dev->be_path, be_perms, 2);
    if (!rc) rc = xs_mkdir(xs, tx, dev->fe_path);
    if (!rc) rc = xs_set_perms(xs, tx, dev->fe_path, fe_perms, 2);
    if (!rc) rc = xenbus_printf(dev, tx, false, "frontend", "%s", dev->fe_path);
    if (!rc) rc = xenbus_printf(dev, tx, false, "frontend-id", "%u", dev->domid);
    if (!rc) rc = xenbus_printf(dev, tx, false, "online", "1");
    if (!rc) rc = xenbus_printf(dev, tx, false, "state", "%d", XenbusStateInitialising);
    if (!rc) rc = xenbus_printf(dev, tx, true, "backend", "%s", dev->be_path);
    if (!rc) rc = xenbus_printf(dev, tx, true, "backend-id", "0");
    /* A restored frontend's state node is its own (it is connected). */
    char path[160], *v = NULL;
    snprintf(path, sizeof(path), "%s/state", dev->fe_path);
    bool keep = dev->bus->restoring && xs_read(xs, tx, path, &v, NULL) == 0;
    free(v);
    if (!rc && !keep)
        rc = xenbus_printf(dev, tx, true, "state", "%d", XenbusStateInitialising);
    if (!rc && dev->ops->write_nodes)
        rc = dev->ops->write_nodes(dev, tx);
    return rc;
}

/* Runs fn in a transaction, retried while another commit wins. */
static int in_txn(struct xenbus_dev *dev, int (*fn)(struct xenbus_dev *, uint32_t))
{
    for (int i = 0; i < TX_TRIES; i++) {
        uint32_t tx;
        int rc = xs_txn_start(dev->bus->xs, &tx);
        if (rc)
            return rc;
        rc = fn(dev, tx);
        int end = xs_txn_end(dev->bus->xs, tx, rc == 0);
        if (rc)
            return rc;
        if (end != -EAGAIN)
            return end;
    }
    return -EAGAIN;
}

/* Both directories, and the parents they leave empty (backend/vbd/<domid>,
 * device/vbd), as libxl does. */
static int rm_dirs(struct xenbus_dev *dev, uint32_t tx)
{
    int rc = xs_rm_tidy(dev->bus->xs, tx, dev->be_path);
    int rc2 = xs_rm_tidy(dev->bus->xs, tx, dev->fe_path);
    if (rc == -ENOENT) rc = 0;
    if (rc2 == -ENOENT) rc2 = 0;
    return rc ? rc : rc2;
}

static void watch_paths(struct xenbus_dev *dev, bool on)
{
    char path[160], token[64];
    for (int be = 0; be < 2; be++) {
        snprintf(path, sizeof(path), "%s/state", be ? dev->be_path : dev->fe_path);
        snprintf(token, sizeof(token), "xenbus:%s:%u:%s", dev->ops->type, dev->devid,
                 be ? "be" : "fe");
        if (on)
            xs_watch(dev->bus->xs, path, token);
        else
            xs_unwatch(dev->bus->xs, path, token);
    }
}

/* Disconnects and removes the device's nodes (the device stays listed until
 * the bus frees it). */
static void remove_dev(struct xenbus_dev *dev)
{
    if (dev->gone)
        return;
    if (dev->connected)
        dev->ops->disconnect(dev);
    dev->connected = false;
    watch_paths(dev, false);
    in_txn(dev, rm_dirs);
    dev->gone = true;
    log_info("xenbus: %s removed", dev->be_path);
    if (dev->ops->release)
        dev->ops->release(dev);
    dev->priv = NULL;
}

/* ---- the handshake ---- */

static void fail(struct xenbus_dev *dev, const char *what)
{
    log_err("xenbus: %s: %s", dev->be_path, what);
    xenbus_printf(dev, 0, false, "error", "%s", what);
    set_state(dev, XenbusStateClosing);
}

static void frontend_changed(struct xenbus_dev *dev)
{
    enum xenbus_state fe = read_state(dev->bus, dev->fe_path);
    log_debug("xenbus: %s: frontend %s, backend %s", dev->be_path, xenbus_state_name(fe),
              xenbus_state_name(dev->state));
    switch (fe) {
    case XenbusStateInitialising:
        if (dev->state == XenbusStateClosed && !dev->unplugging) {
            /* the frontend starts over (a new driver, a rebooted kernel) */
            if (dev->ops->init_wait && dev->ops->init_wait(dev))
                fail(dev, "cannot publish the backend's features");
            else
                set_state(dev, XenbusStateInitWait);
        }
        break;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (dev->connected || dev->unplugging || dev->state != XenbusStateInitWait)
            break;
        char err[256] = "connect failed";
        int rc = dev->ops->connect(dev, err, sizeof(err));
        if (rc) {
            fail(dev, err);
            break;
        }
        dev->connected = true;
        set_state(dev, XenbusStateConnected);
        break;
    case XenbusStateClosing:
        if (dev->connected)
            dev->ops->disconnect(dev);
        dev->connected = false;
        set_state(dev, XenbusStateClosing);
        break;
    case XenbusStateClosed:
    case XenbusStateUnknown:
        if (dev->connected)
            dev->ops->disconnect(dev);
        dev->connected = false;
        if (dev->state == XenbusStateInitWait && fe == XenbusStateUnknown && !dev->unplugging)
            break;     /* no frontend node yet */
        set_state(dev, XenbusStateClosed);
        if (dev->unplugging)
            remove_dev(dev);
        break;
    default:
        break;
    }
}

static void unplug_locked(struct xenbus_dev *dev);

/* Someone else (a toolstack) wrote our state: Closing means unplug. */
static void backend_changed(struct xenbus_dev *dev)
{
    enum xenbus_state be = read_state(dev->bus, dev->be_path);
    if (be == XenbusStateClosing && dev->state != XenbusStateClosing && !dev->unplugging) {
        log_info("xenbus: %s: unplug requested", dev->be_path);
        unplug_locked(dev);
    }
}

static void unplug_locked(struct xenbus_dev *dev)
{
    if (dev->gone)
        return;
    dev->unplugging = true;
    xenbus_printf(dev, 0, false, "online", "0");
    enum xenbus_state fe = read_state(dev->bus, dev->fe_path);
    if (!dev->connected && fe != XenbusStateInitialised && fe != XenbusStateConnected) {
        set_state(dev, XenbusStateClosed);
        remove_dev(dev);             /* the frontend never connected */
        return;
    }
    dev->state = XenbusStateUnknown; /* force the write */
    set_state(dev, XenbusStateClosing);
    frontend_changed(dev);           /* it may already be closed */
}

void xenbus_dev_unplug(struct xenbus_dev *dev)
{
    pthread_mutex_lock(&dev->bus->lock);
    unplug_locked(dev);
    pthread_mutex_unlock(&dev->bus->lock);
}

void xenbus_dev_remove(struct xenbus_dev *dev)
{
    pthread_mutex_lock(&dev->bus->lock);
    if (!dev->gone) {
        dev->unplugging = true;
        xenbus_printf(dev, 0, false, "online", "0");
        set_state(dev, XenbusStateClosed);
        remove_dev(dev);
    }
    pthread_mutex_unlock(&dev->bus->lock);
}

struct xenbus_dev *xenbus_bus_find(struct xenbus_bus *bus, const char *type,
                                   bool (*fn)(struct xenbus_dev *dev, void *arg), void *arg)
{
    struct xenbus_dev *found = NULL;
    pthread_mutex_lock(&bus->lock);
    for (struct xenbus_dev *d = bus->devs; d && !found; d = d->next)
        if (!d->gone && (!type || !strcmp(d->ops->type, type)) && fn(d, arg))
            found = d;
    pthread_mutex_unlock(&bus->lock);
    return found;
}

static struct xenbus_dev *find(struct xenbus_bus *bus, const char *token, bool *be)
{
    char type[16], which[4];
    unsigned devid;
    if (sscanf(token, "xenbus:%15[^:]:%u:%3s", type, &devid, which) != 3)
        return NULL;
    *be = !strcmp(which, "be");
    for (struct xenbus_dev *d = bus->devs; d; d = d->next)
        if (!d->gone && d->devid == devid && !strcmp(d->ops->type, type))
            return d;
    return NULL;
}

/* Dispatches queued events; requests made meanwhile may queue more, so this
 * loops until none is left. Bus lock held. */
static void dispatch(struct xenbus_bus *bus)
{
    char *path, *token;
    int rc;
    while (!bus->lost && (rc = xs_read_watch(bus->xs, &path, &token, 0)) != -ETIMEDOUT) {
        if (rc) {
            /* The daemon closed the connection: stop polling a dead fd
             * (it would be readable forever). */
            log_warn("xenbus: domain %u: xenstore connection lost: %s", bus->domid,
                     strerror(-rc));
            bus->lost = true;
            if (bus->watch_fd)
                bus->watch_fd(bus->opaque, xs_client_fd(bus->xs), NULL, NULL);
            break;
        }
        bool be;
        struct xenbus_dev *dev = find(bus, token, &be);
        if (dev) {
            if (be)
                backend_changed(dev);
            else
                frontend_changed(dev);
        }
        free(path);
        free(token);
    }
}

void xenbus_bus_poll(struct xenbus_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    dispatch(bus);
    pthread_mutex_unlock(&bus->lock);
}

static void bus_readable(void *arg)
{
    xenbus_bus_poll(arg);
}

/* ---- the bus ---- */

struct xenbus_bus *xenbus_bus_open(const char *socket_path, unsigned domid,
                                   xenbus_watch_fd_fn watch_fd, void *opaque)
{
    struct xenbus_bus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    bus->xs = xs_open(socket_path);
    if (!bus->xs) {
        int e = errno;
        free(bus);
        errno = e;
        return NULL;
    }
    bus->domid = domid;
    bus->watch_fd = watch_fd;
    bus->opaque = opaque;
    if (socket_path && !(bus->socket_path = strdup(socket_path))) {
        xs_close(bus->xs);
        free(bus);
        errno = ENOMEM;
        return NULL;
    }
    pthread_mutex_init(&bus->lock, NULL);
    if (watch_fd) {
        int rc = watch_fd(opaque, xs_client_fd(bus->xs), bus_readable, bus);
        if (rc) {
            xs_close(bus->xs);
            free(bus->socket_path);
            free(bus);
            errno = -rc;
            return NULL;
        }
    }
    return bus;
}

bool xenbus_bus_lost(struct xenbus_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    bool lost = bus->lost;
    pthread_mutex_unlock(&bus->lock);
    return lost;
}

/* A device's directories again, in the state it is in. */
static int rewrite_dirs(struct xenbus_dev *dev, uint32_t tx)
{
    int rc = write_dirs(dev, tx);
    /* A connected frontend's own nodes went with the daemon; its state is
     * the one thing known for sure. */
    if (!rc && dev->connected)
        rc = xenbus_printf(dev, tx, true, "state", "%d", XenbusStateConnected);
    if (!rc)
        rc = xenbus_printf(dev, tx, false, "state", "%d", dev->state);
    return rc;
}

int xenbus_bus_reconnect(struct xenbus_bus *bus)
{
    int rc = 0;
    pthread_mutex_lock(&bus->lock);
    if (!bus->lost)
        goto out;
    struct xs_client *xs = xs_open(bus->socket_path);
    if (!xs) {
        rc = -errno;
        goto out;
    }
    if (bus->watch_fd && (rc = bus->watch_fd(bus->opaque, xs_client_fd(xs), bus_readable, bus))) {
        xs_close(xs);
        goto out;
    }
    xs_close(bus->xs);
    bus->xs = xs;
    bus->lost = false;
    for (struct xenbus_dev *d = bus->devs; d; d = d->next) {
        if (d->gone)
            continue;
        int r = in_txn(d, rewrite_dirs);
        if (!r && d->ops->init_wait && !d->connected)
            r = d->ops->init_wait(d);
        if (r)
            log_warn("xenbus: %s: cannot rewrite the device's nodes: %s", d->be_path,
                     strerror(-r));
        watch_paths(d, true);
    }
    log_warn("xenbus: domain %u: xenstore back: device nodes rewritten", bus->domid);
    dispatch(bus);
out:
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

int xenbus_bus_fd(struct xenbus_bus *bus)
{
    return xs_client_fd(bus->xs);
}

struct xenbus_dev *xenbus_dev_create(struct xenbus_bus *bus, const struct xenbus_dev_ops *ops,
                                     unsigned devid, void *priv, char *err, size_t errlen)
{
    struct xenbus_dev *dev = calloc(1, sizeof(*dev));
    if (!dev) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    dev->bus = bus;
    dev->ops = ops;
    dev->priv = priv;
    dev->domid = bus->domid;
    dev->devid = devid;
    dev->state = XenbusStateInitialising;
    snprintf(dev->be_path, sizeof(dev->be_path), "/local/domain/0/backend/%s/%u/%u", ops->type,
             bus->domid, devid);
    snprintf(dev->fe_path, sizeof(dev->fe_path), "/local/domain/%u/device/%s/%u", bus->domid,
             ops->type, devid);
    pthread_mutex_lock(&bus->lock);
    int rc = in_txn(dev, write_dirs);
    if (!rc && ops->init_wait)
        rc = ops->init_wait(dev);
    if (rc) {
        snprintf(err, errlen, "%s: cannot write the device's xenstore nodes: %s", dev->be_path,
                 strerror(-rc));
        in_txn(dev, rm_dirs);
        pthread_mutex_unlock(&bus->lock);
        free(dev);
        return NULL;
    }
    set_state(dev, XenbusStateInitWait);
    dev->next = bus->devs;
    bus->devs = dev;
    watch_paths(dev, true);
    dispatch(bus);
    pthread_mutex_unlock(&bus->lock);
    return dev;
}

/* ---- save and restore ---- */

static int saved_type(const char *type)
{
    return !strcmp(type, "vbd") ? DEV_SAVED_VBD : !strcmp(type, "vif") ? DEV_SAVED_VIF : 0;
}

int xenbus_bus_check_saveable(struct xenbus_bus *bus, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&bus->lock);
    for (struct xenbus_dev *d = bus->devs; d && !rc; d = d->next) {
        if (d->gone)
            continue;
        if (d->unplugging) {
            snprintf(err, errlen, "%s is being unplugged: try again once it is gone",
                     d->be_path);
            rc = -1;
        } else if (d->connected && (!d->ops->pause || !d->ops->save || !d->ops->resume ||
                                    !saved_type(d->ops->type))) {
            snprintf(err, errlen, "%s: a connected %s device cannot be saved", d->be_path,
                     d->ops->type);
            rc = -1;
        }
    }
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

static void resume_locked(struct xenbus_bus *bus)
{
    for (struct xenbus_dev *d = bus->devs; d; d = d->next) {
        char err[256] = "";
        if (!d->gone && d->connected && d->ops->resume && d->ops->resume(d, err, sizeof(err)))
            log_err("xenbus: %s: cannot run again after a save: %s", d->be_path, err);
    }
}

int xenbus_bus_pause(struct xenbus_bus *bus, struct dev_saved **out, unsigned *n, char *err,
                     size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (xenbus_bus_check_saveable(bus, err, errlen))
        return -1;
    pthread_mutex_lock(&bus->lock);
    unsigned count = 0;
    for (struct xenbus_dev *d = bus->devs; d; d = d->next)
        count += !d->gone && d->connected;
    struct dev_saved *s = calloc(count ? count : 1, sizeof(*s));
    int rc = s ? 0 : -1;
    if (!s)
        snprintf(err, errlen, "out of memory");
    for (struct xenbus_dev *d = bus->devs; d && !rc; d = d->next)
        if (!d->gone && d->connected)
            d->ops->pause(d);
    unsigned i = 0;
    for (struct xenbus_dev *d = bus->devs; d && !rc; d = d->next) {
        if (d->gone || !d->connected)
            continue;
        struct dev_saved *e = &s[i++];
        memset(e, 0, sizeof(*e));
        e->type = saved_type(d->ops->type);
        e->devid = d->devid;
        char why[200] = "";
        if (d->ops->save(d, e, why, sizeof(why))) {
            snprintf(err, errlen, "%s: %s", d->be_path, why);
            rc = -1;
        }
    }
    if (rc) {
        resume_locked(bus);
        free(s);
        s = NULL;
        i = 0;
    }
    pthread_mutex_unlock(&bus->lock);
    *out = s;
    *n = i;
    return rc;
}

void xenbus_bus_resume(struct xenbus_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    resume_locked(bus);
    pthread_mutex_unlock(&bus->lock);
}

int xenbus_bus_set_saved(struct xenbus_bus *bus, const struct dev_saved *saved, unsigned n)
{
    pthread_mutex_lock(&bus->lock);
    free(bus->saved);
    free(bus->saved_taken);
    bus->saved = n ? malloc(n * sizeof(*saved)) : NULL;
    bus->saved_taken = n ? calloc(n, sizeof(bool)) : NULL;
    int rc = n && (!bus->saved || !bus->saved_taken) ? -ENOMEM : 0;
    if (!rc && n)
        memcpy(bus->saved, saved, n * sizeof(*saved));
    bus->nr_saved = rc ? 0 : n;
    bus->restoring = !rc;
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

const struct dev_saved *xenbus_dev_saved(struct xenbus_dev *dev)
{
    struct xenbus_bus *bus = dev->bus;
    int type = saved_type(dev->ops->type);
    for (unsigned i = 0; i < bus->nr_saved; i++)
        if (!bus->saved_taken[i] && bus->saved[i].type == (uint32_t)type &&
            bus->saved[i].devid == dev->devid) {
            bus->saved_taken[i] = true;
            return &bus->saved[i];
        }
    return NULL;
}

struct data_head {                /* one device's entry in the DEV_DATA record */
    uint32_t type, devid, len, zero;
};

int xenbus_bus_saved_data(struct xenbus_bus *bus, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int rc = 0;
    pthread_mutex_lock(&bus->lock);
    for (struct xenbus_dev *d = bus->devs; d && !rc; d = d->next) {
        uint8_t *data = NULL;
        size_t n = d->gone || !d->connected || !d->ops->save_data ? 0 : d->ops->save_data(d, &data);
        if (!n)
            continue;
        uint8_t *grown = n <= UINT32_MAX ? realloc(*out, *len + sizeof(struct data_head) + n)
                                         : NULL;
        if (!grown) {
            rc = -ENOMEM;
        } else {
            struct data_head h = { (uint32_t)saved_type(d->ops->type), d->devid, (uint32_t)n, 0 };
            memcpy(grown + *len, &h, sizeof(h));
            memcpy(grown + *len + sizeof(h), data, n);
            *out = grown;
            *len += sizeof(h) + n;
        }
        free(data);
    }
    pthread_mutex_unlock(&bus->lock);
    if (rc) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return rc;
}

/* The entry of (type, devid) in a DEV_DATA record, or NULL. */
static const uint8_t *find_data(const uint8_t *rec, size_t len, uint32_t type, uint32_t devid,
                                size_t *n)
{
    struct data_head h;
    for (size_t at = 0; at < len; at += sizeof(h) + h.len) {
        memcpy(&h, rec + at, sizeof(h));
        if (h.type == type && h.devid == devid) {
            *n = h.len;
            return rec + at + sizeof(h);
        }
    }
    return NULL;
}

int xenbus_bus_set_saved_data(struct xenbus_bus *bus, const void *rec, size_t len, char *err,
                              size_t errlen)
{
    const uint8_t *p = rec;
    struct data_head h;
    int rc = 0;
    pthread_mutex_lock(&bus->lock);
    for (size_t at = 0; at < len && !rc; at += sizeof(h) + h.len) {
        bool known = false;
        if (len - at >= sizeof(h))
            memcpy(&h, p + at, sizeof(h));
        if (len - at < sizeof(h) || h.zero || len - at - sizeof(h) < h.len) {
            snprintf(err, errlen, "corrupt: the DEV_DATA record is cut short at byte %zu", at);
            rc = -1;
            break;
        }
        size_t dup;
        for (unsigned i = 0; i < bus->nr_saved; i++)
            known |= bus->saved[i].type == h.type && bus->saved[i].devid == h.devid;
        if (!known || find_data(p, at, h.type, h.devid, &dup)) {
            snprintf(err, errlen, "corrupt: DEV_DATA for device %u (type %u), %s", h.devid,
                     h.type, known ? "twice" : "which is not in the DEVICES record");
            rc = -1;
        }
    }
    free(bus->saved_data);
    bus->saved_data = !rc && len ? malloc(len) : NULL;
    if (bus->saved_data)
        memcpy(bus->saved_data, rec, len);
    else if (!rc && len) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    bus->saved_data_len = bus->saved_data ? len : 0;
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

const uint8_t *xenbus_dev_saved_data(struct xenbus_dev *dev, size_t *len)
{
    struct xenbus_bus *bus = dev->bus;
    *len = 0;
    return bus->saved_data ? find_data(bus->saved_data, bus->saved_data_len,
                                       (uint32_t)saved_type(dev->ops->type), dev->devid, len)
                           : NULL;
}

int xenbus_bus_restored(struct xenbus_bus *bus, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&bus->lock);
    for (unsigned i = 0; i < bus->nr_saved && !rc; i++) {
        const struct dev_saved *s = &bus->saved[i];
        struct xenbus_dev *dev = NULL;
        for (struct xenbus_dev *d = bus->devs; d && !dev; d = d->next)
            if (!d->gone && saved_type(d->ops->type) == (int)s->type && d->devid == s->devid)
                dev = d;
        const char *type = s->type == DEV_SAVED_VBD ? "disk" : "network device";
        if (!dev) {
            snprintf(err, errlen, "the saved guest has %s %u connected; the config has none",
                     type, s->devid);
            rc = -1;
            break;
        }
        if (!dev->connected && dev->state == XenbusStateInitWait)
            frontend_changed(dev);   /* the frontend's restored state: Connected */
        if (!dev->connected || !bus->saved_taken[i]) {
            snprintf(err, errlen, "%s: the saved connection of %s %u could not be made again "
                     "(see the log)", dev->be_path, type, s->devid);
            rc = -1;
        }
    }
    free(bus->saved);
    free(bus->saved_taken);
    free(bus->saved_data);
    bus->saved = NULL;
    bus->saved_taken = NULL;
    bus->saved_data = NULL;
    bus->saved_data_len = 0;
    bus->nr_saved = 0;
    bus->restoring = false;
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

void xenbus_bus_close(struct xenbus_bus *bus)
{
    if (!bus)
        return;
    pthread_mutex_lock(&bus->lock);
    while (bus->devs) {
        struct xenbus_dev *d = bus->devs;
        bus->devs = d->next;
        remove_dev(d);
        free(d);
    }
    pthread_mutex_unlock(&bus->lock);
    if (bus->watch_fd && !bus->lost)
        bus->watch_fd(bus->opaque, xs_client_fd(bus->xs), NULL, NULL);
    xs_close(bus->xs);
    pthread_mutex_destroy(&bus->lock);
    free(bus->saved);
    free(bus->saved_taken);
    free(bus->saved_data);
    free(bus->socket_path);
    free(bus);
}
