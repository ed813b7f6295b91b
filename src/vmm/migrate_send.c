/* The sending side of a live migration (migrate_send.h). A thread streams
 * the pre-copy rounds while the I/O thread goes on serving the guest; the
 * I/O thread stops the vCPUs (as a save does) and the thread writes the
 * rest; the I/O thread then waits for the verdict without blocking. */
#include "vmm/migrate_send.h"
#include "vmm/save_request.h"
#include "vmm/snapshot_state.h"
#include "vmm/snapshot_devices.h"
#include "vmm/vcpu_ctl.h"
#include "backend/devices.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "xen/domain.h"
#include "xen/evtchn_fifo.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

/* Pre-copy ends when a round finds this few frames dirty, or after
 * MAX_ROUNDS rounds (a guest dirtying memory faster than it is sent). The
 * second round always runs: the first one's writes go while the guest runs. */
#define STOP_PAGES 64
#define MAX_ROUNDS 30

enum phase { PRECOPY, FINAL, VERDICT };

struct migration {
    struct domain *d;
    struct domain_devices *devs;
    struct snap_devs sd;           /* the drained devices' state */
    bool drained;
    struct xs_relay *relay;
    const char *xenstore;
    const struct vcpu_ctl *vcpus;  /* the I/O thread's; NULL: none */
    struct vcpu_ctl vcpus_stop;    /* a copy taken at the stop, for the sender */
    void (*ended)(void *);
    void *opaque;
    int fd, efd;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool go_final, abort_final, held, stopped, was_paused;
    enum phase phase;
    struct snap_writer w;
    uint64_t *dirty[VM_MAX_REGIONS];
    int nram;
    uint64_t tsc_stop;
    uint8_t *xs;
    size_t xs_len;
    struct timespec t0, t_stop;    /* t_stop: the pause (the guest's last instruction) */
    struct json_object *rounds;    /* [{pages, bytes, ms}] */
    /* The stop-and-copy's parts (µs), for --debug: the vCPUs parked, the
     * guest's xenstore requests answered, the devices drained, the last
     * dirty frames, the state records and END. */
    long long us_quiesce, us_xenstore, us_devices, us_pages, us_state;
    char err[512];
    bool failed;
};

static struct migration *current;   /* one at a time (I/O thread only) */

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static long long us_since(struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long us = (t.tv_sec - t0->tv_sec) * 1000000ll + (t.tv_nsec - t0->tv_nsec) / 1000;
    *t0 = t;                     /* the next part starts here */
    return us;
}

static void clear_dirty(struct migration *m)
{
    const struct mem_region *ram[VM_MAX_REGIONS];
    vm_ram_regions(&m->d->vm, ram, VM_MAX_REGIONS);
    for (int r = 0; r < m->nram; r++)
        memset(m->dirty[r], 0, ((ram[r]->size >> PAGE_SHIFT) + 63) / 64 * 8);
}

static void add_round(struct migration *m, int64_t pages, uint64_t bytes, long ms)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "pages", json_object_new_int64(pages));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)bytes));
    json_object_object_add(o, "ms", json_object_new_int64(ms));
    json_object_array_add(m->rounds, o);
}

/* One round: the frames in m->dirty (NULL: all of them). */
static int send_round(struct migration *m, bool all, bool final)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t before = m->w.bytes;
    int64_t n = snapshot_put_ram(&m->w, m->d, all ? NULL : m->dirty, final, m->err,
                                 sizeof(m->err));
    if (n < 0)
        return -1;
    if (!final)
        fflush(m->w.f);
    if (m->w.error) {
        snprintf(m->err, sizeof(m->err), "the migration stream: %s", strerror(m->w.error));
        return -1;
    }
    add_round(m, n, m->w.bytes - before, ms_since(&t));
    return 0;
}

static void post(struct migration *m)
{
    uint64_t one = 1;
    if (write(m->efd, &one, sizeof(one)) < 0) { /* a counter: cannot fill */ }
}

