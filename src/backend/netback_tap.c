/* tap devices for netback: one multi-queue tap per NIC with virtio_net_hdr
 * framing, configured through the classic interface ioctls. */
#include "backend/netback.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* The host side's MAC, as Xen's hotplug scripts set it: the highest
 * unicast address, so a bridge never takes it as its own. */
static const uint8_t host_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };

static int fail(char *err, size_t errlen, const char *what, const char *name)
{
    int e = errno;
    snprintf(err, errlen, "%s %s: %s", what, name, strerror(e));
    return -1;
}

/* MAC, MTU, bridge port, link up: on the device named in ifr. */
static int configure(const char *name, unsigned mtu, const char *bridge, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail(err, errlen, "socket for", name);
    struct ifreq ifr;
    int rc = -1;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, host_mac, sizeof(host_mac));
    if (ioctl(s, SIOCSIFHWADDR, &ifr) < 0) {
        fail(err, errlen, "cannot set the MAC of", name);
        goto out;
    }
    if (mtu) {
        ifr.ifr_mtu = (int)mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
            fail(err, errlen, "cannot set the MTU of", name);
            goto out;
        }
    }
    if (bridge && *bridge) {
        if (ioctl(s, SIOCGIFINDEX, &ifr) < 0) {
            fail(err, errlen, "no index for", name);
            goto out;
        }
        struct ifreq br = { .ifr_ifindex = ifr.ifr_ifindex };
        snprintf(br.ifr_name, IFNAMSIZ, "%s", bridge);
        if (ioctl(s, SIOCBRADDIF, &br) < 0) {
            fail(err, errlen, "cannot attach it to bridge", bridge);
            goto out;
        }
    }
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        fail(err, errlen, "cannot read the flags of", name);
        goto out;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
        fail(err, errlen, "cannot bring up", name);
        goto out;
    }
    rc = 0;
out:
    close(s);
    return rc;
}

int net_tap_open(const char *name, unsigned nr_queues, unsigned mtu, const char *bridge,
                 int *fds, char *err, size_t errlen)
{
    if (!nr_queues || nr_queues > NET_MAX_QUEUES || !name || !*name || strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap %s: bad name or %u queues", name ? name : "(null)", nr_queues);
        return -1;
    }
    for (unsigned i = 0; i < nr_queues; i++)
        fds[i] = -1;
    for (unsigned i = 0; i < nr_queues; i++) {
        fds[i] = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
        if (fds[i] < 0) {
            fail(err, errlen, "cannot open /dev/net/tun for", name);
            goto fail;
        }
        struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
        snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
        if (ioctl(fds[i], TUNSETIFF, &ifr) < 0) {
            fail(err, errlen, "cannot create tap", name);
            goto fail;
        }
    }
    int hdr = sizeof(struct virtio_net_hdr);
    if (ioctl(fds[0], TUNSETVNETHDRSZ, &hdr) < 0) {
        fail(err, errlen, "cannot set the vnet header size of", name);
        goto fail;
    }
    if (configure(name, mtu, bridge, err, errlen) == 0)
        return 0;
fail:
    net_tap_close(fds, nr_queues);
    return -1;
}

int net_tap_set_offload(int fd, const struct net_features *feat)
{
    unsigned off = 0;
    if (feat->csum || feat->ipv6_csum)
        off |= TUN_F_CSUM;    /* a family the frontend cannot take blank is completed by us */
    if (feat->sg && feat->csum && feat->gso_tcpv4)
        off |= TUN_F_TSO4;
    if (feat->sg && feat->ipv6_csum && feat->gso_tcpv6)
        off |= TUN_F_TSO6;
    return ioctl(fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

int net_tap_set_queues(const int *fds, unsigned nr_queues, unsigned active)
{
    int rc = 0;
    for (unsigned i = 0; i < nr_queues; i++) {
        struct ifreq ifr = { .ifr_flags = i < active ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };
        /* EINVAL: the queue is already in that state */
        if (fds[i] >= 0 && ioctl(fds[i], TUNSETQUEUE, &ifr) < 0 && errno != EINVAL && !rc)
            rc = -errno;
    }
    return rc;
}

void net_tap_close(int *fds, unsigned nr_queues)
{
    for (unsigned i = 0; i < nr_queues; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}
