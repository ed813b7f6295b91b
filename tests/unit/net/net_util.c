#include "net_util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

const uint8_t net_guest_mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
const uint8_t net_peer_mac[6] = { 0x00, 0x16, 0x3e, 0x65, 0x43, 0x21 };

bool net_open(struct nx *h, struct nx_config *cfg)
{
    static char name[NET_MAX_QUEUES * 4][16];
    static unsigned n;
    cfg->guard = true;
#ifdef NX_TAP
    if (!cfg->tap) {
        char *nm = name[n++ % (NET_MAX_QUEUES * 4)];
        nx_tap_name(nm, 16);
        cfg->tap = nm;
    }
#else
    (void)name; (void)n;
#endif
    char err[256] = "";
    if (nx_open(h, cfg, err, sizeof(err))) {
        unit_fail(__FILE__, __LINE__, "nx_open: %s", err);
        return false;
    }
    return true;
}

void net_close(struct nx *h)
{
    nx_close(h);
    CHECK_EQ(h->live_maps, 0);
    CHECK_EQ(h->ring_maps, 0);
}

void net_eth(uint8_t *f, size_t len, const uint8_t *dst, const uint8_t *src, uint16_t type,
             unsigned seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = type >> 8;
    f[13] = (uint8_t)type;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

unsigned net_ip(uint8_t *f, size_t len, bool v6, bool ext, uint8_t proto, bool partial, unsigned seed)
{
    net_eth(f, len, net_peer_mac, net_guest_mac, v6 ? 0x86dd : 0x0800, seed);
    unsigned l3 = 14, l4;
    if (!v6) {
        uint8_t *ip = f + l3;
        memset(ip, 0, 20);
        ip[0] = 0x45;
        put16(ip + 2, (unsigned)(len - l3));
        ip[8] = 64;
        ip[9] = proto;
        memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
        put16(ip + 10, (uint16_t)~net_csum_fold(net_csum_add(0, ip, 20)));
        l4 = l3 + 20;
    } else {
        uint8_t *ip = f + l3;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        put16(ip + 4, (unsigned)(len - l3 - 40));
        ip[7] = 64;
        memcpy(ip + 8, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
        memcpy(ip + 24, "\xfd\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 16);
        l4 = l3 + 40;
        if (ext) {
            ip[6] = IPPROTO_HOPOPTS;
            uint8_t *hop = f + l4;        /* 8 bytes: next, len 0, PadN */
            memset(hop, 0, 8);
            hop[0] = IPPROTO_DSTOPTS;
            hop[2] = 1; hop[3] = 4;
            uint8_t *dst = hop + 8;       /* 16 bytes: next, len 1, PadN */
            memset(dst, 0, 16);
            dst[0] = proto;
            dst[1] = 1;
            dst[2] = 1; dst[3] = 12;
            l4 += 24;
        } else {
            ip[6] = proto;
        }
    }
    uint8_t *t = f + l4;
    size_t l4len = len - l4;
    if (proto == IPPROTO_TCP) {
        memset(t, 0, 20);
        put16(t, 40000 + seed % 1000);
        put16(t + 2, 5001);
        t[12] = 5 << 4;
        t[13] = 0x18;
        put16(t + 14, 65535);
    } else {
        memset(t, 0, 8);
        put16(t, 40000 + seed % 1000);
        put16(t + 2, 5001);
        put16(t + 4, (unsigned)l4len);
    }
    struct net_l4 info;
    if (net_l4_parse(f, len, &info)) {
        unit_fail(__FILE__, __LINE__, "built an unparsable packet");
        return l4;
    }
    net_csum_set_pseudo(f, &info);
    if (!partial)
        net_csum_finish(f, len, info.csum_start, info.csum_offset);
    return l4;
}

bool net_csum_ok(const uint8_t *f, size_t len)
{
    struct net_l4 l4;
    if (net_l4_parse(f, len, &l4))
        return false;
    uint64_t s;
    if (l4.ipv6)
        s = net_csum_add(0, f + l4.l3_off + 8, 32);
    else
        s = net_csum_add(0, f + l4.l3_off + 12, 8);
    s += l4.l4_len + l4.proto;
    s = net_csum_add(s, f + l4.csum_start, l4.l4_len);
    return net_csum_fold(s) == 0xffff;
}

ssize_t net_host_recv(struct nx *h, unsigned q, struct virtio_net_hdr *vh, uint8_t *buf, size_t cap)
{
    ssize_t n = nx_host_recv(h, q, vh, buf, cap, 5000);
    if (n < 0)
        unit_fail(__FILE__, __LINE__, "nothing arrived on the host side: %s", strerror((int)-n));
    return n;
}

bool net_tap_possible(void)
{
    return geteuid() == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
}
