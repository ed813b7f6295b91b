#pragma once
#include <stddef.h>
#include <stdint.h>

/* Reads a whole regular file or pipe (at most max bytes). Returns 0, or -errno with
 * err filled in ("PATH: reason"). */
int file_read_all(const char *path, size_t max, uint8_t **data, size_t *len,
                  char *err, size_t errlen);
