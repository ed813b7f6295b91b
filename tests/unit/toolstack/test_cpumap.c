/* CPU lists (xl's notation) and character device specs. */
#include "unit.h"
#include "config/chardev.h"
#include "config/cpumap.h"
#include <stdlib.h>
#include <string.h>

static int two_nodes(unsigned node, struct cpumap *out, void *opaque)
{
    (void)opaque;
    if (node > 1)
        return -1;
    for (unsigned c = node * 4; c < node * 4 + 4; c++)
        cpumap_set(out, c);
    return 0;
}

static const char *fmt(const char *s, unsigned nr, bool all)
{
    static char buf[256];
    struct cpumap m;
    char err[128];
    if (cpumap_parse(s, &m, 8, two_nodes, NULL, err, sizeof(err)) < 0)
        snprintf(buf, sizeof(buf), "error: %s", err);
    else
        cpumap_format(&m, nr, all, buf, sizeof(buf));
    return buf;
}

TEST(cpumap_parse_and_format)
{
    CHECK_STR(fmt("3", 8, true), "3");
    CHECK_STR(fmt("0-3,^2", 8, true), "0-1,3");
    CHECK_STR(fmt("all", 8, true), "all");
    CHECK_STR(fmt("all,^0", 8, true), "1-7");
    CHECK_STR(fmt("all", 8, false), "0-7");
    CHECK_STR(fmt("node:1", 8, true), "4-7");
    CHECK_STR(fmt("nodes:0-1,^node:0,^5", 8, true), "4,6-7");
    CHECK_STR(fmt("1,3,5-6", 8, true), "1,3,5-6");
    CHECK_STR(fmt("^3", 8, true), "none");
    CHECK_STR(fmt("", 8, true), "error: empty CPU list");
    CHECK_STR(fmt("1-", 8, true), "error: '1-' is not a CPU, a range, 'all' or a node");
    CHECK_STR(fmt("3-1", 8, true), "error: '3-1' is not a CPU, a range, 'all' or a node");
    CHECK_STR(fmt("node:7", 8, true), "error: there is no NUMA node 7");
    CHECK_STR(fmt("2,", 8, true), "error: unexpected ',' in the CPU list '2,'");
    CHECK_STR(fmt("5000", 8, true), "error: CPU 5000 is beyond the 1024 this host can name");
    CHECK(cpumap_is_symbolic("all") && cpumap_is_symbolic("nodes:0") && !cpumap_is_symbolic("0-3"));
}

static const char *chr(const char *s)
{
    static char buf[256];
    struct chardev c;
    char err[128];
    if (chardev_parse(s, &c, err, sizeof(err)) < 0) {
        snprintf(buf, sizeof(buf), "error: %s", err);
        return buf;
    }
    char *f = chardev_format(&c);
    snprintf(buf, sizeof(buf), "%s %s", chardev_type_name(c.type), f ? f : "(null)");
    free(f);
    chardev_free(&c);
    return buf;
}

TEST(chardev_specs)
{
    CHECK_STR(chr("pty"), "pty pty");
    CHECK_STR(chr("/dev/ttyS1"), "dev /dev/ttyS1");
    CHECK_STR(chr("file:/var/log/s.log"), "file file:/var/log/s.log");
    CHECK_STR(chr("tcp:127.0.0.1:7777"), "tcp tcp:127.0.0.1:7777");
    CHECK_STR(chr("tcp::7777,server"), "tcp tcp::7777,server,nowait");
    CHECK_STR(chr("telnet:h:23,server,nowait"), "tcp telnet:h:23,server,nowait");
    CHECK_STR(chr("udp:1.2.3.4:99@0.0.0.0:98"), "udp udp:1.2.3.4:99@0.0.0.0:98");
    CHECK_STR(chr("unix:/run/s.sock,server,nowait"), "unix unix:/run/s.sock,server,nowait");
    CHECK_STR(chr("null"), "null null");
    CHECK_STR(chr("tcp:7777"), "error: 'tcp:7777': expected HOST:PORT");
    CHECK_STR(chr("udp:x"), "error: 'udp:x': expected HOST:PORT[@BINDHOST:BINDPORT]");
    CHECK_STR(chr("serialport:/x"), "error: unknown character device type 'serialport'");
}
