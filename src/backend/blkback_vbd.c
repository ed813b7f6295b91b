/* vbd devices on xenbus: the nodes libxl writes for a disk, the features
 * blkback offers, and connecting the frontend's rings and event channels. */
#include "backend/blkback_vbd.h"
#include "backend/blkback.h"
#include <stdatomic.h>
#include "backend/domain_env.h"
#include "backend/device_state.h"
#include "backend/xenbus_backend.h"
#include "config/disk.h"
#include "xen/domain.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <xen/io/protocols.h>

struct vbd;

struct kick_ctx {
    struct vbd *v;
    unsigned q;
};

struct vbd {
    struct domain *d;
    struct xenbus_dev *dev;
    struct disk_spec spec;
    bool image;                 /* served by a qemu-storage-daemon (not raw on io_uring) */
    struct blk_disk disk;
    struct gnt_env env;
    struct domain_env denv;
    struct blkback be;
    struct kick_ctx kick[BLK_MAX_QUEUES];
};

/* ---- creation-time nodes and features ---- */

static int vbd_write_nodes(struct xenbus_dev *dev, uint32_t tx)
{
    struct vbd *v = dev->priv;
    const char *devtype = v->spec.cdrom ? "cdrom" : "disk";
    int rc = 0;
#define BE(node, ...) if (!rc) rc = xenbus_printf(dev, tx, false, node, __VA_ARGS__)
#define FE(node, ...) if (!rc) rc = xenbus_printf(dev, tx, true, node, __VA_ARGS__)
    /* libxl's forms: phy's params is the path; qdisk's (QEMU) is FORMAT:path */
    if (v->image) {
        BE("params", "%s:%s", disk_format_name(v->spec.format), v->spec.target);
    } else {
        BE("params", "%s", v->spec.target);
    }
    BE("mode", "%s", v->spec.readonly ? "r" : "w");
    BE("type", "%s", v->image ? "qdisk" : "phy");
    BE("device-type", "%s", devtype);
    BE("removable", "%d", v->spec.cdrom ? 1 : 0);
    BE("bootable", "1");
    BE("dev", "%s", v->spec.vdev);
    BE("discard-enable", "%d", v->disk.discard ? 1 : 0);
    if (v->disk.is_bdev) {
        BE("physical-device", "%x:%x", major(v->disk.rdev), minor(v->disk.rdev));
        BE("physical-device-path", "%s", v->spec.target);
    }
    FE("virtual-device", "%d", v->spec.devid);
    FE("device-type", "%s", devtype);
#undef BE
#undef FE
    return rc;
}

static int vbd_init_wait(struct xenbus_dev *dev)
{
    struct vbd *v = dev->priv;
    struct blk_disk *k = &v->disk;
    unsigned info = (k->readonly ? VDISK_READONLY : 0) | (v->spec.cdrom ? VDISK_CDROM : 0);
    int rc = 0;
#define BE(node, ...) if (!rc) rc = xenbus_printf(dev, 0, false, node, __VA_ARGS__)
    BE("feature-flush-cache", "1");
    BE("feature-barrier", "1");
    BE("feature-discard", "%d", k->discard ? 1 : 0);
    if (k->discard) {
        BE("discard-granularity", "%u", k->discard_granularity);
        BE("discard-alignment", "0");
        BE("discard-secure", "0");
    }
    BE("feature-max-indirect-segments", "%u", BLK_MAX_INDIRECT_SEGS);
    BE("max-ring-page-order", "%u", BLK_MAX_RING_PAGE_ORDER);
    BE("multi-queue-max-queues", "%u", BLK_MAX_QUEUES);
    /* 512-byte units whatever sector-size says, as Linux's blkback and
     * blkfront use it */
    BE("sectors", "%llu", (unsigned long long)k->sectors);
    BE("info", "%u", info);
    BE("sector-size", "%u", k->sector_size);
    BE("physical-sector-size", "%u", k->physical_sector_size);
#undef BE
    return rc;
}

/* ---- connecting ---- */

static void vbd_kicked(void *opaque, evtchn_port_t port)
{
    struct kick_ctx *k = opaque;
    (void)port;
    blkback_kick(&k->v->be, k->q);
}

