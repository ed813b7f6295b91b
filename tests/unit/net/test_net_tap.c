/* Cases that need real taps: the device netback's tap code makes, a bridge
 * between two NICs, the kernel honouring the offloads the frontend takes,
 * queue attach/detach. */
#include "net_util.h"
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static struct nx h, h2;
static struct nx_pkt pkt;
static uint8_t frame[NX_MAX_PKT];

static long sysfs_num(const char *dev, const char *attr)
{
    char path[128], buf[64] = "";
    snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    if (!fgets(buf, sizeof(buf), fp))
        buf[0] = 0;
    fclose(fp);
    return strtol(buf, NULL, 0);
}

static bool sysfs_is(const char *dev, const char *attr, const char *want)
{
    char path[128], buf[64] = "";
    snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    if (!fgets(buf, sizeof(buf), fp))
        buf[0] = 0;
    fclose(fp);
    buf[strcspn(buf, "\n")] = 0;
    return !strcmp(buf, want);
}

TEST(tap_device)
{
    struct nx_config cfg = { .nr_queues = 2, .mtu = 4000 };
    if (!net_open(&h, &cfg))
        return;
    const char *name = h.cfg.tap;
    CHECK(sysfs_is(name, "address", "fe:ff:ff:ff:ff:ff"));
    CHECK_EQ(sysfs_num(name, "mtu"), 4000);
    CHECK(sysfs_num(name, "flags") & IFF_UP);
    long tf = sysfs_num(name, "tun_flags");
    CHECK_EQ(tf & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE),
             IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE);
    char saved[16];
    snprintf(saved, sizeof(saved), "%s", name);
    net_close(&h);
    CHECK_EQ(if_nametoindex(saved), 0);              /* gone with its last fd */
    /* Errors: a bridge that does not exist, a bad name; nothing left behind. */
    int fds[NET_MAX_QUEUES];
    char err[256] = "";
    char nm[16];
    nx_tap_name(nm, sizeof(nm));
    CHECK_EQ(net_tap_open(nm, 1, 0, "xkt-nobridge", fds, err, sizeof(err)), -1);
    CHECK(strstr(err, "xkt-nobridge") != NULL);
    CHECK_EQ(if_nametoindex(nm), 0);
    CHECK_EQ(net_tap_open("this-name-is-too-long", 1, 0, NULL, fds, err, sizeof(err)), -1);
    CHECK_EQ(net_tap_open(nm, 0, 0, NULL, fds, err, sizeof(err)), -1);
}

static int bridge_ctl(unsigned long req, const char *br)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = ioctl(s, req, br);
    if (rc == 0 && req == SIOCBRADDBR) {
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", br);
        rc = ioctl(s, SIOCGIFFLAGS, &ifr);
        ifr.ifr_flags |= IFF_UP;
        rc = rc ? rc : ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    if (req == SIOCBRDELBR) {
        struct ifreq ifr = { 0 };
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", br);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
            ifr.ifr_flags &= ~IFF_UP;
            ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        rc = ioctl(s, req, br);
    }
    close(s);
    return rc;
}

/* Looks for frame (len bytes) on nic's rx ring for up to 5 s. */
static bool arrives(struct nx *nic, size_t len)
{
    for (int i = 0; i < 50; i++)
        if (nx_rx_recv(nic, 0, &pkt, 100) == 0 && pkt.len == len && !memcmp(pkt.data, frame, len))
            return true;
    return false;
}

/* Two NICs on a temporary bridge: a frame from one guest reaches the other,
 * in both directions, unicast after the bridge has learnt the MACs. */
