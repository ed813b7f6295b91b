/* A small synchronous xenstore client over the daemon's unix socket, for the
 * domain process, the toolstack and tests. Functions return 0 or -errno
 * (errors from the daemon arrive as their errno). Not thread-safe: one
 * client per thread. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore/perms.h"

/* Where xenkvmd serves the store unless told otherwise. */
#define XS_DEFAULT_SOCKET "/run/xenkvm/xenstored.sock"

struct xs_client;

/* path NULL: $XENSTORED_PATH, else /run/xenkvm/xenstored.sock. NULL + errno on failure. */
struct xs_client *xs_open(const char *path);
void xs_close(struct xs_client *c);
int xs_client_fd(const struct xs_client *c);

/* Any request; *reply (if non-NULL) gets a malloc'd copy of the payload with a
 * NUL after it. Watch events arriving meanwhile are kept for xs_read_watch. */
int xs_request(struct xs_client *c, uint32_t type, uint32_t tx, const void *payload,
               size_t len, char **reply, size_t *rlen);

/* tx 0: outside any transaction. */
int xs_read(struct xs_client *c, uint32_t tx, const char *path, char **value, size_t *len);
int xs_write(struct xs_client *c, uint32_t tx, const char *path, const void *value, size_t len);
int xs_write_str(struct xs_client *c, uint32_t tx, const char *path, const char *value);
int xs_mkdir(struct xs_client *c, uint32_t tx, const char *path);
int xs_rm(struct xs_client *c, uint32_t tx, const char *path);
/* rm, then the parents it leaves empty (no value, no children), up to the
 * first that is not, as libxl removes a device's directories. */
int xs_rm_tidy(struct xs_client *c, uint32_t tx, const char *path);
/* *names: one malloc'd block (free(*names)) holding *n pointers and the names. */
int xs_directory(struct xs_client *c, uint32_t tx, const char *path, char ***names, unsigned *n);
/* *perms malloc'd. */
int xs_get_perms(struct xs_client *c, uint32_t tx, const char *path, struct xs_perm **perms,
                 unsigned *n);
int xs_set_perms(struct xs_client *c, uint32_t tx, const char *path,
                 const struct xs_perm *perms, unsigned n);

int xs_watch(struct xs_client *c, const char *path, const char *token);
int xs_unwatch(struct xs_client *c, const char *path, const char *token);
/* Next watch event (queued or arriving within timeout_ms; -1 waits forever);
 * -ETIMEDOUT if none. *path and *token are malloc'd. */
int xs_read_watch(struct xs_client *c, char **path, char **token, int timeout_ms);
int xs_reset_watches(struct xs_client *c);

int xs_txn_start(struct xs_client *c, uint32_t *tx);
/* -EAGAIN: a conflicting change was committed first; start over. */
int xs_txn_end(struct xs_client *c, uint32_t tx, bool commit);

int xs_introduce(struct xs_client *c, unsigned domid, uint64_t gfn, unsigned port);
int xs_release(struct xs_client *c, unsigned domid);
int xs_is_introduced(struct xs_client *c, unsigned domid, bool *yes);
int xs_get_domain_path(struct xs_client *c, unsigned domid, char **path);
int xs_set_target(struct xs_client *c, unsigned domid, unsigned target);
int xs_resume(struct xs_client *c, unsigned domid);

/* The domain process's connection for a guest: connects to the daemon and
 * binds the connection to domid (XS_CONTROL "xenkvm-relay\0<domid>\0"),
 * introducing the domain if it is not yet. From then on every byte on the
 * returned fd is the guest's: relay raw ring bytes both ways. Returns the fd
 * (blocking, close-on-exec) or -errno. */
int xs_relay_open(const char *socket_path, unsigned domid);
/* Before domid is used (again): -EBUSY while a live relay serves it; else the
 * daemon releases whatever domain had it and removes what it left:
 * /local/domain/<domid>, the /vm entry named there and
 * /local/domain/0/backend/<kind>/<domid> (XS_CONTROL "xenkvm-scrub"). */
int xs_scrub(struct xs_client *c, unsigned domid);

/* The standard tree of a domain, as Xen's toolstack writes it. */
struct xs_domain_info {
    unsigned domid;
    const char *name;
    const char *uuid;          /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
    uint64_t memory_kib;
    unsigned vcpus;            /* the domain's vCPUs (maxvcpus) */
    uint64_t vcpus_online;     /* cpu/N/availability "online" for bit N; 0: all */
    unsigned store_port;
    uint64_t store_gfn;
    unsigned console_port;
    uint64_t console_gfn;
};

/* Writes /local/domain/N/... and /vm/UUID in one transaction (retried on
 * EAGAIN), then INTRODUCEs the domain (@introduceDomain fires). */
int xs_domain_create_tree(struct xs_client *c, const struct xs_domain_info *info);
/* Removes /local/domain/N and /vm/UUID, then RELEASEs the domain
 * (@releaseDomain fires). Missing parts are not an error. */
int xs_domain_destroy_tree(struct xs_client *c, unsigned domid);
