/* Reading a save file back into a fresh domain (docs/save-restore.md). Every
 * record is checked for size and range before it is used: a file that passed
 * its checksums may still come from another xenkvm or another guest. */
#include "vmm/snapshot_state.h"
#include "vmm/snapshot_devices.h"
#include "vmm/snapshot_vcpus.h"
#include "xen/domain.h"
#include "xen/evtchn_fifo.h"
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <zstd.h>

struct snapshot_restore {
    struct domain *d;
    const char *path;
    struct snap_domain dom;
    bool have_dom, have_pages;
    uint8_t *vcpu[VM_MAX_VCPUS];    /* VCPU payloads */
    void *evtchn, *gnttab, *xenstore, *devices, *dev_data, *vcpu_sched;
    uint64_t evtchn_len, gnttab_len, xenstore_len, devices_len, dev_data_len, vcpu_sched_len;
    /* the VCPU_SCHED record, checked (snapshot_vcpus.c); in a file without
     * one, no vCPU down and the config's availability and affinity */
    struct snap_vcpu_sched sched;
    /* the DEVICES record, checked (snapshot_devices.c) */
    const struct dev_saved *devs;
    unsigned nr_devs, visible_domid;
    uint8_t pages[(1 + SPECIAL_NR_PAGES) * PAGE_SIZE];
};

__attribute__((format(printf, 4, 5)))
static int bad(struct snapshot_restore *s, char *err, size_t errlen, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", s->path, why);
    return -1;
}

