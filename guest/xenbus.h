/* A small polling xenstore client on the guest's ring (HVM_PARAM_STORE_PFN /
 * HVM_PARAM_STORE_EVTCHN): one request in flight at a time, watch events that
 * arrive meanwhile are queued for xb_wait_watch(). Wire format:
 * <xen/io/xs_wire.h> and Xen's docs/misc/xenstore.txt. */
#pragma once
#include "xenhdr.h"
#include "lib.h"
#include <xen/io/xs_wire.h>

/* Results: 0, or one of these. XB_EXS: the daemon answered XS_ERROR; its errno
 * name is what xb_errname() returns until the next request. */
enum {
    XB_EXS = 1,
    XB_ETIMEOUT = -1, /* no (complete) reply in time */
    XB_EPROTO = -2,   /* bad ring indices, oversized or mismatched message */
    XB_E2BIG = -3,    /* request or reply does not fit */
    XB_ENOTREADY = -4,
    XB_EBROKEN = -5,  /* given up after an earlier timeout or protocol error */
};

#define XB_PATH_MAX 256
#define XB_TOKEN_MAX 64

struct xb_watch_event {
    char path[XB_PATH_MAX];
    char token[XB_TOKEN_MAX];
};

/* Reads the ring's gfn and port, checks the gfn is mapped (identity, low 4
 * GiB). Returns 0, a hypercall error, or -XEN_ENXIO for unusable values. */
long xb_init(void);
evtchn_port_t xb_port(void);
/* True once the connection was given up (every request then XB_EBROKEN). */
bool xb_broken(void);
/* The ring itself, for checks on its fields. */
volatile struct xenstore_domain_interface *xb_ring(void);

/* "OK" for 0; the daemon's errno name for XB_EXS; a description otherwise. */
const char *xb_errname(int rc);

/* One request and its reply. The reply payload (len bytes, NUL added after
 * them) goes to reply[0..size-1]; *rlen gets its length. Either may be NULL. */
int xb_request(uint32_t type, uint32_t tx, const void *payload, uint32_t len,
               char *reply, uint32_t size, uint32_t *rlen);

int xb_read(uint32_t tx, const char *path, char *buf, uint32_t size);
int xb_write(uint32_t tx, const char *path, const char *value);
int xb_mkdir(uint32_t tx, const char *path);
int xb_rm(uint32_t tx, const char *path);
/* Children as NUL-separated leaf names in buf, *len bytes in all. */
int xb_directory(uint32_t tx, const char *path, char *buf, uint32_t size, uint32_t *len);
/* Whether a DIRECTORY reply lists name. */
bool xb_list_has(const char *list, uint32_t len, const char *name);
int xb_get_domain_path(unsigned domid, char *buf, uint32_t size);
int xb_watch(const char *path, const char *token);
int xb_unwatch(const char *path, const char *token);
int xb_txn_start(uint32_t *tx);
int xb_txn_end(uint32_t tx, bool commit);

/* Takes the oldest queued watch event, waiting up to timeout_ns for one. */
int xb_wait_watch(struct xb_watch_event *ev, uint64_t timeout_ns);
/* Watch events lost because the queue was full. */
unsigned xb_events_dropped(void);
