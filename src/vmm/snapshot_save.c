/* Writing a domain's save file (docs/save-restore.md). The caller has
 * quiesced the vCPUs; the domain lock keeps the I/O thread's hosts (timers,
 * the xenstore relay) off the Xen state while it is read. */
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
#include <zstd.h>

__attribute__((format(printf, 3, 4)))
static int failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* What cannot be carried: refused before anything is written. Grants mapped
 * by a backend are checked here only without devices (theirs are known once
 * they are drained: snapshot_put_state). */
static int check_supported(struct domain *d, bool devices, char *err, size_t errlen)
{
    if (!devices && snapdev_check_grants(d, NULL, 0, err, errlen) < 0)
        return -1;
    if (d->vm.nr_vcpus > XEN_LEGACY_MAX_VCPUS)
        return failf(err, errlen, "more than %d vCPUs", XEN_LEGACY_MAX_VCPUS);
    return 0;
}

static void put_domain(struct snap_writer *w, struct domain *d, uint64_t guest_tsc)
{
    struct snap_domain s = {
        .nr_vcpus = d->vm.nr_vcpus, .domid = d->domid,
        .memory_mib = d->vm.ram_size >> 20, .ram_size = d->vm.ram_size,
        .tsc0 = d->tsc0, .tsc_mul = d->tsc_mul, .tsc_shift = d->tsc_shift,
        .tsc_khz = d->vm.tsc_khz, .callback_vector = atomic_load(&d->callback_vector),
        .guest_tsc = guest_tsc, .shinfo_gfn = d->shinfo_gfn,
        .unmapped_pages = d->unmapped_pages, .nr_e820 = d->nr_e820,
    };
    /* System time at the stop, from the same TSC reading the vCPUs keep. */
    uint64_t delta = guest_tsc - d->tsc0;
    delta = d->tsc_shift >= 0 ? delta << d->tsc_shift : delta >> -d->tsc_shift;
    s.system_time = (uint64_t)(((unsigned __int128)delta * d->tsc_mul) >> 32);
    memcpy(s.uuid, d->uuid, 16);
    for (int i = 0; i < d->nr_e820 && i < 8; i++)
        s.e820[i] = (typeof(s.e820[0])){ d->e820[i].addr, d->e820[i].size, d->e820[i].type, 0 };
    memcpy(s.params, d->params, sizeof(s.params));
    for (int i = 0; i < 2; i++) {
        struct itimerspec its;
        if (d->watchdog_used[i] && timerfd_gettime(d->watchdog_fd[i], &its) == 0)
            s.watchdog_ns[i] = its.it_value.tv_sec * 1000000000ull + its.it_value.tv_nsec + 1;
    }
    snap_put(w, SNAP_REC_DOMAIN, &s, sizeof(s));
}

static int put_vcpus(struct snap_writer *w, struct domain *d, char *err, size_t errlen)
{
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct xvcpu *xv = &d->xv[i];
        struct vcpu_state st;
        const char *what = "";
        int rc = vcpu_state_get(xv->v, &st, &what);
        if (rc < 0) {
            vcpu_state_free(&st);
            return failf(err, errlen, "vcpu %d: %s: %s", i, what, strerror(-rc));
        }
        struct snap_vcpu s = {
            .id = i, .up = atomic_load(&xv->up), .initialised = xv->initialised,
            .upcall_vector = xv->upcall_vector, .lvt0_borrowed = xv->v->lvt0_borrowed,
            .lvt0_saved = xv->v->lvt0_saved, .xsave_size = st.xsave_size,
            .vi_gpa = xv->vi_gpa, .timer_deadline = xv->timer_deadline,
            .periodic_ns = xv->periodic_ns,
            .regs = st.regs, .sregs = st.sregs, .lapic = st.lapic, .mp = st.mp,
            .events = st.events, .debug = st.debug, .xcrs = st.xcrs, .nmsrs = st.nmsrs,
        };
        memcpy(s.msrs, st.msrs, sizeof(s.msrs));
        const void *parts[2] = { &s, st.xsave };
        size_t lens[2] = { sizeof(s), st.xsave_size };
        snap_putv(w, SNAP_REC_VCPU, parts, lens, 2);
        vcpu_state_free(&st);
    }
    return 0;
}

