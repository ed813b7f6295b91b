/* guest_log.c: a guest's console_io output in Xen's log, "(dN) " lines of at
 * most GUEST_LOG_LINE - 1 characters. A line longer than the buffer, written
 * in console_io's steps, once overflowed the line emit() builds on its stack
 * (found by fuzz/xen/fuzz_hypercall; under ASan the old code aborts here). */
#include "unit.h"
#include "xen/domain.h"
#include <fcntl.h>
#include <unistd.h>

static struct domain D;

/* What console_io does with a guest buffer: steps of GUEST_LOG_CHUNK - 1. */
static void console_write(const char *s, size_t len)
{
    for (size_t done = 0; done < len; ) {
        size_t n = len - done < GUEST_LOG_CHUNK - 1 ? len - done : GUEST_LOG_CHUNK - 1;
        done += guest_log_chunk(&D, (const uint8_t *)s + done, n);
    }
}

TEST(guest_log_splits_a_long_line_as_xen_does)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    memset(&D, 0, sizeof(D));
    D.domid = 7;
    D.glog_fd = p[1];
    pthread_mutex_init(&D.glog_lock, NULL);
    /* 127 + 71 printable bytes fill the buffer but one; the next step of 127
     * is what overflowed. 1000 bytes in all, a control byte among them. */
    static char text[1001];
    for (int i = 0; i < 1000; i++)
        text[i] = 'a' + i % 26;
    text[500] = '\x01';
    console_write(text, 1000);
    console_write("\nend\n", 5);
    static char out[4096];
    ssize_t n = read(p[0], out, sizeof(out) - 1);
    CHECK(n > 0);
    out[n > 0 ? n : 0] = 0;
    /* Lines of at most GUEST_LOG_LINE - 1 characters after the prefix; their
     * text, joined, is the input without the control byte. */
    static char joined[2048];
    size_t j = 0;
    unsigned lines = 0;
    for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1, lines++) {
        CHECK(strncmp(line, "(d7) ", 5) == 0);
        size_t len = (size_t)(nl - line) - 5;
        CHECK(len <= GUEST_LOG_LINE - 1);
        memcpy(joined + j, line + 5, len);
        j += len;
    }
    joined[j] = 0;
    memmove(text + 500, text + 501, 500);    /* the control byte is dropped */
    CHECK_EQ(j, (size_t)999 + 3);
    CHECK(strncmp(joined, text, 999) == 0);
    CHECK_STR(joined + 999, "end");
    CHECK_EQ(lines, 7u);    /* 5 full lines of 199, the rest (4), "end" */
    close(p[0]);
    close(p[1]);
}