/* Reads one queue's ring refs and event channel (prefix "" or "queue-N/"). */
static int read_queue(struct xenbus_dev *dev, const char *prefix, unsigned order,
                      struct blkback_ring *ring, unsigned long *port, char *err, size_t errlen)
{
    char node[48];
    ring->nr_pages = 1u << order;
    for (unsigned i = 0; i < ring->nr_pages; i++) {
        unsigned long ref;
        if (order)
            snprintf(node, sizeof(node), "%sring-ref%u", prefix, i);
        else
            snprintf(node, sizeof(node), "%sring-ref", prefix);
        int rc = xenbus_read_fe_uint(dev, node, ~0ul, &ref);
        if (rc || ref > UINT32_MAX) {
            snprintf(err, errlen, "frontend's %s is missing or not a grant reference", node);
            return -EINVAL;
        }
        ring->refs[i] = ref;
    }
    snprintf(node, sizeof(node), "%sevent-channel", prefix);
    if (xenbus_read_fe_uint(dev, node, ~0ul, port) || *port == 0 || *port >= EVTCHN_NR_PORTS) {
        snprintf(err, errlen, "frontend's %s is missing or not a port", node);
        return -EINVAL;
    }
    return 0;
}

static void unbind(struct vbd *v)
{
    struct domain *d = v->d;
    pthread_mutex_lock(&d->lock);
    for (unsigned q = 0; q < BLK_MAX_QUEUES; q++) {
        if (v->denv.host_port[q] > 0)
            evtchn_host_close(&d->ev, v->denv.host_port[q]);
        v->denv.host_port[q] = -1;
    }
    pthread_mutex_unlock(&d->lock);
}

static int vbd_connect(struct xenbus_dev *dev, char *err, size_t errlen)
{
    struct vbd *v = dev->priv;
    /* No "protocol" node: the native ABI, as Linux's blkback assumes. */
    char *proto = NULL;
    bool abi32 = false;
    if (xenbus_read_fe(dev, "protocol", &proto) == 0) {
        abi32 = !strcmp(proto, XEN_IO_PROTO_ABI_X86_32);
        if (!abi32 && strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) {
            snprintf(err, errlen, "frontend protocol %s is not supported (%s or %s)", proto,
                     XEN_IO_PROTO_ABI_X86_64, XEN_IO_PROTO_ABI_X86_32);
            free(proto);
            return -EINVAL;
        }
    }
    free(proto);
    unsigned long order, nq;
    if (xenbus_read_fe_uint(dev, "ring-page-order", 0, &order) || order > BLK_MAX_RING_PAGE_ORDER ||
        xenbus_read_fe_uint(dev, "multi-queue-num-queues", 1, &nq) || nq < 1 || nq > BLK_MAX_QUEUES) {
        snprintf(err, errlen, "frontend's ring-page-order or multi-queue-num-queues is invalid");
        return -EINVAL;
    }
    struct blkback_ring rings[BLK_MAX_QUEUES];
    unsigned long ports[BLK_MAX_QUEUES];
    for (unsigned q = 0; q < nq; q++) {
        char prefix[16] = "";
        if (nq > 1)
            snprintf(prefix, sizeof(prefix), "queue-%u/", q);
        if (read_queue(dev, prefix, order, &rings[q], &ports[q], err, errlen))
            return -EINVAL;
        rings[q].abi32 = abi32;
    }
    /* A restored connection: the same rings, going on from the saved indices. */
    const struct dev_saved *saved = xenbus_dev_saved(dev);
    if (saved && (saved->nr_queues != nq || saved->ring_pages != 1u << order ||
                  saved->abi32 != abi32)) {
        snprintf(err, errlen, "the frontend's rings differ from the saved ones (%lu queue(s) "
                 "of %u page(s), saved %u of %u)", nq, 1u << order, saved->nr_queues,
                 saved->ring_pages);
        return -EINVAL;
    }
    for (unsigned q = 0; saved && q < nq; q++)
        if (saved->q[q].port[0] != ports[q] ||
            memcmp(saved->q[q].ring_ref, rings[q].refs, rings[q].nr_pages * sizeof(grant_ref_t))) {
            snprintf(err, errlen, "queue %u: the frontend's ring-ref or event-channel differs "
                     "from the saved one", q);
            return -EINVAL;
        }
    int rc = blkback_connect(&v->be, nq, rings, !saved, err, errlen);
    if (rc)
        return rc;
    for (unsigned q = 0; saved && q < nq && !rc; q++) {
        struct blkq *bq = &v->be.q[q];
        const struct dev_saved_queue *sq = &saved->q[q];
        /* drained at the save: everything taken was answered and pushed */
        if (sq->req_cons[0] != sq->rsp_prod_pvt[0] ||
            bq->ring.sring->rsp_prod != sq->rsp_prod_pvt[0]) {
            snprintf(err, errlen, "queue %u: saved ring indices (req_cons %u, rsp_prod %u) do not "
                     "match the ring (rsp_prod %u)", q, sq->req_cons[0], sq->rsp_prod_pvt[0],
                     bq->ring.sring->rsp_prod);
            rc = -EINVAL;
        }
        bq->ring.req_cons = sq->req_cons[0];
        bq->ring.rsp_prod_pvt = sq->rsp_prod_pvt[0];
    }
    if (rc) {
        blkback_disconnect(&v->be);
        return rc;
    }
    struct domain *d = v->d;
    pthread_mutex_lock(&d->lock);
    for (unsigned q = 0; q < nq && !rc; q++) {
        v->kick[q] = (struct kick_ctx){ v, q };
        int hp = evtchn_host_bind(&d->ev, ports[q], vbd_kicked, &v->kick[q]);
        if (hp < 0) {
            snprintf(err, errlen, "cannot bind the frontend's event channel %lu", ports[q]);
            rc = hp;
        } else {
            v->denv.host_port[q] = hp;
        }
    }
    pthread_mutex_unlock(&d->lock);
    if (!rc && saved)
        rc = blkback_resume(&v->be, err, errlen);   /* bound: its answers notify */
    if (rc) {
        unbind(v);
        blkback_disconnect(&v->be);
        return rc;
    }
    for (unsigned q = 0; q < nq; q++)
        blkback_kick(&v->be, q);     /* requests queued before the bind */
    log_info("vbd %s: %s: %lu queue(s) of %u ring page(s)%s", v->spec.vdev,
             saved ? "connected again from the save" : "connected", nq, 1u << order,
             abi32 ? ", x86_32-abi" : "");
    return 0;
}