static uint64_t gpa_of(void *opaque, const void *p)
{
    return vm_host_to_gpa(opaque, p);
}

static int put_evtchn(struct snap_writer *w, struct domain *d)
{
    struct evtchn_domain *e = &d->ev;
    struct snap_evtchn_hdr h = { .fifo = e->fifo != NULL };
    struct evtchn_fifo_saved fifo;
    if (e->fifo && evtchn_fifo_export(e, gpa_of, &d->vm, &fifo) < 0)
        return -EINVAL;
    struct snap_port *ports = calloc(EVTCHN_NR_PORTS, sizeof(*ports));
    struct snap_host_port hosts[EVTCHN_HOST_PORTS];
    if (!ports)
        return -ENOMEM;
    for (uint32_t p = 0; p < EVTCHN_NR_PORTS; p++) {
        const struct evtchn *c = &e->ports[p];
        /* A freed FIFO port may still be a queue's tail: its last queue counts. */
        if (c->state == ECS_FREE && (!e->fifo || (!c->last_priority && !c->last_vcpu &&
                                                   c->priority == EVTCHN_FIFO_PRIORITY_DEFAULT)))
            continue;
        struct snap_port *s = &ports[h.nr_ports++];
        *s = (struct snap_port){ .port = p, .state = c->state, .priority = c->priority,
            .last_priority = c->last_priority, .last_vcpu = c->last_vcpu,
            .fifo_pending = c->fifo_pending, .notify_vcpu = c->notify_vcpu };
        if (c->state == ECS_UNBOUND)
            s->a = c->u.unbound.remote_dom;
        else if (c->state == ECS_INTERDOMAIN) {
            s->a = c->u.inter.remote_port;
            s->b = c->u.inter.host_port;
        } else if (c->state == ECS_VIRQ)
            s->a = c->u.virq;
    }
    for (uint32_t i = 0; i < EVTCHN_HOST_PORTS; i++)
        if (e->host[i].used)
            hosts[h.nr_host++] = (struct snap_host_port){ i, e->host[i].guest_port };
    const void *parts[5] = { &h, ports, hosts, e->virq_port, &fifo };
    size_t lens[5] = { sizeof(h), h.nr_ports * sizeof(*ports), h.nr_host * sizeof(*hosts),
                       sizeof(e->virq_port), sizeof(fifo) };
    snap_putv(w, SNAP_REC_EVTCHN, parts, lens, h.fifo ? 5 : 4);
    free(ports);
    return 0;
}

static void put_gnttab(struct snap_writer *w, struct domain *d)
{
    struct gnttab *gt = &d->gt;
    uint32_t head[2] = { gt->nr_frames, 0 };
    const void *parts[1 + 2 * GNTTAB_MAX_FRAMES];
    size_t lens[1 + 2 * GNTTAB_MAX_FRAMES];
    int n = 0;
    parts[n] = head;
    lens[n++] = sizeof(head);
    for (unsigned i = 0; i < gt->nr_frames; i++) {
        parts[n] = &gt->gfn[i];
        lens[n++] = sizeof(gt->gfn[i]);
        parts[n] = gt->frame[i];
        lens[n++] = PAGE_SIZE;
    }
    snap_putv(w, SNAP_REC_GNTTAB, parts, lens, n);
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (size_t i = 0; i < PAGE_SIZE / 8; i++)
        if (q[i])
            return false;
    return true;
}

/* RAM: present frames that hold anything, SNAP_RAM_CHUNK pages a record,
 * compressed with zstd; frames the guest handed back are listed apart. */
struct ram_out {
    struct snap_writer *w;
    uint64_t gfns[SNAP_RAM_CHUNK];
    uint8_t *pages, *zbuf;
    size_t zcap;
    uint32_t count;
    ZSTD_CCtx *cctx;
    int error;
};

