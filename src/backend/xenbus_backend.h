/* A xenbus backend framework for devices served from the domain process
 * (vbd now, vif later): the backend and frontend directories as Xen's
 * toolstack writes them, and the XenbusState handshake driven by watches on
 * the frontend's (and our own) state node.
 *
 * One bus per domain process holds one xenstore connection; its fd is polled
 * by whoever owns the bus (the domain's I/O thread through a watch_fd hook)
 * and xenbus_bus_poll dispatches watch events to the devices. Device
 * callbacks run under the bus lock, on the polling thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xen/io/xenbus.h>

struct xs_client;
struct dev_saved;
struct xenbus_bus;
struct xenbus_dev;

struct xenbus_dev_ops {
    const char *type;             /* "vbd", "vif": the directory names */
    /* Writes the type's own creation-time nodes (tx is the creating
     * transaction; xenbus_printf's with it). 0 or -errno. */
    int (*write_nodes)(struct xenbus_dev *dev, uint32_t tx);
    /* Publishes what the backend offers, just before InitWait. 0 or -errno. */
    int (*init_wait)(struct xenbus_dev *dev);
    /* The frontend is Initialised/Connected: read its nodes, map rings, bind
     * event channels. 0 (then Connected) or -errno with err set. */
    int (*connect)(struct xenbus_dev *dev, char *err, size_t errlen);
    /* Undoes connect; called only after a successful connect. */
    void (*disconnect)(struct xenbus_dev *dev);
    /* The device is gone (unplugged, or the bus closes): frees priv. */
    void (*release)(struct xenbus_dev *dev);
    /* A save (docs/save-restore.md), on a connected device. pause drains it:
     * every request taken is answered and pushed, no per-request grant stays
     * mapped. save fills out with what the backend keeps outside guest
     * memory (0, or -errno with err set: it cannot be carried). resume runs
     * it again (a checkpoint, a failed save). A type without them is refused. */
    void (*pause)(struct xenbus_dev *dev);
    int (*save)(struct xenbus_dev *dev, struct dev_saved *out, char *err, size_t errlen);
    /* Optional: bytes the paused device holds besides out (a vif: packets
     * read from its tap, not delivered yet), malloc'd into *data; 0: none.
     * Its connect op finds them again with xenbus_dev_saved_data. */
    size_t (*save_data)(struct xenbus_dev *dev, uint8_t **data);
    int (*resume)(struct xenbus_dev *dev, char *err, size_t errlen);
};

struct xenbus_dev {
    struct xenbus_bus *bus;
    const struct xenbus_dev_ops *ops;
    void *priv;                   /* the device's own state */
    unsigned domid, devid;
    char be_path[96], fe_path[96];
    enum xenbus_state state;      /* ours, as last written */
    bool connected;
    bool unplugging;              /* closing for good: nodes go when Closed */
    bool gone;                    /* nodes removed, waiting to be freed */
    struct xenbus_dev *next;
};

/* Hook to have fd polled: fn(arg) must be called when it is readable; fn
 * NULL: stop polling fd. */
typedef int (*xenbus_watch_fd_fn)(void *opaque, int fd, void (*fn)(void *arg), void *arg);

/* Connects to xenstore at socket_path (NULL: the default). watch_fd may be
 * NULL: the caller then calls xenbus_bus_poll itself. NULL + errno on error. */
struct xenbus_bus *xenbus_bus_open(const char *socket_path, unsigned domid,
                                   xenbus_watch_fd_fn watch_fd, void *opaque);
/* Removes every device (disconnecting it) and closes the connection. */
void xenbus_bus_close(struct xenbus_bus *bus);
int xenbus_bus_fd(struct xenbus_bus *bus);
/* Handles every watch event that has arrived (never blocks). */
void xenbus_bus_poll(struct xenbus_bus *bus);
/* Whether the daemon closed the bus's connection (it restarted). */
bool xenbus_bus_lost(struct xenbus_bus *bus);
/* After a daemon restart: connects again and rewrites every device's
 * directories in the state it is in (a connected frontend's own nodes are
 * lost with the daemon; its rings go on working). 0 if not lost or done,
 * else -errno (try again later). */
