/* vif devices on xenbus: tap vifDOMID.DEVID on the configured bridge, the
 * backend nodes libxl writes, netback's features, and the frontend's queues
 * (rings and one or two event channels each) bound at connect. */
#include "backend/netback_vif.h"
#include "backend/netback_queue.h"
#include "backend/domain_env.h"
#include "backend/device_state.h"
#include "backend/xenbus_backend.h"
#include "config/vif.h"
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* libxl's default bridge for a vif without bridge= */
#define DEFAULT_BRIDGE "xenbr0"

struct vif;

struct kick_ctx {
    struct vif *v;
    unsigned q;
};

struct vif {
    struct domain *d;
    struct xenbus_dev *dev;
    struct vif_spec spec;
    const char *bridge;
    char ifname[IFNAMSIZ];
    uint8_t mac[6];
    int tap_fd[NET_MAX_QUEUES];
    struct gnt_env env;
    struct domain_env denv;
    struct netback nb;
    struct kick_ctx kick[NET_MAX_QUEUES];
};

/* ---- creation-time nodes and features ---- */

static int vif_write_nodes(struct xenbus_dev *dev, uint32_t tx)
{
    struct vif *v = dev->priv;
    char mac[18];
    mac_format(v->mac, mac);
    int rc = 0;
#define BE(node, ...) if (!rc) rc = xenbus_printf(dev, tx, false, node, __VA_ARGS__)
#define FE(node, ...) if (!rc) rc = xenbus_printf(dev, tx, true, node, __VA_ARGS__)
    BE("script", "%s", v->spec.script ? v->spec.script : "/etc/xen/scripts/vif-bridge");
    BE("mac", "%s", mac);
    BE("bridge", "%s", v->bridge);
    BE("handle", "%u", dev->devid);
    BE("type", "vif");
    BE("vifname", "%s", v->ifname);
    if (v->spec.ip)
        BE("ip", "%s", v->spec.ip);
    if (v->spec.mtu)
        BE("mtu", "%u", v->spec.mtu);
    FE("handle", "%u", dev->devid);
    FE("mac", "%s", mac);
    if (v->spec.mtu)
        FE("mtu", "%u", v->spec.mtu);
#undef BE
#undef FE
    return rc;
}

static int vif_init_wait(struct xenbus_dev *dev)
{
    int rc = 0;
#define BE(node, ...) if (!rc) rc = xenbus_printf(dev, 0, false, node, __VA_ARGS__)
    BE("feature-sg", "1");
    BE("feature-gso-tcpv4", "1");
    BE("feature-gso-tcpv6", "1");
    BE("feature-ipv6-csum-offload", "1");
    BE("feature-rx-copy", "1");
    BE("feature-rx-flip", "0");
    BE("feature-split-event-channels", "1");
    BE("multi-queue-max-queues", "%u", NET_MAX_QUEUES);
#undef BE
    return rc;
}

/* ---- connecting ---- */

static void vif_kicked(void *opaque, evtchn_port_t port)
{
    struct kick_ctx *k = opaque;
    (void)port;
    netback_kick(&k->v->nb, k->q);
}

static int read_flag(struct xenbus_dev *dev, const char *node, bool def, bool *out)
{
    unsigned long v;
    if (xenbus_read_fe_uint(dev, node, def, &v) || v > 1)
        return -EINVAL;
    *out = v;
    return 0;
}

static int read_features(struct xenbus_dev *dev, struct net_features *f, char *err, size_t errlen)
{
    bool no_csum = false;
    if (read_flag(dev, "request-rx-copy", false, &f->rx_copy) ||
        read_flag(dev, "feature-rx-notify", false, &f->rx_notify) ||
        read_flag(dev, "feature-sg", false, &f->sg) ||
        read_flag(dev, "feature-gso-tcpv4", false, &f->gso_tcpv4) ||
        read_flag(dev, "feature-gso-tcpv6", false, &f->gso_tcpv6) ||
        read_flag(dev, "feature-no-csum-offload", false, &no_csum) ||
        read_flag(dev, "feature-ipv6-csum-offload", false, &f->ipv6_csum)) {
        snprintf(err, errlen, "frontend's feature nodes are not 0 or 1");
        return -EINVAL;
    }
    f->csum = !no_csum;
    if (!f->rx_copy) {
        snprintf(err, errlen, "frontend does not request rx-copy (page flipping is not supported)");
        return -EOPNOTSUPP;
    }
    if (!f->rx_notify) {   /* as Linux's netback: polling frontends are gone */
        snprintf(err, errlen, "frontend does not offer feature-rx-notify");
        return -EOPNOTSUPP;
    }
    return 0;
}