static void ram_flush(struct ram_out *o)
{
    if (!o->count || o->error)
        return;
    size_t z = ZSTD_compressCCtx(o->cctx, o->zbuf, o->zcap, o->pages, o->count * PAGE_SIZE, 1);
    if (ZSTD_isError(z)) {
        o->error = EIO;
        return;
    }
    struct snap_ram h = { .count = o->count };
    const void *parts[3] = { &h, o->gfns, o->zbuf };
    size_t lens[3] = { sizeof(h), o->count * sizeof(uint64_t), z };
    snap_putv(o->w, SNAP_REC_RAM, parts, lens, 3);
    o->count = 0;
}

int64_t snapshot_put_ram(struct snap_writer *w, struct domain *d, uint64_t *const *dirty,
                         bool absent_list, char *err, size_t errlen)
{
    struct ram_out o = { .w = w, .zcap = ZSTD_compressBound(SNAP_RAM_CHUNK * PAGE_SIZE) };
    o.pages = malloc(SNAP_RAM_CHUNK * PAGE_SIZE);
    o.zbuf = malloc(o.zcap);
    o.cctx = ZSTD_createCCtx();
    size_t nabsent = 0, cap = 0;
    uint64_t *absent = NULL;
    int64_t sent = 0;
    if (!o.pages || !o.zbuf || !o.cctx)
        o.error = ENOMEM;
    const struct mem_region *ram[VM_MAX_REGIONS];
    int nram = vm_ram_regions(&d->vm, ram, VM_MAX_REGIONS);
    for (int r = 0; r < nram && !o.error; r++) {
        const struct mem_region *m = ram[r];
        uint64_t data = 0, data_end = 0;      /* the memory behind frames [data, data_end) */
        for (uint64_t i = 0; i < m->size / PAGE_SIZE && !o.error; i++) {
            uint64_t gfn = (m->gpa >> PAGE_SHIFT) + i;
            if (i >= data_end)
                data = vm_ram_data_after(&d->vm, m, i, &data_end);
            bool want = !dirty || (dirty[r][i / 64] >> (i % 64) & 1);
            if (m->absent && (m->absent[i / 64] >> (i % 64) & 1)) {
                if (!absent_list)
                    continue;
                if (nabsent == cap) {
                    uint64_t *n = realloc(absent, (cap = cap ? cap * 2 : 1024) * sizeof(*n));
                    if (!n) {
                        o.error = ENOMEM;
                        break;
                    }
                    absent = n;
                }
                absent[nabsent++] = gfn;
                continue;
            }
            const uint8_t *p = m->host + i * PAGE_SIZE;
            /* A fresh domain's memory reads zero (a frame never written has
             * no page behind it: not even read, so as not to allocate it); a
             * frame written since the last round goes whatever it holds. */
            if (!want || (!dirty && (i < data || page_is_zero(p))))
                continue;
            o.gfns[o.count] = gfn;
            memcpy(o.pages + o.count * PAGE_SIZE, p, PAGE_SIZE);
            sent++;
            if (++o.count == SNAP_RAM_CHUNK)
                ram_flush(&o);
        }
    }
    ram_flush(&o);
    for (size_t i = 0; i < nabsent && !o.error; i += SNAP_RAM_CHUNK) {
        size_t n = nabsent - i < SNAP_RAM_CHUNK ? nabsent - i : SNAP_RAM_CHUNK;
        snap_put(w, SNAP_REC_RAM_ABSENT, absent + i, n * sizeof(uint64_t));
    }
    free(absent);
    free(o.pages);
    free(o.zbuf);
    ZSTD_freeCCtx(o.cctx);
    if (!o.error && w->error)
        o.error = w->error;
    if (o.error)
        return failf(err, errlen, "guest memory: %s", strerror(o.error));
    return sent;
}