/* ---- save (docs/save-restore.md) ---- */

static void vbd_pause(struct xenbus_dev *dev)
{
    struct vbd *v = dev->priv;
    blkback_pause(&v->be);
}

static int vbd_resume(struct xenbus_dev *dev, char *err, size_t errlen)
{
    struct vbd *v = dev->priv;
    int rc = blkback_resume(&v->be, err, errlen);
    for (unsigned q = 0; !rc && q < v->be.nr_queues; q++)
        blkback_kick(&v->be, q);     /* requests that came while it was paused */
    return rc;
}

static int vbd_save(struct xenbus_dev *dev, struct dev_saved *out, char *err, size_t errlen)
{
    struct vbd *v = dev->priv;
    struct blkback *b = &v->be;
    out->nr_queues = b->nr_queues;
    out->ring_pages = b->q[0].nr_ring_pages;
    out->abi32 = b->q[0].abi32;
    pthread_mutex_lock(&v->d->lock);
    for (unsigned i = 0; i < b->nr_queues; i++) {
        const struct blkq *q = &b->q[i];
        int hp = v->denv.host_port[i];
        out->q[i].port[0] = hp > 0 ? v->d->ev.host[hp].guest_port : 0;
        memcpy(out->q[i].ring_ref, q->ring_refs, q->nr_ring_pages * sizeof(grant_ref_t));
        out->q[i].req_cons[0] = q->ring.req_cons;
        out->q[i].rsp_prod_pvt[0] = q->ring.rsp_prod_pvt;
    }
    pthread_mutex_unlock(&v->d->lock);
    for (unsigned i = 0; i < b->nr_queues; i++) {
        const struct blkq *q = &b->q[i];
        if (q->broken || q->inflight || !out->q[i].port[0]) {
            snprintf(err, errlen, "queue %u %s", i, q->broken ? "was stopped for a frontend "
                     "that broke the ring" : q->inflight ? "still has requests in flight"
                     : "has no event channel");
            return -EBUSY;
        }
    }
    return 0;
}

static void vbd_disconnect(struct xenbus_dev *dev)
{
    struct vbd *v = dev->priv;
    unbind(v);                       /* no more kicks */
    blkback_disconnect(&v->be);      /* waits for in-flight I/O, unmaps */
    log_info("vbd %s: disconnected", v->spec.vdev);
}

/* ---- a disk on the domain's bus ---- */