int xenbus_bus_reconnect(struct xenbus_bus *bus);

/* Writes the device's directories and goes to InitWait. NULL with err set. */
struct xenbus_dev *xenbus_dev_create(struct xenbus_bus *bus, const struct xenbus_dev_ops *ops,
                                     unsigned devid, void *priv, char *err, size_t errlen);
/* Hot-unplug: online=0, state Closing; the device goes once the frontend
 * has closed (at once if it never connected). */
void xenbus_dev_unplug(struct xenbus_dev *dev);

/* Removes the device at once, whatever the frontend is doing (xl's -f). */
void xenbus_dev_remove(struct xenbus_dev *dev);
/* Calls fn for each device of type (NULL: all) still present, under the bus
 * lock; stops early when fn returns true. Returns the device it stopped at. */
struct xenbus_dev *xenbus_bus_find(struct xenbus_bus *bus, const char *type,
                                   bool (*fn)(struct xenbus_dev *dev, void *arg), void *arg);

/* ---- save and restore (docs/save-restore.md) ---- */

/* Refuses (-1 with err) a bus with a device that cannot be carried: one being
 * unplugged, or a connected one of a type without the save ops. */
int xenbus_bus_check_saveable(struct xenbus_bus *bus, char *err, size_t errlen);
/* Drains every connected device and fills *out (malloc'd, *n entries) with
 * their state. 0, or -1 with err set and every device running again. */
int xenbus_bus_pause(struct xenbus_bus *bus, struct dev_saved **out, unsigned *n, char *err,
                     size_t errlen);
/* Runs the paused devices again. */
void xenbus_bus_resume(struct xenbus_bus *bus);
/* Restore: the devices about to be created from the config were connected
 * in the saved guest. Until xenbus_bus_restored, new devices leave the
 * frontend's restored state node alone and their connect op finds its saved
 * state with xenbus_dev_saved. */
int xenbus_bus_set_saved(struct xenbus_bus *bus, const struct dev_saved *saved, unsigned n);
/* The saved state of dev (NULL: none), taken: a second call gives NULL. */
const struct dev_saved *xenbus_dev_saved(struct xenbus_dev *dev);
/* The DEV_DATA record of the paused devices (docs/save-restore.md): per
 * device whose save_data gives any, u32 type, u32 devid, u32 length, u32 0,
 * then the bytes. *out malloc'd (*len 0, *out NULL: none). 0 or -ENOMEM. */
int xenbus_bus_saved_data(struct xenbus_bus *bus, uint8_t **out, size_t *len);
/* Restore, after xenbus_bus_set_saved: that record (copied), each entry
 * checked against the saved devices. 0, or -1 with err. */
int xenbus_bus_set_saved_data(struct xenbus_bus *bus, const void *rec, size_t len, char *err,
                              size_t errlen);
/* dev's saved bytes (NULL: none); valid until xenbus_bus_restored. */
const uint8_t *xenbus_dev_saved_data(struct xenbus_dev *dev, size_t *len);
/* Connects every saved device now (from its frontend's restored nodes and
 * the saved ring state) and forgets the saved list. 0, or -1 with err
 * naming a device that is missing from the config or could not connect. */
int xenbus_bus_restored(struct xenbus_bus *bus, char *err, size_t errlen);

/* For the device ops (bus lock held). */
int xenbus_printf(struct xenbus_dev *dev, uint32_t tx, bool frontend, const char *node,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reads a frontend node; *val malloc'd. 0 or -errno. */
int xenbus_read_fe(struct xenbus_dev *dev, const char *node, char **val);
/* Reads an unsigned frontend node; def (returned as 0) when absent; -EINVAL
 * when not a number. */
int xenbus_read_fe_uint(struct xenbus_dev *dev, const char *node, unsigned long def,
                        unsigned long *out);
const char *xenbus_state_name(enum xenbus_state s);
