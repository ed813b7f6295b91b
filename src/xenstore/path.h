/* xenstore path syntax: validation, canonicalisation and ancestry. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define XS_DOMID_MAX 0x7fef  /* highest real domid (DOMID_FIRST_RESERVED - 1) */

/* Turns the path a client sent into an absolute one in out (size outsz):
 * relative paths are taken under /local/domain/<domid>. Special "@..." paths are
 * accepted only when allow_special. The result is checked for characters,
 * "//", a trailing "/" and length (XENSTORE_ABS_PATH_MAX overall; for
 * unprivileged callers the part below /local/domain/N/ is limited to
 * rel_max). Returns 0 or EINVAL. */
int xs_path_canon(const char *in, unsigned domid, bool privileged, size_t rel_max,
                  bool allow_special, char *out, size_t outsz);

/* True when child equals parent or lies below it ("/" is everyone's parent). */
bool xs_path_is_child(const char *child, const char *parent);

/* Length of the parent's path of an absolute path other than "/" (1 for "/x"). */
size_t xs_path_parent_len(const char *path);

/* The last component of an absolute path. */
const char *xs_path_basename(const char *path);

/* Strips the "/local/domain/<domid>/" prefix if present (for relative watch
 * events); returns the path unchanged otherwise. */
const char *xs_path_relative(const char *abs, unsigned domid);

/* Parses a decimal domid 0..65535 with nothing after it. */
bool xs_parse_domid(const char *s, unsigned *domid);