TEST(bridge_two_nics)
{
    char br[16];
    nx_tap_name(br, sizeof(br));
    br[1] = 'b';                                     /* xbt...: a bridge of ours */
    if (bridge_ctl(SIOCBRADDBR, br)) {
        unit_fail(__FILE__, __LINE__, "cannot create bridge %s: %s", br, strerror(errno));
        return;
    }
    struct nx_config c1 = { .threaded = true, .bridge = br };
    struct nx_config c2 = { .threaded = true, .bridge = br };
    if (net_open(&h, &c1) && net_open(&h2, &c2)) {
        nx_rx_post(&h, 0, 64);
        nx_rx_post(&h2, 0, 64);
        CHECK(sysfs_num(h.cfg.tap, "brport/state") >= 0);
        /* A broadcast from guest 1 (the bridge floods it). */
        static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        net_eth(frame, 300, bcast, net_guest_mac, 0x88b5, 1);
        bool ok = false;
        for (int i = 0; i < 20 && !ok; i++) {         /* ports may take a moment to forward */
            CHECK_EQ(nx_xmit(&h, 0, frame, 300, NULL), NETIF_RSP_OKAY);
            ok = arrives(&h2, 300);
        }
        CHECK(ok);
        /* Unicast back from guest 2 to guest 1, then again to guest 2. */
        net_eth(frame, 1200, net_guest_mac, net_peer_mac, 0x88b5, 2);
        CHECK_EQ(nx_xmit(&h2, 0, frame, 1200, NULL), NETIF_RSP_OKAY);
        CHECK(arrives(&h, 1200));
        net_ip(frame, 1400, false, false, IPPROTO_UDP, false, 3);
        memcpy(frame, net_peer_mac, 6);
        memcpy(frame + 6, net_guest_mac, 6);
        net_csum_finish(frame, 0, 0, 0);
        CHECK_EQ(nx_xmit(&h, 0, frame, 1400, NULL), NETIF_RSP_OKAY);
        CHECK(arrives(&h2, 1400));
        CHECK(h.nb.stats.tx_packets >= 2);
        CHECK(h2.nb.stats.rx_packets >= 2);
    }
    net_close(&h2);
    net_close(&h);
    CHECK_EQ(bridge_ctl(SIOCBRDELBR, br), 0);
}

/* A frontend without GSO: the kernel segments a 30000-byte TCP packet
 * before the tap hands it over, and the guest gets MSS-sized frames. */
TEST(rx_gso_segmented_for_frontend_without_gso)
{
    struct nx_config cfg = { .custom_feat = true,
        .feat = { .rx_copy = true, .rx_notify = true, .sg = true, .csum = true, .ipv6_csum = true } };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 200);
    size_t len = 30000;
    net_ip(frame, len, false, false, IPPROTO_TCP, true, 4);
    memcpy(frame, net_guest_mac, 6);
    memcpy(frame + 6, net_peer_mac, 6);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
        .csum_offset = 16, .hdr_len = 54, .gso_size = 1400, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 };
    CHECK_EQ(nx_host_send(&h, 0, &vh, frame, len), 0);
    size_t payload = 0;
    unsigned segs = 0;
    while (payload < len - 54 && nx_rx_recv(&h, 0, &pkt, 2000) == 0) {
        if (pkt.len < 54 || memcmp(pkt.data, net_guest_mac, 6))
            continue;
        CHECK(!pkt.has_gso);
        CHECK(pkt.len <= 54 + 1400);
        CHECK(!memcmp(pkt.data + 54, frame + 54 + payload, pkt.len - 54));
        payload += pkt.len - 54;
        segs++;
    }
    CHECK_EQ(payload, len - 54);
    CHECK_EQ(segs, (len - 54 + 1399) / 1400);
    CHECK_EQ(h.nb.stats.rx_dropped, 0);
    net_close(&h);
}

/* With one of two queues detached the kernel steers everything to queue 0. */
TEST(tap_set_queues)
{
    struct nx_config cfg = { .nr_queues = 2, .threaded = true };
    if (!net_open(&h, &cfg))
        return;
    nx_rx_post(&h, 0, 128);
    nx_rx_post(&h, 1, 128);
    CHECK_EQ(net_tap_set_queues(h.tap_fd, 2, 1), 0);
    CHECK_EQ(net_tap_set_queues(h.tap_fd, 2, 1), 0);  /* again: already so */
    /* The detached queue's worker must not spin on its erroring fd. */
    netback_kick(&h.nb, 1);
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    usleep(300000);
    getrusage(RUSAGE_SELF, &r1);
    long us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L
            + (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    CHECK(us < 100000);
    for (unsigned i = 0; i < 16; i++) {
        net_ip(frame, 200, false, false, IPPROTO_UDP, false, i);
        memcpy(frame, net_guest_mac, 6);
        memcpy(frame + 6, net_peer_mac, 6);
        net_csum_finish(frame, 0, 0, 0);
        CHECK_EQ(nx_host_send(&h, 0, NULL, frame, 200), 0);
        CHECK_EQ(nx_rx_recv(&h, 0, &pkt, 2000), 0);
        CHECK(pkt.len == 200 && !memcmp(pkt.data, frame, 200));
    }
    CHECK_EQ(net_tap_set_queues(h.tap_fd, 2, 2), 0);
    net_close(&h);
}
