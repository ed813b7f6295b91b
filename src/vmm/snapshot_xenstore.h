/* The XENSTORE record of a save file: the guest's xenstore subtree
 * (/local/domain/DOMID, values and permissions) and its relay's state (its
 * watches, answers it had not taken). On restore the subtree goes under the
 * new domid, without overwriting what the toolstack wrote for the new
 * domain, with the old domid in permissions replaced by the new one. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct xs_relay;

/* The payload (malloc'd, *len bytes) or NULL with err. */
uint8_t *snapxs_collect(const char *socket, unsigned domid, struct xs_relay *relay,
                        size_t *len, char *err, size_t errlen);
/* The subtree back (the relay part is left for xs_relay_restore, which
 * gets *relay_state). 0, or -1 with err. */
int snapxs_restore_tree(const char *socket, unsigned old_domid, unsigned new_domid,
                        const uint8_t *p, size_t len, const uint8_t **relay_state,
                        size_t *relay_len, char *err, size_t errlen);