static void vbd_release(struct xenbus_dev *dev)
{
    struct vbd *v = dev->priv;
    blk_disk_close(&v->disk);
    disk_spec_free(&v->spec);
    free(v);
}

static const struct xenbus_dev_ops vbd_ops = {
    .type = "vbd", .write_nodes = vbd_write_nodes, .init_wait = vbd_init_wait,
    .connect = vbd_connect, .disconnect = vbd_disconnect, .release = vbd_release,
    .pause = vbd_pause, .save = vbd_save, .resume = vbd_resume,
};

static bool same_devid(struct xenbus_dev *dev, void *arg)
{
    return dev->devid == *(unsigned *)arg;
}

int vbd_add(struct xenbus_bus *bus, struct domain *d, const char *spec, char *err, size_t errlen)
{
    struct vbd *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char why[200];
    v->d = d;
    if (disk_parse(&v->spec, spec, why, sizeof(why)) < 0 ||
        disk_check_supported(&v->spec, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "disk '%s': %s", spec, why);
        goto fail_spec;
    }
    if (!v->spec.target || !v->spec.target[0] || !v->spec.vdev || v->spec.devid < 0) {
        snprintf(err, errlen, "disk '%s': %s", spec,
                 !v->spec.vdev || v->spec.devid < 0 ? "needs a virtual device (vdev=xvda)"
                                                    : "an empty drive is not supported");
        goto fail_spec;
    }
    unsigned devid = (unsigned)v->spec.devid;
    if (xenbus_bus_find(bus, "vbd", same_devid, &devid)) {
        snprintf(err, errlen, "disk '%s': %s is already in use", spec, v->spec.vdev);
        goto fail_spec;
    }
    /* Image formats, and raw disks that ask for QEMU (backendtype=qdisk, as
     * xl would serve them), go through qemu-storage-daemon; other raw disks
     * are files or block devices on io_uring. */
    v->image = v->spec.format != DISK_FMT_RAW || v->spec.backend == DISK_BK_QDISK;
    bool ro = v->spec.readonly || v->spec.cdrom;
    int rc = v->image ? blk_disk_open_image(&v->disk, v->spec.target,
                                            disk_format_name(v->spec.format), ro, err, errlen)
                      : blk_disk_open(&v->disk, v->spec.target, ro, err, errlen);
    if (rc < 0)
        goto fail_spec;
    if (v->spec.discard == 0)
        v->disk.discard = false;
    domain_env_init(&v->denv, d, &v->env);
    blkback_init(&v->be, &v->disk, &v->env);
    v->dev = xenbus_dev_create(bus, &vbd_ops, devid, v, err, errlen);
    if (!v->dev)
        goto fail_disk;
    log_info("vbd %s (%u): %s (%s%s), %llu sectors, %s", v->spec.vdev, devid, v->spec.target,
             disk_format_name(v->spec.format), v->image ? " through qemu-storage-daemon" : "",
             (unsigned long long)v->disk.sectors, v->disk.readonly ? "read-only" : "read-write");
    return (int)devid;
fail_disk:
    blk_disk_close(&v->disk);
fail_spec:
    disk_spec_free(&v->spec);
    free(v);
    return -1;
}

bool vbd_is(struct xenbus_dev *dev, const char *id)
{
    struct vbd *v = dev->priv;
    char num[16];
    snprintf(num, sizeof(num), "%u", dev->devid);
    return !strcmp(id, num) || (v && v->spec.vdev && !strcmp(id, v->spec.vdev));
}

void vbd_info(struct xenbus_dev *dev, struct device_info *out)
{
    struct vbd *v = dev->priv;
    snprintf(out->name, sizeof(out->name), "%s", v->spec.vdev);
    snprintf(out->target, sizeof(out->target), "%s", v->spec.target);
    for (unsigned q = 0; q < BLK_MAX_QUEUES; q++) {
        const struct blkq_stats *st = &v->be.q[q].stats;
        out->rd_reqs += atomic_load_explicit(&st->rd_reqs, memory_order_relaxed);
        out->wr_reqs += atomic_load_explicit(&st->wr_reqs, memory_order_relaxed);
        out->rd_sect += atomic_load_explicit(&st->rd_sect, memory_order_relaxed);
        out->wr_sect += atomic_load_explicit(&st->wr_sect, memory_order_relaxed);
        out->flush_reqs += atomic_load_explicit(&st->flush_reqs, memory_order_relaxed);
    }
}
