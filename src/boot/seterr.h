/* The loader's error messages: printf into the caller's buffer, if it gave one. */
#pragma once
#include <stddef.h>

void boot_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