static int load_ram(struct snapshot_restore *s, const uint8_t *p, uint64_t len, uint8_t *buf,
                    char *err, size_t errlen)
{
    struct snap_ram h;
    if (len < sizeof(h))
        return bad(s, err, errlen, "corrupt: a RAM record is too short");
    memcpy(&h, p, sizeof(h));
    uint64_t head = sizeof(h) + (uint64_t)h.count * 8;
    if (h.count == 0 || h.count > SNAP_RAM_CHUNK || len < head)
        return bad(s, err, errlen, "corrupt: a RAM record holds %u pages", h.count);
    /* RAM frames in a row whose pages are a row of host memory too (a save
     * writes ascending frames): straight into the guest, without a copy. */
    uint64_t first;
    memcpy(&first, p + sizeof(h), 8);
    uint8_t *start = vm_ram_frame_page(&s->d->vm, first);
    bool row = start != NULL;
    for (uint32_t i = 1; i < h.count && row; i++) {
        uint64_t gfn;
        memcpy(&gfn, p + sizeof(h) + i * 8ull, 8);
        row = gfn == first + i && vm_ram_frame_page(&s->d->vm, gfn) == start + i * (uint64_t)PAGE_SIZE;
    }
    if (row)
        buf = start;
    size_t n = ZSTD_decompress(buf, h.count * PAGE_SIZE, p + head, len - head);
    if (ZSTD_isError(n) || n != h.count * PAGE_SIZE)
        return bad(s, err, errlen, "corrupt: a RAM record does not decompress (%s)",
                   ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
    for (uint32_t i = 0; i < h.count && buf != start; i++) {
        uint64_t gfn;
        memcpy(&gfn, p + sizeof(h) + i * 8, 8);
        uint8_t *page = vm_ram_frame_page(&s->d->vm, gfn);
        if (!page)
            return bad(s, err, errlen, "frame %#llx is outside this domain's RAM (%llu MiB)",
                       (unsigned long long)gfn, (unsigned long long)(s->d->vm.ram_size >> 20));
        memcpy(page, buf + i * PAGE_SIZE, PAGE_SIZE);
    }
    return 0;
}

static int load_absent(struct snapshot_restore *s, const uint8_t *p, uint64_t len, char *err,
                       size_t errlen)
{
    if (len % 8)
        return bad(s, err, errlen, "corrupt: a RAM_ABSENT record of %llu bytes",
                   (unsigned long long)len);
    for (uint64_t i = 0; i < len / 8; i++) {
        uint64_t gfn;
        memcpy(&gfn, p + i * 8, 8);
        int rc = vm_ram_release(&s->d->vm, gfn);
        if (rc < 0 && rc != -ENOENT)
            return bad(s, err, errlen, "released frame %#llx is outside this domain's RAM",
                       (unsigned long long)gfn);
    }
    return 0;
}

static int check_domain(struct snapshot_restore *s, const void *p, uint64_t len, char *err,
                        size_t errlen)
{
    struct domain *d = s->d;
    if (len != sizeof(s->dom))
        return bad(s, err, errlen, "corrupt: the DOMAIN record has %llu bytes, not %zu",
                   (unsigned long long)len, sizeof(s->dom));
    memcpy(&s->dom, p, sizeof(s->dom));
    if (s->dom.nr_vcpus != (uint32_t)d->vm.nr_vcpus)
        return bad(s, err, errlen, "the guest was saved with %u vCPUs; the config gives %d",
                   s->dom.nr_vcpus, d->vm.nr_vcpus);
    if (s->dom.ram_size != d->vm.ram_size)
        return bad(s, err, errlen, "the guest was saved with %llu MiB of memory; the config "
                   "gives %llu MiB", (unsigned long long)(s->dom.ram_size >> 20),
                   (unsigned long long)(d->vm.ram_size >> 20));
    if (s->dom.nr_e820 > E820_MAX || s->dom.nr_e820 > 8 || s->dom.tsc_shift < -32 ||
        s->dom.tsc_shift > 32 || s->dom.callback_vector > 255)
        return bad(s, err, errlen, "corrupt: impossible values in the DOMAIN record");
    s->have_dom = true;
    /* The guest's clock goes on from where it stopped: its TSC, and with it
     * Xen system time and every pvclock record in its memory. */
    if (vm_set_guest_tsc(&d->vm, s->dom.guest_tsc) < 0)
        return bad(s, err, errlen, "cannot set the guest TSC: %s", strerror(errno));
    /* A KVM that ignores TSC offsets (this nested host's does) leaves the
     * guest TSC running on through the downtime: system time then starts
     * that much later in TSC terms, and the pvclock records are rewritten
     * (snapshot_restore_apply), so Xen time still goes on from the save. */
    uint64_t skipped = vm_guest_tsc(&d->vm) - s->dom.guest_tsc;
    if (skipped > (1ull << 62))
        skipped = 0;   /* the TSC is behind the saved one: no adjustment */
    d->tsc0 = s->dom.tsc0 + skipped;
    d->tsc_mul = s->dom.tsc_mul;
    d->tsc_shift = (int8_t)s->dom.tsc_shift;
    return 0;
}

static int keep(void **slot, uint64_t *slot_len, void *p, uint64_t len)
{
    free(*slot);
    *slot = p;
    *slot_len = len;
    return 1;
}

/* One record: 1 when p was kept, 0 when done with, -1 on error. */
static int take(struct snapshot_restore *s, uint32_t type, void *p, uint64_t len, uint8_t *buf,
                char *err, size_t errlen)
{
    /* RAM may come first: a migration's pre-copy rounds precede the rest. */
    if (type != SNAP_REC_CONFIG && type != SNAP_REC_DOMAIN && type != SNAP_REC_XENSTORE &&
        type != SNAP_REC_RAM && type != SNAP_REC_RAM_ABSENT && !s->have_dom)
        return bad(s, err, errlen, "corrupt: a %s record before the DOMAIN record",
                   snap_rec_name(type));
    switch (type) {
    case SNAP_REC_CONFIG:
        return 0;
    case SNAP_REC_DOMAIN:
        return check_domain(s, p, len, err, errlen);
    case SNAP_REC_RAM:
        return load_ram(s, p, len, buf, err, errlen);
    case SNAP_REC_RAM_ABSENT:
        return load_absent(s, p, len, err, errlen);
    case SNAP_REC_VCPU: {
        struct snap_vcpu v;
        if (len < sizeof(v))
            return bad(s, err, errlen, "corrupt: a VCPU record is too short");
        memcpy(&v, p, sizeof(v));
        if (v.id >= s->dom.nr_vcpus || s->vcpu[v.id] || len != sizeof(v) + v.xsave_size)
            return bad(s, err, errlen, "corrupt: VCPU record for vCPU %u", v.id);
        s->vcpu[v.id] = p;
        return 1;
    }
    case SNAP_REC_EVTCHN:
        return keep(&s->evtchn, &s->evtchn_len, p, len);
    case SNAP_REC_GNTTAB:
        return keep(&s->gnttab, &s->gnttab_len, p, len);
    case SNAP_REC_XENSTORE:
        return keep(&s->xenstore, &s->xenstore_len, p, len);
    case SNAP_REC_DEVICES:
        return keep(&s->devices, &s->devices_len, p, len);
    case SNAP_REC_DEV_DATA:
        return keep(&s->dev_data, &s->dev_data_len, p, len);
    case SNAP_REC_VCPU_SCHED:
        return keep(&s->vcpu_sched, &s->vcpu_sched_len, p, len);
    case SNAP_REC_PAGES:
        if (len != sizeof(s->pages))
            return bad(s, err, errlen, "corrupt: the PAGES record has %llu bytes",
                       (unsigned long long)len);
        memcpy(s->pages, p, len);
        s->have_pages = true;
        return 0;
    default:
        return bad(s, err, errlen, "unknown record type %#x (written by a newer xenkvm?)", type);
    }
}

struct snapshot_restore *snapshot_restore_open(struct domain *d, const char *path,
                                               char *err, size_t errlen)
{
    struct snapshot_restore *s = calloc(1, sizeof(*s));
    uint8_t *buf = malloc(SNAP_RAM_CHUNK * PAGE_SIZE);
    struct snap_reader r;
    if (!s || !buf) {
        snprintf(err, errlen, "out of memory");
        free(s);
        free(buf);
        return NULL;
    }
    s->d = d;
    s->path = path;
    if (snap_open(&r, path, err, errlen) < 0) {
        free(buf);
        free(s);
        return NULL;
    }
    int rc;
    uint32_t type;
    void *p;
    uint64_t len;
    while ((rc = snap_next(&r, &type, &p, &len, err, errlen)) > 0) {
        int t = take(s, type, p, len, buf, err, errlen);
        if (t <= 0)
            free(p);
        if (t < 0) {
            rc = -1;
            break;
        }
    }
    snap_close(&r);
    free(buf);
    if (!rc && !s->have_pages)
        rc = bad(s, err, errlen, "corrupt: no PAGES record");
    for (uint32_t i = 0; !rc && i < s->dom.nr_vcpus; i++)
        if (!s->vcpu[i])
            rc = bad(s, err, errlen, "corrupt: no state for vCPU %u", i);
    if (!rc && (!s->evtchn || !s->gnttab))
        rc = bad(s, err, errlen, "corrupt: no %s record", s->evtchn ? "GNTTAB" : "EVTCHN");
    s->visible_domid = s->dom.domid;
    char why[256];
    if (!rc && s->devices && snapdev_decode(s->devices, s->devices_len, &s->visible_domid,
                                            &s->devs, &s->nr_devs, why, sizeof(why)) < 0)
        rc = bad(s, err, errlen, "%s", why);
    if (!rc && s->dev_data && !s->devices)
        rc = bad(s, err, errlen, "corrupt: a DEV_DATA record without DEVICES");
    if (!rc && s->vcpu_sched && snapvcpu_decode(s->vcpu_sched, s->vcpu_sched_len,
                                                s->dom.nr_vcpus, &s->sched, why, sizeof(why)) < 0)
        rc = bad(s, err, errlen, "%s", why);
    /* Down only a vCPU that was up, and not every one (the last going down
     * powers the domain off). */
    uint64_t up = 0;
    for (uint32_t i = 0; !rc && i < s->dom.nr_vcpus; i++)
        up |= (uint64_t)(((const struct snap_vcpu *)s->vcpu[i])->up != 0) << i;
    if (!rc && ((s->sched.down & ~up) || (up && !(up & ~s->sched.down))))
        rc = bad(s, err, errlen, "corrupt: vCPUs %#llx down of %#llx up",
                 (unsigned long long)s->sched.down, (unsigned long long)up);
    if (rc) {
        snapshot_restore_free(s);
        return NULL;
    }
    return s;
}

static int apply_evtchn(struct snapshot_restore *s, char *err, size_t errlen)
{
    struct evtchn_domain *e = &s->d->ev;
    struct snap_evtchn_hdr h;
    const uint8_t *p = s->evtchn;
    if (s->evtchn_len < sizeof(h))
        return bad(s, err, errlen, "corrupt: EVTCHN record too short");
    memcpy(&h, p, sizeof(h));
    uint64_t want = sizeof(h) + (uint64_t)h.nr_ports * sizeof(struct snap_port) +
                    (uint64_t)h.nr_host * sizeof(struct snap_host_port) + sizeof(e->virq_port) +
                    (h.fifo ? sizeof(struct evtchn_fifo_saved) : 0);
    if (h.nr_ports > EVTCHN_NR_PORTS || h.nr_host > EVTCHN_HOST_PORTS || h.fifo > 1 ||
        s->evtchn_len != want)
        return bad(s, err, errlen, "corrupt: EVTCHN record of %llu bytes",
                   (unsigned long long)s->evtchn_len);
    const struct snap_port *ports = (const void *)(p + sizeof(h));
    const struct snap_host_port *hosts = (const void *)(ports + h.nr_ports);
    /* The host side (console, xenstore) was set up again in this process, in
     * the same order: its ports must be where the guest left them. The
     * devices' ports are bound again when each device connects. */
    unsigned used = 0, dev_hosts = 0;
    for (unsigned i = 0; i < EVTCHN_HOST_PORTS; i++)
        used += e->host[i].used;
    for (unsigned i = 0; i < h.nr_host; i++)
        dev_hosts += snapdev_has_port(s->devs, s->nr_devs, hosts[i].guest_port);
    if (used != h.nr_host - dev_hosts)
        return bad(s, err, errlen, "the guest had %u host event channels, this domain has %u",
                   h.nr_host - dev_hosts, used);
    for (unsigned i = 0; i < h.nr_host; i++)
        if (!snapdev_has_port(s->devs, s->nr_devs, hosts[i].guest_port) &&
            (hosts[i].host_port >= EVTCHN_HOST_PORTS || !e->host[hosts[i].host_port].used ||
             e->host[hosts[i].host_port].guest_port != hosts[i].guest_port))
            return bad(s, err, errlen, "host event channel %u (guest port %u) does not match",
                       hosts[i].host_port, hosts[i].guest_port);
    for (unsigned i = 0; i < h.nr_ports; i++) {
        const struct snap_port *sp = &ports[i];
        if (sp->port >= EVTCHN_NR_PORTS || sp->state > ECS_IPI ||
            sp->notify_vcpu >= s->dom.nr_vcpus || sp->last_vcpu >= s->dom.nr_vcpus ||
            sp->priority >= EVTCHN_FIFO_MAX_QUEUES || sp->last_priority >= EVTCHN_FIFO_MAX_QUEUES ||
            (sp->state == ECS_INTERDOMAIN && (sp->a >= EVTCHN_NR_PORTS ||
                                              sp->b >= EVTCHN_HOST_PORTS)) ||
            (sp->state == ECS_VIRQ && sp->a >= NR_VIRQS))
            return bad(s, err, errlen, "corrupt: event channel %u", sp->port);
    }
    memset(e->ports, 0, sizeof(e->ports));
    for (unsigned p = 1; h.fifo && p < EVTCHN_NR_PORTS; p++)
        e->ports[p].priority = EVTCHN_FIFO_PRIORITY_DEFAULT;   /* as init_control left them */
    for (unsigned i = 0; i < h.nr_ports; i++) {
        const struct snap_port *sp = &ports[i];
        struct evtchn *c = &e->ports[sp->port];
        *c = (struct evtchn){ .state = sp->state, .priority = sp->priority,
            .last_priority = sp->last_priority, .last_vcpu = sp->last_vcpu,
            .fifo_pending = sp->fifo_pending, .notify_vcpu = sp->notify_vcpu };
        if (c->state == ECS_UNBOUND)
            c->u.unbound.remote_dom = (domid_t)sp->a;
        else if (c->state == ECS_INTERDOMAIN)
            c->u.inter = (typeof(c->u.inter)){ sp->a, sp->b };
        else if (c->state == ECS_VIRQ)
            c->u.virq = sp->a;
        /* a device's port waits, unbound to dom 0, for its backend to bind it */
        if (snapdev_has_port(s->devs, s->nr_devs, sp->port)) {
            if (c->state != ECS_INTERDOMAIN || sp->b <= 0)
                return bad(s, err, errlen, "corrupt: device event channel %u is not bound to "
                           "its backend", sp->port);
            c->state = ECS_UNBOUND;
            c->u.unbound.remote_dom = 0;
        }
    }
    memcpy(e->virq_port, hosts + h.nr_host, sizeof(e->virq_port));
    if (h.fifo) {
        struct evtchn_fifo_saved f;
        memcpy(&f, (const uint8_t *)(hosts + h.nr_host) + sizeof(e->virq_port), sizeof(f));
        if (evtchn_fifo_import(e, &f) < 0)
            return bad(s, err, errlen, "corrupt: FIFO event channel pages outside guest RAM");
    }
    return 0;
}

static int apply_gnttab(struct snapshot_restore *s, char *err, size_t errlen)
{
    struct gnttab *gt = &s->d->gt;
    const uint8_t *p = s->gnttab;
    uint32_t head[2];
    if (s->gnttab_len < sizeof(head))
        return bad(s, err, errlen, "corrupt: GNTTAB record too short");
    memcpy(head, p, sizeof(head));
    if (head[0] < 1 || head[0] > GNTTAB_MAX_FRAMES ||
        s->gnttab_len != sizeof(head) + head[0] * (8 + PAGE_SIZE))
        return bad(s, err, errlen, "corrupt: GNTTAB record with %u frames", head[0]);
    p += sizeof(head);
    for (unsigned i = 0; i < head[0]; i++, p += 8 + PAGE_SIZE) {
        uint64_t gfn;
        memcpy(&gfn, p, 8);
        uint8_t *page = gt->frame[i];
        if (gfn != ~0ull) {
            page = gfn < (1ull << 40) ? domain_xen_page_at(s->d, gfn) : NULL;
            if (!page || gnttab_place_frame(gt, i, gfn, page) < 0)
                return bad(s, err, errlen, "grant frame %u cannot go to gfn %#llx", i,
                           (unsigned long long)gfn);
        }
        memcpy(page, p + 8, PAGE_SIZE);
    }
    gt->nr_frames = head[0];
    return 0;
}

static int apply_vcpu(struct snapshot_restore *s, unsigned i, char *err, size_t errlen)
{
    struct domain *d = s->d;
    struct xvcpu *xv = &d->xv[i];
    struct snap_vcpu v;
    memcpy(&v, s->vcpu[i], sizeof(v));
    if (v.vi_gpa != ~0ull) {
        struct vcpu_info *vi = vm_gpa_is_ram(&d->vm, v.vi_gpa) ?
            (struct vcpu_info *)vm_gpa(&d->vm, v.vi_gpa, sizeof(*vi)) : NULL;
        if (!vi)
            return bad(s, err, errlen, "vCPU %u: vcpu_info at %#llx is not in RAM", i,
                       (unsigned long long)v.vi_gpa);
        xv->vi = vi;
        xv->vi_gpa = v.vi_gpa;
    }
    xv->upcall_vector = v.upcall_vector;
    atomic_store(&xv->up, v.up);
    atomic_store(&xv->down, (s->sched.down >> i & 1) != 0);
    xv->initialised = v.initialised;
    xv->v->lvt0_borrowed = v.lvt0_borrowed;
    xv->v->lvt0_saved = v.lvt0_saved;
    struct vcpu_state st = {
        .regs = v.regs, .sregs = v.sregs, .lapic = v.lapic, .mp = v.mp, .events = v.events,
        .debug = v.debug, .xcrs = v.xcrs, .nmsrs = v.nmsrs, .xsave_size = v.xsave_size,
        .xsave = s->vcpu[i] + sizeof(v),
    };
    memcpy(st.msrs, v.msrs, sizeof(st.msrs));
    if (v.lvt0_borrowed)
        xv->v->run->request_interrupt_window = 1;   /* extint.c gives LVT0 back */
    const char *what = "";
    int rc = vcpu_state_set(xv->v, &st, &what);
    if (rc < 0)
        return bad(s, err, errlen, "vCPU %u: %s: %s", i, what, strerror(-rc));
    if (vcpu_set_singleshot(xv, v.timer_deadline) < 0 || vcpu_set_periodic(xv, v.periodic_ns) < 0)
        return bad(s, err, errlen, "vCPU %u: timers: %s", i, strerror(errno));
    return 0;
}

int snapshot_restore_apply(struct snapshot_restore *s, char *err, size_t errlen)
{
    struct domain *d = s->d;
    const struct snap_domain *sd = &s->dom;
    /* Placement first: shared_info, then what lives in it or beside it. */
    if (sd->shinfo_gfn != ~0ull &&
        (sd->shinfo_gfn >= (1ull << 40) || domain_map_shared_info(d, sd->shinfo_gfn) < 0))
        return bad(s, err, errlen, "shared_info cannot go to gfn %#llx",
                   (unsigned long long)sd->shinfo_gfn);
    pthread_mutex_lock(&d->lock);
    memcpy(d->shinfo, s->pages, PAGE_SIZE);
    memcpy(d->special, s->pages + PAGE_SIZE, SPECIAL_NR_PAGES * PAGE_SIZE);
    d->nr_e820 = sd->nr_e820;
    for (unsigned i = 0; i < sd->nr_e820; i++)
        d->e820[i] = (struct e820entry){ sd->e820[i].addr, sd->e820[i].size, sd->e820[i].type };
    /* The event channel params name the host ports made again here (checked
     * against the saved ones by apply_evtchn). */
    uint64_t store = d->params[HVM_PARAM_STORE_EVTCHN], con = d->params[HVM_PARAM_CONSOLE_EVTCHN];
    memcpy(d->params, sd->params, sizeof(d->params));
    int rc = 0;
    if (store != d->params[HVM_PARAM_STORE_EVTCHN] || con != d->params[HVM_PARAM_CONSOLE_EVTCHN])
        rc = bad(s, err, errlen, "the saved console/xenstore ports (%llu, %llu) differ from "
                 "this domain's (%llu, %llu)",
                 (unsigned long long)d->params[HVM_PARAM_CONSOLE_EVTCHN],
                 (unsigned long long)d->params[HVM_PARAM_STORE_EVTCHN],
                 (unsigned long long)con, (unsigned long long)store);
    d->unmapped_pages = sd->unmapped_pages;
    atomic_store(&d->callback_vector, (uint8_t)sd->callback_vector);
    if (!rc)
        rc = apply_evtchn(s, err, errlen);
    if (!rc)
        rc = apply_gnttab(s, err, errlen);
    pthread_mutex_unlock(&d->lock);
    for (unsigned i = 0; !rc && i < sd->nr_vcpus; i++)
        rc = apply_vcpu(s, i, err, errlen);
    if (rc)
        return -1;
    /* pvclock records for this TSC (a changed version tells the guest). */
    pthread_mutex_lock(&d->lock);
    for (unsigned i = 0; i < sd->nr_vcpus; i++)
        if (d->xv[i].vi)
            domain_update_vcpu_time(d, &d->xv[i]);
    pthread_mutex_unlock(&d->lock);
    /* Wall clock: system time went on from the save, the world did not stop. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - (int64_t)sd->system_time;
    d->wall0 = (struct timespec){ ns / 1000000000, ns % 1000000000 };
    pthread_mutex_lock(&d->lock);
    domain_update_wallclock(d);
    for (int i = 0; i < 2; i++)
        if (sd->watchdog_ns[i]) {
            struct itimerspec its = { .it_value = { sd->watchdog_ns[i] / 1000000000,
                                                    sd->watchdog_ns[i] % 1000000000 } };
            d->watchdog_used[i] = timerfd_settime(d->watchdog_fd[i], 0, &its, NULL) == 0;
        }
    pthread_mutex_unlock(&d->lock);
    return 0;
}

const void *snapshot_restore_xenstore(struct snapshot_restore *s, uint64_t *len)
{
    *len = s->xenstore_len;
    return s->xenstore;
}

const struct dev_saved *snapshot_restore_devices(struct snapshot_restore *s, unsigned *n,
                                                 unsigned *visible_domid)
{
    *n = s->nr_devs;
    *visible_domid = s->visible_domid;
    return s->devs;
}

const void *snapshot_restore_device_data(struct snapshot_restore *s, uint64_t *len)
{
    *len = s->dev_data_len;
    return s->dev_data;
}

uint32_t snapshot_restore_old_domid(struct snapshot_restore *s)
{
    return s->dom.domid;
}

void snapshot_restore_vcpu_ctl(struct snapshot_restore *s, struct vcpu_ctl *c)
{
    if (s->vcpu_sched)
        snapvcpu_apply_ctl(&s->sched, c);
}

void snapshot_restore_free(struct snapshot_restore *s)
{
    if (!s)
        return;
    for (int i = 0; i < VM_MAX_VCPUS; i++)
        free(s->vcpu[i]);
    free(s->evtchn);
    free(s->gnttab);
    free(s->xenstore);
    free(s->devices);
    free(s->dev_data);
    free(s->vcpu_sched);
    free(s);
}
