/* Xen's own log for a guest's debug output: console_io(CONSOLEIO_write) and
 * writes to port 0xE9 (XEN_HVM_DEBUGCONS_IOPORT). As Xen does for a domU, both
 * share one line buffer per domain; characters other than printable ASCII and
 * tab are dropped, and each complete line goes out as "(dN) text" - here on
 * the domain process's stderr (under xenkvmd that is its log, which `xenkvm
 * dmesg` shows), in one write so that lines of several domains never mix. Not
 * the guest's PV console: a guest that writes both shows each line once in
 * each place, as on Xen. */
#include "xen/domain.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

/* The domain's buffered line (at most GUEST_LOG_LINE - 1 bytes). Caller holds
 * d->glog_lock. */
static void emit(struct domain *d)
{
    char line[GUEST_LOG_LINE + 32];
    int n = snprintf(line, sizeof(line), "(d%u) ", d->domid);
    size_t text = d->glog_len < GUEST_LOG_LINE ? d->glog_len : GUEST_LOG_LINE - 1;
    memcpy(line + n, d->glog, text);
    line[n + text] = '\n';
    size_t len = n + text + 1;
    d->glog_len = 0;
    for (size_t off = 0; off < len; ) {
        ssize_t w = write(d->glog_fd, line + off, len - off);
        if (w <= 0)
            break;      /* the log is gone: drop, as a console does */
        off += w;
    }
}

/* Xen's hvm_print_line: one byte written to port 0xE9. */
void guest_log_putc(struct domain *d, uint8_t c)
{
    if (!printable(c) && c != '\n')
        return;
    pthread_mutex_lock(&d->glog_lock);
    if (c != '\n')
        d->glog[d->glog_len++] = c;
    if (c == '\n' || d->glog_len == GUEST_LOG_LINE - 1)
        emit(d);
    pthread_mutex_unlock(&d->glog_lock);
}

/* As Xen's guest_console_write for a domU: byte by byte into the line
 * buffer, a full buffer (GUEST_LOG_LINE - 1 bytes) goes out as a line of its
 * own. (An earlier version collected the chunk first and wrote the buffered
 * line and the chunk as one: a long line overflowed emit's buffer, found by
 * fuzz_hypercall.) */
size_t guest_log_chunk(struct domain *d, const uint8_t *in, size_t len)
{
    size_t i = 0;
    pthread_mutex_lock(&d->glog_lock);
    while (i < len) {
        uint8_t c = in[i++];
        if (c == '\n') {
            emit(d);
            break;
        }
        if (!printable(c))
            continue;
        d->glog[d->glog_len++] = c;
        if (d->glog_len == GUEST_LOG_LINE - 1)
            emit(d);
    }
    pthread_mutex_unlock(&d->glog_lock);
    return i;
}

void guest_log_write(struct domain *d, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len) {
        size_t n = guest_log_chunk(d, p, len < GUEST_LOG_CHUNK - 1 ? len : GUEST_LOG_CHUNK - 1);
        p += n;
        len -= n;
    }
}

void guest_log_flush(struct domain *d)
{
    pthread_mutex_lock(&d->glog_lock);
    if (d->glog_len)
        emit(d);
    pthread_mutex_unlock(&d->glog_lock);
}