static int precopy(struct migration *m)
{
    int rc = vm_dirty_log_start(&m->d->vm);
    if (rc < 0) {
        snprintf(m->err, sizeof(m->err), "KVM dirty-page logging: %s", strerror(-rc));
        return -1;
    }
    if (send_round(m, true, false) < 0)
        return -1;
    for (int round = 2; round <= MAX_ROUNDS; round++) {
        clear_dirty(m);
        int64_t n = vm_dirty_log_collect(&m->d->vm, m->dirty);
        if (n < 0) {
            snprintf(m->err, sizeof(m->err), "KVM_GET_DIRTY_LOG: %s", strerror((int)-n));
            return -1;
        }
        /* Few enough: they go in the stop-and-copy (the bitmap is kept). */
        if (round > 2 && n <= STOP_PAGES)
            return 0;
        if (send_round(m, false, false) < 0)
            return -1;
    }
    clear_dirty(m);
    return 0;
}

/* The frames xenkvm keeps a pointer into for longer than a hypercall: each
 * vcpu_info and the FIFO event pages. Sent again in the stop-and-copy. */
static uint64_t gpa_of(void *vm, const void *p)
{
    return vm_host_to_gpa(vm, p);
}

static void mark_kept_pages(struct migration *m)
{
    struct domain *d = m->d;
    pthread_mutex_lock(&d->lock);
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        if (d->xv[i].vi_gpa != ~0ull)
            vm_mark_dirty(&d->vm, d->xv[i].vi_gpa, sizeof(struct vcpu_info));
    struct evtchn_fifo_saved f;
    if (d->ev.fifo && evtchn_fifo_export(&d->ev, gpa_of, &d->vm, &f) == 0) {
        for (uint32_t i = 0; i < f.nr_array && i < EVTCHN_FIFO_MAX_ARRAY_PAGES; i++)
            vm_mark_dirty(&d->vm, f.array_gfn[i] << PAGE_SHIFT, PAGE_SIZE);
        for (int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
            if (f.cb_gpa[i] != ~0ull)
                vm_mark_dirty(&d->vm, f.cb_gpa[i], 1);
    }
    /* Pages a backend still maps writable (the drained devices' rings): it
     * wrote responses into them after they were sent. */
    for (unsigned i = 0; i < GNTTAB_MAX_ENTRIES; i++)
        if (d->gt.pin_rw[i])
            vm_mark_dirty(&d->vm, d->gt.pin_frame[i] << PAGE_SHIFT, PAGE_SIZE);
    pthread_mutex_unlock(&d->lock);
}

static int final_copy(struct migration *m)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    mark_kept_pages(m);
    int64_t n = vm_dirty_log_collect(&m->d->vm, m->dirty);
    if (n < 0) {
        snprintf(m->err, sizeof(m->err), "KVM_GET_DIRTY_LOG: %s", strerror((int)-n));
        return -1;
    }
    if (send_round(m, false, true) < 0)
        return -1;
    m->us_pages = us_since(&t);
    if (snapshot_put_state(&m->w, m->d, m->tsc_stop, m->xs, m->xs_len, &m->sd,
                           m->vcpus ? &m->vcpus_stop : NULL, m->err, sizeof(m->err)) < 0)
        return -1;
    int rc = snap_stream_end(&m->w);
    if (rc < 0) {
        snprintf(m->err, sizeof(m->err), "the migration stream: %s", strerror(-rc));
        return -1;
    }
    m->us_state = us_since(&t);
    return 0;
}

static void *sender(void *arg)
{
    struct migration *m = arg;
    /* A closed connection is an error to report, not a signal to die of. */
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL);
    m->failed = precopy(m) < 0;
    post(m);
    pthread_mutex_lock(&m->lock);
    while (!m->go_final && !m->abort_final)
        pthread_cond_wait(&m->cond, &m->lock);
    bool go = m->go_final && !m->failed;
    pthread_mutex_unlock(&m->lock);
    if (go && final_copy(m) < 0)
        m->failed = true;
    post(m);
    return NULL;
}

static void release(struct migration *m)
{
    vm_dirty_log_stop(&m->d->vm);
    domain_unwatch_fd(m->d, m->fd);
    domain_unwatch_fd(m->d, m->efd);
    if (m->w.f)
        fclose(m->w.f);
    close(m->fd);
    close(m->efd);
    for (int r = 0; r < m->nram; r++)
        free(m->dirty[r]);
    free(m->xs);
    free((void *)m->sd.devs);
    free((void *)m->sd.data);
    json_object_put(m->rounds);
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    if (current == m)
        current = NULL;
    free(m);
}

