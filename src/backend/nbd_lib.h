/* libnbd, loaded with dlopen when the first image disk is opened. Linking it
 * would load GnuTLS and its dependencies into every domain process, with raw
 * disks or none (about 2.7 MiB more resident memory at start). Calls go
 * through the table: nbd_lib()->nbd_aio_pread(...), with libnbd.h's own
 * prototypes. */
#pragma once
#include <libnbd.h>
#include <stddef.h>

#define NBD_LIB_FUNCS(X)                                                             \
    X(nbd_create) X(nbd_close) X(nbd_get_error) X(nbd_set_export_name)               \
    X(nbd_set_pread_initialize) X(nbd_set_request_block_size)                        \
    X(nbd_aio_connect_socket) X(nbd_aio_is_ready) X(nbd_aio_is_dead)                 \
    X(nbd_aio_is_closed) X(nbd_aio_get_fd) X(nbd_aio_get_direction)                  \
    X(nbd_aio_notify_read) X(nbd_aio_notify_write) X(nbd_poll) X(nbd_get_size)       \
    X(nbd_get_block_size) X(nbd_can_flush) X(nbd_can_trim) X(nbd_is_read_only)       \
    X(nbd_aio_pread) X(nbd_aio_pwrite) X(nbd_aio_flush) X(nbd_aio_trim)

struct nbd_lib {
#define NBD_LIB_FIELD(f) __typeof__(f) *f;
    NBD_LIB_FUNCS(NBD_LIB_FIELD)
#undef NBD_LIB_FIELD
};

/* Loads libnbd.so.0 once (any thread). NULL with err set if it cannot be. */
const struct nbd_lib *nbd_lib_load(char *err, size_t errlen);
/* The table, once nbd_lib_load has succeeded. */
const struct nbd_lib *nbd_lib(void);