/* Reads a grant reference or a port node under prefix. */
static int read_num(struct xenbus_dev *dev, const char *prefix, const char *name, unsigned long max,
                    unsigned long *out, char *err, size_t errlen)
{
    char node[48];
    snprintf(node, sizeof(node), "%s%s", prefix, name);
    if (xenbus_read_fe_uint(dev, node, ~0ul, out) || *out > max || *out == 0) {
        snprintf(err, errlen, "frontend's %s is missing or out of range", node);
        return -EINVAL;
    }
    return 0;
}

/* One queue's rings and event channel(s); tx_port == rx_port unless split. */
static int read_queue(struct xenbus_dev *dev, const char *prefix, struct netback_queue_refs *r,
                      unsigned long *tx_port, unsigned long *rx_port, char *err, size_t errlen)
{
    unsigned long tx, rx;
    if (read_num(dev, prefix, "tx-ring-ref", UINT32_MAX, &tx, err, errlen) ||
        read_num(dev, prefix, "rx-ring-ref", UINT32_MAX, &rx, err, errlen))
        return -EINVAL;
    r->tx_ref = tx;
    r->rx_ref = rx;
    char node[48];
    snprintf(node, sizeof(node), "%sevent-channel", prefix);
    char *one = NULL;
    if (xenbus_read_fe(dev, node, &one) == 0) {
        free(one);
        if (read_num(dev, prefix, "event-channel", EVTCHN_NR_PORTS - 1, tx_port, err, errlen))
            return -EINVAL;
        *rx_port = *tx_port;
        return 0;
    }
    if (read_num(dev, prefix, "event-channel-tx", EVTCHN_NR_PORTS - 1, tx_port, err, errlen) ||
        read_num(dev, prefix, "event-channel-rx", EVTCHN_NR_PORTS - 1, rx_port, err, errlen))
        return -EINVAL;
    return 0;
}

static void unbind(struct vif *v)
{
    struct domain *d = v->d;
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < GNT_ENV_MAX_PORTS; i += 2) {
        int tx = v->denv.host_port[i], rx = v->denv.host_port[i + 1];
        if (tx > 0)
            evtchn_host_close(&d->ev, tx);
        if (rx > 0 && rx != tx)
            evtchn_host_close(&d->ev, rx);
        v->denv.host_port[i] = v->denv.host_port[i + 1] = -1;
    }
    pthread_mutex_unlock(&d->lock);
}