/* The domain runs on here (unless it was paused before). */
static void resume(struct migration *m, const char *why)
{
    struct domain *d = m->d;
    if (m->stopped) {
        if (!m->was_paused) {
            pthread_mutex_lock(&d->lock);
            domain_time_skip(d, m->tsc_stop);
            pthread_mutex_unlock(&d->lock);
        }
        if (m->drained)
            devices_resume(m->devs);
        domain_unquiesce(d);
        if (!m->was_paused)
            vm_unpause(&d->vm);
    }
    log_warn("domain %u: migration failed: %s; the domain goes on", d->domid, why);
    release(m);
}

static void verdict(void *opaque)
{
    struct migration *m = opaque;
    struct json_object *req = jl_recv(m->fd, 1000);
    const char *op = req ? jl_str(req, "op", "") : NULL;
    if (op && !strcmp(op, "hold")) {
        m->held = true;
        json_object_put(req);
        return;
    }
    if (op && !strcmp(op, "end")) {
        json_object_put(req);
        struct json_object *ok = jl_ok();
        jl_send(m->fd, ok);
        json_object_put(ok);
        log_info("domain %u: migrated in %ld ms (stopped for the last %ld ms); the domain "
                 "ends here", m->d->domid, ms_since(&m->t0), ms_since(&m->t_stop));
        void (*ended)(void *) = m->ended;
        void *o = m->opaque;
        domain_unquiesce(m->d);     /* stays paused: vm_pause holds it */
        release(m);
        ended(o);
        return;
    }
    if (!op && m->held) {
        /* The destination may be running the guest: two copies would be
         * worse than a stopped one. */
        log_err("domain %u: the migration's connection was lost after the destination was "
                "told to start: the domain stays paused here (check the destination)",
                m->d->domid);
        /* its devices serve it again should it be unpaused here */
        if (m->drained)
            devices_resume(m->devs);
        m->stopped = false;
        domain_unquiesce(m->d);
        release(m);
        return;
    }
    if (op) {
        struct json_object *ok = jl_ok();
        jl_send(m->fd, ok);
        json_object_put(ok);
    }
    json_object_put(req);
    resume(m, op ? "the destination did not take the domain" : "the connection was lost");
}

/* The I/O thread's side: the sender thread posted the end of a phase. */
static void phase_done(void *opaque)
{
    struct migration *m = opaque;
    uint64_t v;
    if (read(m->efd, &v, sizeof(v)) < 0)
        return;
    struct domain *d = m->d;
    if (m->phase == PRECOPY) {
        clock_gettime(CLOCK_MONOTONIC, &m->t_stop);
        struct timespec t = m->t_stop;
        int rc = m->failed ? -1 : domain_quiesce(d, QUIESCE_TIMEOUT_MS);
        if (rc < 0 && !m->failed)
            snprintf(m->err, sizeof(m->err), "cannot stop the vCPUs: %s",
                     rc == -ESRCH ? "the domain is shutting down" : strerror(-rc));
        m->stopped = rc == 0;
        m->us_quiesce = us_since(&t);
        m->tsc_stop = vm_guest_tsc(&d->vm);
        if (!rc && m->xenstore && m->relay &&
            !(m->xs = save_xenstore_part(d, m->relay, m->xenstore, &m->xs_len, m->err,
                                         sizeof(m->err))))
            rc = -1;
        m->us_xenstore = us_since(&t);
        if (!rc && save_devices_part(d, m->devs, m->relay, &m->sd, m->err, sizeof(m->err)) < 0)
            rc = -1;
        m->us_devices = us_since(&t);
        m->drained = !rc && m->devs;
        if (m->vcpus)
            m->vcpus_stop = *m->vcpus;
        pthread_mutex_lock(&m->lock);
        m->go_final = rc == 0;
        m->abort_final = rc != 0;
        m->failed |= rc != 0;
        m->phase = FINAL;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        return;
    }
    if (m->phase != FINAL)
        return;
    pthread_join(m->thread, NULL);
    m->phase = VERDICT;
    if (m->failed) {
        resume(m, m->err);
        return;
    }
    struct json_object *st = jl_ok();
    json_object_object_add(st, "rounds", json_object_get(m->rounds));
    json_object_object_add(st, "downtime_ms", json_object_new_int64(ms_since(&m->t_stop)));
    json_object_object_add(st, "bytes", json_object_new_int64((int64_t)m->w.bytes));
    struct json_object *parts = json_object_new_object();
    json_object_object_add(parts, "quiesce", json_object_new_int64(m->us_quiesce));
    json_object_object_add(parts, "xenstore", json_object_new_int64(m->us_xenstore));
    json_object_object_add(parts, "devices", json_object_new_int64(m->us_devices));
    json_object_object_add(parts, "pages", json_object_new_int64(m->us_pages));
    json_object_object_add(parts, "state", json_object_new_int64(m->us_state));
    json_object_object_add(st, "stop_us", parts);
    int rc = jl_send(m->fd, st);
    json_object_put(st);
    domain_unwatch_fd(d, m->efd);
    if (rc < 0 || domain_watch_fd(d, m->fd, verdict, m) < 0)
        resume(m, "the connection was lost");
}