int snapshot_check(struct domain *d, bool devices, char *err, size_t errlen)
{
    pthread_mutex_lock(&d->lock);
    int rc = check_supported(d, devices, err, errlen);
    pthread_mutex_unlock(&d->lock);
    return rc;
}

/* The drained devices (after DOMAIN: a reader takes state records only
 * after it). The grants mapped now must all be their rings. */
static int put_devices(struct snap_writer *w, struct domain *d, const struct snap_devs *devs,
                       char *err, size_t errlen)
{
    if (snapdev_check_grants(d, devs ? devs->devs : NULL, devs ? devs->n : 0, err, errlen) < 0)
        return -1;
    if (!devs || (!devs->n && devs->visible_domid == d->domid))
        return 0;                 /* a file as before devices could be carried */
    size_t len;
    uint8_t *rec = snapdev_encode(devs->visible_domid, devs->devs, devs->n, &len);
    if (!rec)
        return failf(err, errlen, "out of memory");
    snap_put(w, SNAP_REC_DEVICES, rec, len);
    free(rec);
    if (devs->data_len)
        snap_put(w, SNAP_REC_DEV_DATA, devs->data, devs->data_len);
    return 0;
}

static int put_vcpu_sched(struct snap_writer *w, struct domain *d, const struct vcpu_ctl *c,
                          char *err, size_t errlen)
{
    size_t len;
    uint8_t *rec = snapvcpu_encode(d, c, &len);
    if (!rec)
        return failf(err, errlen, "out of memory");
    snap_put(w, SNAP_REC_VCPU_SCHED, rec, len);
    free(rec);
    return 0;
}

int snapshot_put_state(struct snap_writer *w, struct domain *d, uint64_t guest_tsc,
                       const void *xenstore, size_t xenstore_len, const struct snap_devs *devs,
                       const struct vcpu_ctl *vcpus, char *err, size_t errlen)
{
    if (xenstore)
        snap_put(w, SNAP_REC_XENSTORE, xenstore, xenstore_len);
    pthread_mutex_lock(&d->lock);
    put_domain(w, d, guest_tsc);
    int rc = put_devices(w, d, devs, err, errlen);
    if (!rc)
        rc = put_vcpus(w, d, err, errlen);
    if (!rc)
        rc = put_vcpu_sched(w, d, vcpus, err, errlen);
    if (!rc)
        rc = put_evtchn(w, d) < 0 ? failf(err, errlen, "event channels: a FIFO page is "
                                          "outside guest memory") : 0;
    if (!rc) {
        put_gnttab(w, d);
        const void *parts[2] = { d->shinfo, d->special };
        size_t lens[2] = { PAGE_SIZE, SPECIAL_NR_PAGES * PAGE_SIZE };
        snap_putv(w, SNAP_REC_PAGES, parts, lens, 2);
    }
    pthread_mutex_unlock(&d->lock);
    return rc;
}

int snapshot_save(struct domain *d, const char *path, const char *config,
                  const void *xenstore, size_t xenstore_len, const struct snap_devs *devs,
                  const struct vcpu_ctl *vcpus, char *err, size_t errlen)
{
    if (snapshot_check(d, devs && devs->n, err, errlen) < 0)
        return -1;
    struct snap_writer w;
    int rc;
    if ((rc = snap_create(&w, path)) < 0)
        return failf(err, errlen, "%s: %s", path, strerror(-rc));
    /* The guest TSC stops here as far as the saved domain knows. */
    uint64_t guest_tsc = vm_guest_tsc(&d->vm);
    snap_put(&w, SNAP_REC_CONFIG, config, strlen(config));
    rc = snapshot_put_state(&w, d, guest_tsc, xenstore, xenstore_len, devs, vcpus, err, errlen);
    if (!rc)
        rc = snapshot_put_ram(&w, d, NULL, true, err, errlen) < 0 ? -1 : 0;
    if (rc < 0) {
        snap_abort(&w);
        return -1;
    }
    if ((rc = snap_commit(&w)) < 0)
        return failf(err, errlen, "%s: %s", path, strerror(-rc));
    return 0;
}