static int bind_ports(struct vif *v, unsigned nq, const unsigned long *tx_port,
                      const unsigned long *rx_port, char *err, size_t errlen)
{
    struct domain *d = v->d;
    int rc = 0;
    pthread_mutex_lock(&d->lock);
    for (unsigned q = 0; q < nq && !rc; q++) {
        v->kick[q] = (struct kick_ctx){ v, q };
        int tx = evtchn_host_bind(&d->ev, tx_port[q], vif_kicked, &v->kick[q]);
        int rx = tx;
        if (tx >= 0 && rx_port[q] != tx_port[q])
            rx = evtchn_host_bind(&d->ev, rx_port[q], vif_kicked, &v->kick[q]);
        if (tx >= 0)
            v->denv.host_port[2 * q] = tx;
        if (rx >= 0)
            v->denv.host_port[2 * q + 1] = rx;
        if (tx < 0 || rx < 0) {
            snprintf(err, errlen, "cannot bind the frontend's event channel %lu",
                     tx < 0 ? tx_port[q] : rx_port[q]);
            rc = tx < 0 ? tx : rx;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (rc)
        unbind(v);
    return rc;
}

static uint32_t features_bits(const struct net_features *f)
{
    return (f->rx_notify ? DEV_NET_RX_NOTIFY : 0) | (f->sg ? DEV_NET_SG : 0) |
           (f->gso_tcpv4 ? DEV_NET_GSO4 : 0) | (f->gso_tcpv6 ? DEV_NET_GSO6 : 0) |
           (f->csum ? DEV_NET_CSUM : 0) | (f->ipv6_csum ? DEV_NET_IPV6_CSUM : 0);
}

/* The saved ring indices; drained at the save, each equals the shared rsp_prod. */
static int set_positions(struct vif *v, const struct dev_saved *saved, char *err, size_t errlen)
{
    for (unsigned i = 0; i < v->nb.nr_queues; i++) {
        struct netq *q = v->nb.q[i];
        const struct dev_saved_queue *sq = &saved->q[i];
        if (sq->req_cons[0] != sq->rsp_prod_pvt[0] || q->tx.sring->rsp_prod != sq->rsp_prod_pvt[0] ||
            sq->req_cons[1] != sq->rsp_prod_pvt[1] || q->rx.sring->rsp_prod != sq->rsp_prod_pvt[1]) {
            snprintf(err, errlen, "queue %u: saved ring indices do not match the rings", i);
            return -EINVAL;
        }
        q->tx.req_cons = sq->req_cons[0];
        q->tx.rsp_prod_pvt = sq->rsp_prod_pvt[0];
        q->rx.req_cons = sq->req_cons[1];
        q->rx.rsp_prod_pvt = sq->rsp_prod_pvt[1];
    }
    return 0;
}

static int vif_connect(struct xenbus_dev *dev, char *err, size_t errlen)
{
    struct vif *v = dev->priv;
    struct net_features feat = { 0 };
    int rc = read_features(dev, &feat, err, errlen);
    if (rc)
        return rc;
    unsigned long nq;
    if (xenbus_read_fe_uint(dev, "multi-queue-num-queues", 1, &nq) || nq < 1 || nq > NET_MAX_QUEUES) {
        snprintf(err, errlen, "frontend's multi-queue-num-queues is invalid");
        return -EINVAL;
    }
    struct netback_queue_refs refs[NET_MAX_QUEUES];
    unsigned long tx_port[NET_MAX_QUEUES], rx_port[NET_MAX_QUEUES];
    for (unsigned q = 0; q < nq; q++) {
        char prefix[16] = "";
        if (nq > 1)
            snprintf(prefix, sizeof(prefix), "queue-%u/", q);
        if (read_queue(dev, prefix, &refs[q], &tx_port[q], &rx_port[q], err, errlen))
            return -EINVAL;
    }
    /* A restored connection: the same rings, going on from the saved indices. */
    const struct dev_saved *saved = xenbus_dev_saved(dev);
    if (saved && (saved->nr_queues != nq || saved->features != features_bits(&feat))) {
        snprintf(err, errlen, "the frontend's queues or features differ from the saved ones");
        return -EINVAL;
    }
    for (unsigned q = 0; saved && q < nq; q++) {
        const struct dev_saved_queue *sq = &saved->q[q];
        if (sq->port[0] != tx_port[q] || sq->port[1] != rx_port[q] ||
            sq->ring_ref[0] != refs[q].tx_ref || sq->ring_ref[1] != refs[q].rx_ref) {
            snprintf(err, errlen, "queue %u: the frontend's rings or event channels differ from "
                     "the saved ones", q);
            return -EINVAL;
        }
    }
    rc = net_tap_set_queues(v->tap_fd, NET_MAX_QUEUES, nq);
    if (rc) {
        snprintf(err, errlen, "tap %s: cannot set its queues: %s", v->ifname, strerror(-rc));
        return rc;
    }
    rc = netback_connect(&v->nb, nq, refs, v->tap_fd, &feat, !saved, err, errlen);
    if (rc)
        return rc;
    if (saved)
        rc = set_positions(v, saved, err, errlen);
    size_t npend;
    const uint8_t *pend = saved ? xenbus_dev_saved_data(dev, &npend) : NULL;
    if (!rc && pend)
        rc = netback_set_pending_rx(&v->nb, pend, npend, err, errlen);
    if (!rc)
        rc = bind_ports(v, nq, tx_port, rx_port, err, errlen);
    if (!rc && saved && (rc = netback_resume(&v->nb, err, errlen)))
        unbind(v);
    if (rc) {
        netback_disconnect(&v->nb);
        return rc;
    }
    for (unsigned q = 0; q < nq; q++)
        netback_kick(&v->nb, q);     /* requests queued before the bind */
    log_info("vif %s: %s: %lu queue(s), %s event channels%s%s", v->ifname,
             saved ? "connected again from the save" : "connected", nq,
             tx_port[0] == rx_port[0] ? "shared" : "split", feat.sg ? ", sg" : "",
             feat.gso_tcpv4 ? ", gso" : "");
    return 0;
}

static void vif_disconnect(struct xenbus_dev *dev)
{
    struct vif *v = dev->priv;
    unbind(v);                       /* no more kicks */
    netback_disconnect(&v->nb);
    log_info("vif %s: disconnected", v->ifname);
}

/* ---- save (docs/save-restore.md) ---- */

static void vif_pause(struct xenbus_dev *dev)
{
    struct vif *v = dev->priv;
    netback_pause(&v->nb);
}

static int vif_resume(struct xenbus_dev *dev, char *err, size_t errlen)
{
    struct vif *v = dev->priv;
    int rc = netback_resume(&v->nb, err, errlen);
    for (unsigned q = 0; !rc && q < v->nb.nr_queues; q++)
        netback_kick(&v->nb, q);
    return rc;
}

static int vif_save(struct xenbus_dev *dev, struct dev_saved *out, char *err, size_t errlen)
{
    struct vif *v = dev->priv;
    struct netback *nb = &v->nb;
    out->nr_queues = nb->nr_queues;
    out->ring_pages = 1;
    out->features = features_bits(&nb->feat);
    pthread_mutex_lock(&v->d->lock);
    for (unsigned i = 0; i < nb->nr_queues; i++) {
        const struct netq *q = nb->q[i];
        for (unsigned k = 0; k < 2; k++) {
            int hp = v->denv.host_port[2 * i + k];
            out->q[i].port[k] = hp > 0 ? v->d->ev.host[hp].guest_port : 0;
        }
        out->q[i].ring_ref[0] = q->tx_ref;
        out->q[i].ring_ref[1] = q->rx_ref;
        out->q[i].req_cons[0] = q->tx.req_cons;
        out->q[i].rsp_prod_pvt[0] = q->tx.rsp_prod_pvt;
        out->q[i].req_cons[1] = q->rx.req_cons;
        out->q[i].rsp_prod_pvt[1] = q->rx.rsp_prod_pvt;
    }
    pthread_mutex_unlock(&v->d->lock);
    for (unsigned i = 0; i < nb->nr_queues; i++) {
        const struct netq *q = nb->q[i];
        if (q->broken || !out->q[i].port[0] || !out->q[i].port[1] ||
            q->tx.req_cons != q->tx.rsp_prod_pvt || q->rx.req_cons != q->rx.rsp_prod_pvt) {
            snprintf(err, errlen, "queue %u %s", i, q->broken ? "was stopped for a frontend "
                     "that broke the protocol" : "is not drained");
            return -EBUSY;
        }
    }
    return 0;
}

/* A packet read from the tap that the guest had no rx slots for yet goes
 * with the save and is delivered after the restore. */
static size_t vif_save_data(struct xenbus_dev *dev, uint8_t **data)
{
    struct vif *v = dev->priv;
    return netback_pending_rx(&v->nb, data);
}

static void vif_release(struct xenbus_dev *dev)
{
    struct vif *v = dev->priv;
    net_tap_close(v->tap_fd, NET_MAX_QUEUES);
    log_info("vif %s: removed", v->ifname);
    vif_spec_free(&v->spec);
    free(v);
}

static const struct xenbus_dev_ops vif_ops = {
    .type = "vif", .write_nodes = vif_write_nodes, .init_wait = vif_init_wait,
    .connect = vif_connect, .disconnect = vif_disconnect, .release = vif_release,
    .pause = vif_pause, .save = vif_save, .save_data = vif_save_data, .resume = vif_resume,
};

/* ---- a NIC on the domain's bus ---- */

static bool same_devid(struct xenbus_dev *dev, void *arg)
{
    return dev->devid == *(unsigned *)arg;
}

static bool same_mac(struct xenbus_dev *dev, void *arg)
{
    struct vif *v = dev->priv;
    return v && !memcmp(v->mac, arg, 6);
}

/* The lowest devid no vif of the domain uses. */
static unsigned free_devid(struct xenbus_bus *bus)
{
    unsigned id = 0;
    while (xenbus_bus_find(bus, "vif", same_devid, &id))
        id++;
    return id;
}

static bool bridge_exists(const char *name)
{
    char path[64 + IFNAMSIZ];
    struct stat st;
    snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", name);
    return stat(path, &st) == 0;
}

int vif_add(struct xenbus_bus *bus, struct domain *d, const char *spec, const char *name,
            const uint8_t *uuid, char *err, size_t errlen)
{
    struct vif *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char why[256], warn[256];
    v->d = d;
    for (unsigned q = 0; q < NET_MAX_QUEUES; q++)
        v->tap_fd[q] = -1;
    if (vif_parse(&v->spec, spec, why, sizeof(why), warn) < 0) {
        snprintf(err, errlen, "vif '%s': %s", spec, why);
        goto fail;
    }
    if (warn[0])
        log_warn("vif '%s': %s", spec, warn);
    if (v->spec.type && strcasecmp(v->spec.type, "vif") && strcasecmp(v->spec.type, "netfront")) {
        snprintf(err, errlen, "vif '%s': type=%s is not supported (only vif: xen-netfront)", spec,
                 v->spec.type);
        goto fail;
    }
    if (v->spec.backend && strcmp(v->spec.backend, "0") && strcmp(v->spec.backend, "Domain-0")) {
        snprintf(err, errlen, "vif '%s': backend=%s: only the host (domain 0) serves devices",
                 spec, v->spec.backend);
        goto fail;
    }
    if (v->spec.script && !strstr(v->spec.script, "vif-bridge"))
        log_warn("vif '%s': script=%s is not run: the tap goes on the bridge", spec,
                 v->spec.script);
    if (v->spec.rate)
        log_warn("vif '%s': rate=%s is not enforced", spec, v->spec.rate);
    unsigned devid = v->spec.devid >= 0 ? (unsigned)v->spec.devid : free_devid(bus);
    if (xenbus_bus_find(bus, "vif", same_devid, &devid)) {
        snprintf(err, errlen, "vif '%s': devid %u is already in use", spec, devid);
        goto fail;
    }
    if (v->spec.mac_set)
        memcpy(v->mac, v->spec.mac, 6);
    else
        vif_default_mac(uuid, name, devid, v->mac);
    if (xenbus_bus_find(bus, "vif", same_mac, v->mac)) {
        char m[18];
        mac_format(v->mac, m);
        snprintf(err, errlen, "vif '%s': MAC %s is already in use by this domain", spec, m);
        goto fail;
    }
    v->bridge = v->spec.bridge ? v->spec.bridge : DEFAULT_BRIDGE;
    if (!bridge_exists(v->bridge)) {
        snprintf(err, errlen, "vif '%s': bridge %s does not exist (create it, e.g. `ip link add "
                 "%s type bridge`, or name another with bridge=)", spec, v->bridge, v->bridge);
        goto fail;
    }
    if (v->spec.vifname)
        snprintf(v->ifname, sizeof(v->ifname), "%s", v->spec.vifname);
    else if (snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", d->domid, devid) >= IFNAMSIZ) {
        snprintf(err, errlen, "vif '%s': interface name too long", spec);
        goto fail;
    }
    if (net_tap_open(v->ifname, NET_MAX_QUEUES, v->spec.mtu, v->bridge, v->tap_fd, why,
                     sizeof(why)) < 0) {
        snprintf(err, errlen, "vif '%s': %s", spec, why);
        goto fail;
    }
    domain_env_init(&v->denv, d, &v->env);
    netback_init(&v->nb, &v->env);
    v->dev = xenbus_dev_create(bus, &vif_ops, devid, v, err, errlen);
    if (!v->dev) {
        net_tap_close(v->tap_fd, NET_MAX_QUEUES);
        goto fail;
    }
    char m[18];
    mac_format(v->mac, m);
    log_info("vif %u: %s on bridge %s, guest MAC %s", devid, v->ifname, v->bridge, m);
    return (int)devid;
fail:
    vif_spec_free(&v->spec);
    free(v);
    return -1;
}

bool vif_is(struct xenbus_dev *dev, const char *id)
{
    struct vif *v = dev->priv;
    char num[16];
    uint8_t mac[6];
    snprintf(num, sizeof(num), "%u", dev->devid);
    return !strcmp(id, num) || (v && mac_parse(id, mac) == 0 && !memcmp(mac, v->mac, 6));
}

void vif_info(struct xenbus_dev *dev, struct device_info *out)
{
    struct vif *v = dev->priv;
    const struct net_stats *st = &v->nb.stats;
    out->nic = true;
    snprintf(out->name, sizeof(out->name), "%s", v->ifname);
    snprintf(out->target, sizeof(out->target), "%s", v->bridge);
    mac_format(v->mac, out->mac);
    out->tx_packets = atomic_load_explicit(&st->tx_packets, memory_order_relaxed);
    out->tx_bytes = atomic_load_explicit(&st->tx_bytes, memory_order_relaxed);
    out->tx_errors = atomic_load_explicit(&st->tx_errors, memory_order_relaxed);
    out->rx_packets = atomic_load_explicit(&st->rx_packets, memory_order_relaxed);
    out->rx_bytes = atomic_load_explicit(&st->rx_bytes, memory_order_relaxed);
    out->rx_dropped = atomic_load_explicit(&st->rx_dropped, memory_order_relaxed);
}