static void refuse(int fd, struct json_object *e)
{
    jl_send(fd, e);
    json_object_put(e);
    close(fd);
}

void migrate_send_request(struct domain *d, struct domain_devices *devs, struct xs_relay *relay,
                          const char *xenstore, const struct vcpu_ctl *vcpus,
                          struct json_object *req, int fd, void (*ended)(void *opaque),
                          void *opaque)
{
    struct json_object *cfg;
    char err[512];
    if (current)
        return refuse(fd, jl_error("domain %u is being migrated already", d->domid));
    if (!json_object_object_get_ex(req, "config", &cfg) ||
        !json_object_is_type(cfg, json_type_object))
        return refuse(fd, jl_error("migrate: no domain config"));
    if (devs && devices_check_saveable(devs, err, sizeof(err)) < 0)
        return refuse(fd, jl_error("domain %u cannot be migrated: %s", d->domid, err));
    struct device_info di[1];
    if (snapshot_check(d, devs && devices_list(devs, di, 1) > 0, err, sizeof(err)) < 0)
        return refuse(fd, jl_error("%s", err));
    struct migration *m = calloc(1, sizeof(*m));
    if (!m)
        return refuse(fd, jl_error("out of memory"));
    *m = (struct migration){ .d = d, .devs = devs, .relay = relay, .xenstore = xenstore,
                             .vcpus = vcpus, .ended = ended,
                             .opaque = opaque, .fd = fd, .rounds = json_object_new_array(),
                             .was_paused = vm_is_paused(&d->vm) };
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    clock_gettime(CLOCK_MONOTONIC, &m->t0);
    const struct mem_region *ram[VM_MAX_REGIONS];
    m->nram = vm_ram_regions(&d->vm, ram, VM_MAX_REGIONS);
    bool ok = true;
    for (int r = 0; r < m->nram; r++)
        ok &= (m->dirty[r] = vm_frames_alloc(ram[r]->size)) != NULL;
    m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int rc = ok && m->efd >= 0 ? snap_stream(&m->w, fd) : -ENOMEM;
    if (rc < 0) {
        struct json_object *e = jl_error("migrate: %s", strerror(-rc));
        jl_send(fd, e);
        json_object_put(e);
        if (m->efd < 0)
            m->efd = eventfd(0, EFD_CLOEXEC);
        release(m);
        return;
    }
    /* The reply goes before the stream's header (still in the FILE buffer). */
    struct json_object *rep = jl_ok();
    rc = jl_send(fd, rep);
    json_object_put(rep);
    const char *text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
    snap_put(&m->w, SNAP_REC_CONFIG, text, strlen(text));
    current = m;
    if (rc < 0 || domain_watch_fd(d, m->efd, phase_done, m) < 0 ||
        pthread_create(&m->thread, NULL, sender, m) != 0) {
        log_warn("domain %u: migration not started", d->domid);
        release(m);
        return;
    }
    log_info("domain %u: migration started", d->domid);
}
