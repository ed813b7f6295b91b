/* The domain id a restored guest goes on seeing (docs/save-restore.md, "The
 * domain id in xenstore paths"). A restore gives the domain a new id, but a
 * connected Linux frontend keeps its backend's path (.../backend/vbd/OLD/N)
 * in memory and watches OLD/N/state. The relay rewrites paths between the
 * guest's view (the visible id) and the daemon's (the real id): in every
 * request that names a path, "/local/domain/VIS" and
 * "/local/domain/0/backend/TYPE/VIS" become the real id's; in a watch event,
 * the daemon-side prefix of the guest's watch becomes the guest's own again. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* Rewrites path (len bytes, no NUL) from id `from` to id `to` into out
 * (capacity cap); the new length, 0 if it does not fit. A path that names
 * neither form is copied as it is. */
size_t xsdomid_path(const char *path, size_t len, unsigned from, unsigned to, char *out,
                    size_t cap);
/* One whole request (header + body) from the guest, rewritten into out
 * (capacity cap, at least the message's size + 64). The new size. */
size_t xsdomid_request(const uint8_t *msg, unsigned vis, unsigned real, uint8_t *out, size_t cap);
/* One whole message from the daemon: a watch event whose token is one of the
 * guest's watches (watches: XS_WATCH messages, header + "path\0token\0",
 * wlen bytes, in the guest's form) gets its path back in the guest's form.
 * Other messages are copied. The new size (out's capacity as above). */
size_t xsdomid_event(const uint8_t *msg, const uint8_t *watches, size_t wlen, unsigned vis,
                     unsigned real, uint8_t *out, size_t cap);
