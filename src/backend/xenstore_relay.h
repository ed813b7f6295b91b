/* The guest's xenstore connection: relays raw bytes between the guest's ring
 * page (HVM_PARAM_STORE_PFN/EVTCHN) and one xenkvmd connection bound to the
 * guest's domid. The daemon parses; the relay only checks ring indices. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct domain;
struct xs_relay;

/* Prepares the ring page and allocates its event channel (no daemon yet). */
struct xs_relay *xs_relay_create(struct domain *d, void *ring_page);
int xs_relay_port(struct xs_relay *r);
/* Connects to the daemon at socket_path as the guest's domid and starts
 * relaying. Returns 0 or -errno. */
int xs_relay_connect(struct xs_relay *r, const char *socket_path);
/* True once the daemon connection failed or was closed (e.g. xenkvmd
 * restarted); false while connected, or when the guest broke the ring. */
bool xs_relay_lost(struct xs_relay *r);
/* Replaces a lost daemon connection with a new one and clears the error in
 * the ring page. The new daemon gets the guest's watches and the requests
 * the old one never answered again (backend/xenstore_replay.h). 0 or -errno. */
int xs_relay_reconnect(struct xs_relay *r, const char *socket_path);
void xs_relay_destroy(struct xs_relay *r);

/* Save and restore (docs/save-restore.md). With the guest's vCPUs stopped,
 * on the I/O thread: reads the daemon until every request the guest made is
 * answered. 0, -EBUSY (the guest left a request half-written), -ETIMEDOUT,
 * -EPIPE (the connection is broken). */
int xs_relay_quiesce(struct xs_relay *r, int timeout_ms);
/* The relay's state (the guest's watches, answers not yet in its ring) as
 * bytes (*out malloc'd); 0 on failure. */
size_t xs_relay_state(struct xs_relay *r, uint8_t **out);
/* After xs_relay_connect in the restored domain, before its vCPUs run: the
 * guest goes on seeing domain id vis in paths (its first domain's,
 * xenstore_domid.h), its watches are registered again in the real id's
 * form, the waiting answers put back. 0 or -errno. */
int xs_relay_restore(struct xs_relay *r, const uint8_t *state, size_t len, unsigned vis);
/* The domain id the guest sees in paths (a save carries it). */
unsigned xs_relay_visible_domid(struct xs_relay *r);
