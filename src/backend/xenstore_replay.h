/* What the xenstore relay knows of the guest's conversation with xenstored:
 * the guest's requests the daemon took but has not answered, and the guest's
 * watches. A new daemon after a restart must hear both again (it knows
 * neither); a save waits until nothing is unanswered and records the watches.
 *
 * Xen's xenstored keeps them across a live update; a daemon that dies here
 * loses them, and a guest waits for its reply for good (Linux's xenbus has
 * no timeout) or never hears of control/shutdown again. So the relay frames
 * both byte streams: every request it forwards stays in a log until its
 * reply comes back (xenstored answers a connection's requests in order);
 * answered XS_WATCH / XS_UNWATCH / XS_RESET_WATCHES keep the list of watches
 * (unanswered ones are in the log). After a
 * reconnect the watches are registered again (their replies are the relay's,
 * dropped here; the new registration fires each watch once, as on Xen) and
 * the logged requests are sent again. Open transactions are not restored:
 * the new daemon answers requests in them with an error.
 *
 * Bounded: the log holds at most XS_REPLAY_LOG_MAX bytes (the relay takes no
 * more from the guest's ring until replies free room), the watch list
 * XS_REPLAY_WATCH_MAX. A stream that cannot be framed (a header announcing
 * more than XENSTORE_PAYLOAD_MAX) turns the bookkeeping off: bytes then pass
 * as they are and nothing is replayed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XS_REPLAY_LOG_MAX (32 * 1024)
#define XS_REPLAY_WATCH_MAX (64 * 1024)

struct xs_replay;

struct xs_replay *xs_replay_new(void);
void xs_replay_free(struct xs_replay *rp);
/* How many more guest bytes may go to the daemon now. */
size_t xs_replay_room(const struct xs_replay *rp);
/* n guest bytes went to the daemon (at most xs_replay_room). */
void xs_replay_sent(struct xs_replay *rp, const uint8_t *buf, size_t n);
/* buf[0..*len) are daemon bytes not yet framed. Accounts each whole message
 * (a reply takes its request out of the log), cuts the relay's own replies
 * out of buf (updating *len) and returns how many leading bytes are whole
 * messages for the guest; the rest is the start of one. */
size_t xs_replay_received(struct xs_replay *rp, uint8_t *buf, size_t *len);
/* After a reconnect: the bytes to send the new daemon first (watch
 * registrations, then the unanswered requests), in *a and *b. The replies to
 * the registrations will be dropped. */
void xs_replay_resend(struct xs_replay *rp, const uint8_t **a, size_t *alen,
                      const uint8_t **b, size_t *blen);
/* For a save: true when every request the guest sent has been answered (and
 * the bookkeeping is on: see turn_off). */
bool xs_replay_idle(const struct xs_replay *rp);
/* True when the guest's last request has reached the daemon only in part. */
bool xs_replay_mid_request(const struct xs_replay *rp);
/* The guest's watches as XS_WATCH messages (header, then "path\0token\0"),
 * in the order they were set: *buf, the byte count returned, *count of them. */
size_t xs_replay_watches(const struct xs_replay *rp, const uint8_t **buf, unsigned *count);
