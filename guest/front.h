/* What xtest's small frontends (net, blk) share: grant table frame 0 in the
 * guest, v1 (or v2) grants to dom 0, the frontend's nodes, and following the
 * backend's XenbusState through xenstore. */
#pragma once
#include "xenhdr.h"
#include "lib.h"

#define FRONT_MS 1000000ULL

/* Maps grant table frame 0, connects xenstore, reads DIR/backend into be and
 * waits for the backend's InitWait; each step reported. false: stop. */
bool front_init(const char *dir, char *be, uint32_t belen);
/* Switches to grant table v2 and maps its status frame 0 (reported); the
 * later grants are v2 entries. false: stop. */
bool front_use_v2(void);
/* A v2 entry's flags, and its status word (the in-use bits a backend sets). */
uint16_t front_v2_flags(grant_ref_t ref);
grant_status_t front_v2_status(grant_ref_t ref);
/* Grants page to dom 0 under ref (a v1 or v2 entry). */
void front_grant(grant_ref_t ref, void *page, bool readonly);
/* DIR/node = fmt formatted with v. 0 or an xenstore error. */
int front_write(const char *dir, const char *node, const char *fmt, unsigned v);
/* Polls BE/state until it is want, for up to timeout_ns. */
bool front_backend_state(const char *be, unsigned want, uint64_t timeout_ns);
/* Closing, then Closed, each followed by the backend (reported). */
void front_close(const char *dir, const char *be);
