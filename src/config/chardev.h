/* Character devices as xl/xm configs write them (serial=, parallel=:
 * "pty", "/dev/ttyS0", "file:PATH", "pipe:PATH", "tcp:HOST:PORT[,server,nowait]",
 * "telnet:...", "udp:HOST:PORT@BINDHOST:BINDPORT", "unix:PATH[,server,nowait]",
 * "null", "stdio", "vc"), and as libvirt's <serial>/<parallel> elements. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum chr_type { CHR_NULL, CHR_VC, CHR_PTY, CHR_DEV, CHR_FILE, CHR_PIPE, CHR_STDIO, CHR_UDP,
                CHR_TCP, CHR_UNIX };

struct chardev {
    enum chr_type type;
    bool telnet;                 /* tcp: the telnet protocol */
    bool listen;                 /* tcp, unix: ",server" (mode='bind') */
    char *path;                  /* dev, file, pipe, unix */
    char *host, *service;        /* tcp; udp: the connect side */
    char *bind_host, *bind_service;   /* udp */
};

/* 0, or -1 with err set. */
int chardev_parse(const char *s, struct chardev *c, char *err, size_t errlen);
/* The config string (malloc'd), or NULL. */
char *chardev_format(const struct chardev *c);
const char *chardev_type_name(enum chr_type t);
int chardev_type_parse(const char *s, enum chr_type *t);
void chardev_free(struct chardev *c);
