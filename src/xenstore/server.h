/* The daemon's state: the store, connections, watches, transactions and the
 * domain registry. Everything runs on one thread; requests are handled to
 * completion in arrival order. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xenstore/perms.h"
#include "xenstore/quota.h"
#include "xenstore/tree.h"
#include "xenstore/wire.h"

struct xs_server;

struct xs_watch {
    char *path;          /* absolute, or "@..." */
    char *token;
    bool relative;       /* given relative: events are reported relative too */
    struct xs_watch *next;
};

struct xs_event {        /* a change a transaction will announce at commit */
    char *path;
    bool rm;
    struct xs_perms perms;   /* of the node as it was (rm) or is */
    struct xs_event *next;
};

struct xs_txn {
    uint32_t id;
    struct xs_overlay ov;
    struct xs_event *events, **events_tail;
    struct xs_txn *next;
};

struct xs_outmsg {
    struct xs_outmsg *next;
    size_t len;
    bool event;
    uint8_t data[];      /* header + payload */
};

struct xs_conn {
    struct xs_server *srv;
    int fd;                  /* -1: in-memory (tests, fuzzing) */
    unsigned domid;
    bool privileged;         /* dom0 socket */
    bool relay;              /* bound to a guest by the relay handshake */
    bool dead;               /* to be closed by the daemon */
    uint64_t nreq;           /* requests handled */

    uint8_t *in;             /* bytes read, not yet handled */
    size_t in_len, in_cap;
    uint64_t discard;        /* payload bytes of an oversized message still to skip */

    struct xs_outmsg *out_head, *out_tail;
    size_t out_off;          /* bytes of out_head already written */
    size_t out_bytes;
    unsigned out_replies;
    bool dropped_warned;

    struct xs_watch *watches;
    unsigned nwatches;
    struct xs_txn *txns;
    unsigned ntxns;

    unsigned io_mask;        /* daemon's epoll bookkeeping */
    struct xs_conn *next, *prev;
};

struct xs_domain {
    unsigned domid;
    bool introduced;
    uint64_t mfn;
    unsigned port;
    unsigned target;         /* ~0u: none */
    struct xs_conn *conn;    /* its relay connection, if any */
    struct xs_domain *next;
};

struct xs_server {
    struct xs_store st;
    struct xs_quota q;
    struct xs_conn *conns;
    struct xs_domain *domains;
    uint32_t next_txid;
    struct xs_perms special_perms[2];   /* @introduceDomain, @releaseDomain */
    /* Called when a connection has new output (daemon: write it or poll). */
    void (*out_ready)(struct xs_conn *c);
    bool any_dead;
    uint64_t events_dropped;
};

/* server.c */
int xs_server_init(struct xs_server *s, const struct xs_quota *q);
void xs_server_free(struct xs_server *s);

/* conn.c */
struct xs_conn *xs_conn_new(struct xs_server *s, int fd);
void xs_conn_free(struct xs_conn *c);               /* closes fd, unlinks */
/* Takes bytes from the client; handles every whole message unless throttled. */
void xs_conn_input(struct xs_conn *c, const void *data, size_t len);
/* Handles buffered messages (after the output drained). */
void xs_conn_process(struct xs_conn *c);
/* True while the client has too many replies unread: stop reading from it. */
bool xs_conn_throttled(const struct xs_conn *c);
/* Room left in the input buffer. */
size_t xs_conn_in_room(const struct xs_conn *c);
void xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
                  const void *payload, size_t len);
void xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err);
/* Queues a watch event unless the client is too far behind (then drops it). */
void xs_conn_send_event(struct xs_conn *c, const char *path, const char *token);
/* Writes queued output to fd; returns false on a fatal error (marks dead). */
bool xs_conn_flush(struct xs_conn *c);
/* Removes the first queued message into buf (tests); returns its length or -1. */
long xs_conn_pop(struct xs_conn *c, void *buf, size_t size);
void xs_conn_kill(struct xs_conn *c);
struct xs_who xs_conn_who(struct xs_conn *c);

/* dispatch.c */
void xs_dispatch(struct xs_conn *c, const struct xsd_sockmsg *hdr, const char *payload);

/* watch.c */
int xs_watch_add(struct xs_conn *c, const char *abs, const char *token, bool relative);
int xs_watch_remove(struct xs_conn *c, const char *abs, const char *token);
void xs_watch_clear(struct xs_conn *c);
/* Announces a change of path (rm: it and everything below went away) to every
 * watcher allowed to see a node with these perms (NULL: everyone). */
void xs_watch_fire(struct xs_server *s, const char *path, bool rm, const struct xs_perms *perms);
/* The first event a new watch gets. */
void xs_watch_fire_initial(struct xs_conn *c, const struct xs_watch *w);

/* txn.c */
int xs_txn_open(struct xs_conn *c, uint32_t *id);
struct xs_txn *xs_txn_find(struct xs_conn *c, uint32_t id);
void xs_txn_note(struct xs_txn *t, const char *path, bool rm, const struct xs_perms *perms);
int xs_txn_close(struct xs_conn *c, struct xs_txn *t, bool commit);
void xs_txn_clear(struct xs_conn *c);

/* domain.c */
struct xs_domain *xs_domain_find(struct xs_server *s, unsigned domid);
int xs_domain_introduce(struct xs_server *s, unsigned domid, uint64_t mfn, unsigned port);
int xs_domain_release(struct xs_server *s, unsigned domid);
int xs_domain_set_target(struct xs_server *s, unsigned domid, unsigned target);
/* The relay handshake: binds c to domid (EBUSY if another relay is bound);
 * INTRODUCE comes separately, once the domain's tree is written. */
int xs_domain_bind_relay(struct xs_conn *c, unsigned domid);
/* Before a domain id is used again: EBUSY if a live relay serves it; else
 * releases whatever domain had it (its relay, rights, @releaseDomain) and
 * removes /local/domain/<domid>, the /vm entry it names and
 * /local/domain/0/backend/<kind>/<domid>. */
int xs_domain_scrub(struct xs_server *s, unsigned domid);
void xs_domain_conn_gone(struct xs_conn *c);
/* Perms of "@introduceDomain"/"@releaseDomain", NULL for other names. */
struct xs_perms *xs_special_perms(struct xs_server *s, const char *name);
void xs_domain_free_all(struct xs_server *s);
