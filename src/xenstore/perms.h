/* Node permissions: the first entry names the owner and the default access of
 * everyone else; later entries give named domains their own access. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { XS_PERM_NONE = 0, XS_PERM_READ = 1, XS_PERM_WRITE = 2, XS_PERM_BOTH = 3,
       XS_PERM_OWNER = 4 };

struct xs_perm {
    uint16_t domid;
    uint8_t access;   /* XS_PERM_NONE/READ/WRITE/BOTH */
};

struct xs_perms {
    unsigned n;       /* >= 1 */
    struct xs_perm *p;
};

/* The caller a permission check is for. */
struct xs_who {
    unsigned domid;
    bool privileged;  /* dom0 sockets: everything allowed */
    unsigned target;  /* domain it may act for (SET_TARGET), or ~0u */
};

/* Access bits (READ|WRITE|OWNER) the caller has on a node with these perms. */
unsigned xs_perm_for(const struct xs_perms *perms, const struct xs_who *who);

/* Parses "<r|w|b|n><domid>\0" strings (count of them, total len bytes).
 * Returns 0 or EINVAL; out->p is malloc'd. */
int xs_perms_parse(const char *buf, size_t len, struct xs_perms *out);

/* Formats as "<c><domid>\0..." into buf; returns bytes needed. */
size_t xs_perms_format(const struct xs_perms *perms, char *buf, size_t bufsz);

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src);
void xs_perms_free(struct xs_perms *p);
bool xs_perms_equal(const struct xs_perms *a, const struct xs_perms *b);
