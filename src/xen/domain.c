/* Domain construction and life: Xen's CPUID leaves, the hypercall MSR, shared
 * info, vCPU bring-up, the I/O thread, shutdown. */
#include "xen/domain.h"
#include "xen/acpi.h"
#include "boot/loader.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/sched.h>

#define EFER_LMA (1ull << 10)

/* One record per fd ever watched, owned by the domain: kept after unwatch so
 * that the I/O thread never sees a freed record, reused when the fd is watched
 * again, freed with the domain. */
struct fd_watch {
    int fd;
    void (*fn)(void *opaque);
    void *opaque;
    struct fd_watch *next;
};

static void uuid_generate_v4(uint8_t u[16])
{
    if (getrandom(u, 16, 0) != 16)
        memset(u, 0, 16);
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
}

/* ---- event-channel callbacks ---- */

static struct shared_info *cb_shared_info(void *opaque)
{
    return ((struct domain *)opaque)->shinfo;
}

static struct vcpu_info *cb_vcpu_info(void *opaque, unsigned vcpu)
{
    struct domain *d = opaque;
    return vcpu < (unsigned)d->vm.nr_vcpus ? d->xv[vcpu].vi : NULL;
}

static void cb_kick(void *opaque, unsigned vcpu)
{
    domain_kick_vcpu(opaque, vcpu);
}

static void cb_rekick(void *opaque, unsigned vcpu)
{
    domain_retry_upcall(opaque, vcpu);
}

/* An event for a vCPU whose evtchn_upcall_pending went 0 -> 1. Xen has two
 * ways to raise it on an HVM vCPU:
 * - the per-vCPU vector (HVMOP_set_evtchn_upcall_vector): a LAPIC interrupt,
 *   which the guest EOIs. Xen's vLAPIC keeps it in IRR until the guest can take
 *   it; KVM's refuses it while the guest's LAPIC is software-disabled (Linux
 *   registers its vector before it enables the LAPIC), so an upcall that was
 *   not taken is raised again on the vCPU's next event or hypercall;
 * - the global callback vector (HVM_PARAM_CALLBACK_IRQ, type vector): no LAPIC
 *   at all. Xen injects it on every VM entry of a vCPU whose
 *   evtchn_upcall_pending is set (hvm_vcpu_has_pending_irq), with no EOI. Here
 *   the vCPU's own thread queues it as an external interrupt before it enters
 *   the guest (domain_vcpu_entry); the kick brings it out of KVM_RUN (or HLT). */
/* Kicks asked for under domain_lock, made at domain_unlock: one set per
 * thread (a thread holds one domain's lock at a time). */
static __thread struct {
    struct domain *d;
    uint32_t vcpus;               /* VM_MAX_VCPUS bits */
} deferred;

void domain_lock(struct domain *d)
{
    pthread_mutex_lock(&d->lock);
    deferred.d = d;
}

static void kick_now(struct domain *d, unsigned vcpu);

void domain_unlock(struct domain *d)
{
    uint32_t vcpus = deferred.vcpus;
    deferred.d = NULL;
    deferred.vcpus = 0;
    pthread_mutex_unlock(&d->lock);
    for (unsigned i = 0; vcpus; i++, vcpus >>= 1)
        if (vcpus & 1)
            kick_now(d, i);
}

void domain_kick_vcpu(struct domain *d, unsigned vcpu)
{
    if (deferred.d == d && vcpu < 32) {
        deferred.vcpus |= 1u << vcpu;
        return;
    }
    kick_now(d, vcpu);
}

static void kick_now(struct domain *d, unsigned vcpu)
{
    struct xvcpu *xv = &d->xv[vcpu];
    if (xv->upcall_vector) {
        int rc = vm_inject_vector(&d->vm, vcpu, xv->upcall_vector);
        atomic_store(&xv->upcall_undelivered, rc <= 0);
        if (rc <= 0)
            log_debug("vcpu %u: upcall vector %#x not taken (%d); will retry",
                      vcpu, xv->upcall_vector, rc);
    }
    if (atomic_load(&d->callback_vector) && !vcpu_is_self(xv->v))
        vcpu_kick(xv->v);
    /* Only a vCPU sleeping in SCHEDOP_block/poll waits on wake_fd; it sets
     * blocked before it looks at its events under the lock, so either it sees
     * this event or this sees it blocked. */
    if (atomic_load(&xv->blocked)) {
        uint64_t one = 1;
        if (write(xv->wake_fd, &one, sizeof(one)) < 0) { /* counter full: already awake */ }
    }
}

void domain_retry_upcall(struct domain *d, unsigned vcpu)
{
    struct xvcpu *xv = &d->xv[vcpu];
    if (atomic_load(&xv->upcall_undelivered) && xv->vi &&
        __atomic_load_n(&xv->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
        domain_kick_vcpu(d, vcpu);
}

void domain_vcpu_entry(struct domain *d, unsigned vcpu)
{
    struct xvcpu *xv = &d->xv[vcpu];
    domain_retry_upcall(d, vcpu);
    uint8_t vec = atomic_load(&d->callback_vector);
    if (vec && xv->vi && __atomic_load_n(&xv->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST)) {
        int rc = vcpu_queue_extint(xv->v, vec);
        if (rc < 0 && rc != -EEXIST)
            log_warn("vcpu %u: callback vector %#x: %s", vcpu, vec, strerror(-rc));
    }
}

/* Xen's evtchn_check_pollers: a vCPU in SCHEDOP_poll looks again at its
 * ports whenever one becomes pending, masked or not. */
static void cb_poll_wake(void *opaque, evtchn_port_t port)
{
    struct domain *d = opaque;
    (void)port;
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        if (atomic_load(&d->xv[i].polling)) {
            uint64_t one = 1;
            if (write(d->xv[i].wake_fd, &one, sizeof(one)) < 0) { /* already awake */ }
        }
}

static uint8_t *cb_gfn_page(void *opaque, uint64_t gfn)
{
    struct domain *d = opaque;
    if (gfn >= (1ull << 40) || !vm_gpa_is_ram(&d->vm, gfn << PAGE_SHIFT))
        return NULL;
    return vm_gpa(&d->vm, gfn << PAGE_SHIFT, PAGE_SIZE);
}

/* ---- shared_info ---- */

static void point_vcpu_infos(struct domain *d)
{
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct xvcpu *xv = &d->xv[i];
        if (xv->vi_gpa == ~0ull && i < XEN_LEGACY_MAX_VCPUS)
            xv->vi = &d->shinfo->vcpu_info[i];
    }
}

/* A gfn the guest handed back is a common place for these (Linux takes
 * ballooned pages for its grant frames): the page goes there and, as on Xen,
 * does not count as the guest's memory. */
uint8_t *domain_xen_page_at(struct domain *d, uint64_t gfn)
{
    uint64_t gpa = gfn << PAGE_SHIFT;
    uint8_t *p = vm_gpa(&d->vm, gpa, PAGE_SIZE);
    if (!p)
        p = vm_ram_frame_page(&d->vm, gfn);
    if (p)
        return p;
    /* A page mapped outside RAM keeps its memory when the guest moves the
     * Xen page elsewhere (pointers to it stay valid), so a guest moving its
     * shared_info or grant frames around for ever would grow this process
     * without bound (found by fuzz/xen/fuzz_hypercall): a domain gets
     * DOMAIN_XEN_PAGES_OUTSIDE_RAM such pages in its life, then -ENOMEM, as
     * from Xen's allocator. */
    if (atomic_fetch_add(&d->xen_pages_outside_ram, 1) >= DOMAIN_XEN_PAGES_OUTSIDE_RAM) {
        atomic_fetch_sub(&d->xen_pages_outside_ram, 1);
        return NULL;
    }
    p = vm_map_extra(&d->vm, gpa, PAGE_SIZE);
    if (!p)
        atomic_fetch_sub(&d->xen_pages_outside_ram, 1);
    return p;
}

int domain_map_shared_info(struct domain *d, uint64_t gfn)
{
    uint8_t *p = domain_xen_page_at(d, gfn);
    if (!p)
        return -ENOMEM;
    pthread_mutex_lock(&d->lock);
    /* The page's contents move with it: pending events, vcpu_info, time. */
    if (p != (uint8_t *)d->shinfo)
        memcpy(p, d->shinfo, PAGE_SIZE);
    uint64_t old = d->shinfo_gfn;
    d->shinfo = (struct shared_info *)p;
    d->shinfo_gfn = gfn;
    point_vcpu_infos(d);
    for (int i = 0; i < d->vm.nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++)
        if (d->xv[i].vi_gpa == ~0ull)
            domain_update_vcpu_time(d, &d->xv[i]);
    domain_update_wallclock(d);
    pthread_mutex_unlock(&d->lock);
    if (old != ~0ull && old != gfn && !vm_gpa_is_ram(&d->vm, old << PAGE_SHIFT))
        vm_unmap_extra(&d->vm, old << PAGE_SHIFT);
    return 0;
}

/* ---- KVM exits ---- */

static int xen_pio(struct vcpu *v, uint16_t port, bool out, uint8_t *data, int size)
{
    if (port == XENKVM_HCALL_PORT && out && size == 4)
        return hypercall_trap(v);
    /* Xen's debug port takes byte writes only (a wider access is not its). */
    if (port == XEN_HVM_DEBUGCONS_IOPORT && out && size == 1) {
        guest_log_putc(v->vm->priv, data[0]);
        return 0;
    }
    if (out && port == ACPI_SLEEP_CTL_PORT &&
        (data[0] & ACPI_SLP_EN) && ((data[0] >> 2) & 7) == ACPI_SLP_TYP_S5) {
        domain_shutdown(v->vm->priv, SHUTDOWN_poweroff);
        return 0;
    }
    if (out && port == ACPI_RESET_PORT && data[0] == ACPI_RESET_VALUE) {
        domain_shutdown(v->vm->priv, SHUTDOWN_reboot);
        return 0;
    }
    if (size == 1 && pit_io(&((struct domain *)v->vm->priv)->pit, port, out, data))
        return 0;
    if (!out)
        memset(data, 0xff, size);   /* nothing decodes other ports: floating bus */
    return 0;
}

static uint64_t monotonic_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int xen_mmio(struct vcpu *v, uint64_t gpa, bool write, uint8_t *data, int size)
{
    (void)v;
    log_debug("unclaimed MMIO %s at %#llx", write ? "write" : "read", (unsigned long long)gpa);
    if (!write)
        memset(data, 0xff, size);
    return 0;
}

static int xen_wrmsr(struct vcpu *v, uint32_t index, uint64_t value)
{
    struct domain *d = v->vm->priv;
    if (index == MSR_IA32_TSC || index == MSR_IA32_TSC_ADJUST) {
        /* System time and every vcpu_info's pvclock are computed from the
         * host's TSC, so the guest's TSC stays the host's: a write is taken
         * and has no effect, as on a CPU whose TSC cannot be written. Xen's
         * PV shim tests writability when CPUID promises no invariant TSC
         * (then finds it not writable, and does not resynchronise its CPUs'
         * TSCs); with an invariant TSC (passed through from the host) it
         * never writes. */
        static atomic_bool said;
        if (!atomic_exchange(&said, true))
            log_info("vcpu %d: guest writes of MSR %#x (the TSC) are ignored", v->id, index);
        return 0;
    }
    if (index != XEN_HYPERCALL_MSR)
        return -1;
    uint64_t page_idx = value & (PAGE_SIZE - 1), gpa = value & ~(PAGE_SIZE - 1);
    if (page_idx != 0 || !vm_gpa_is_ram(&d->vm, gpa))
        return -1;      /* one page only, into RAM: else #GP as on Xen */
    uint8_t *p = vm_gpa(&d->vm, gpa, PAGE_SIZE);
    if (!p)
        return -1;
    hypercall_page_fill(p);
    struct kvm_sregs sbuf;
    const struct kvm_sregs *s = vcpu_exit_sregs(v, &sbuf);
    if (s) {
        pthread_mutex_lock(&d->lock);
        domain_latch_shinfo_size(d, (s->efer & EFER_LMA) && s->cs.l);
        pthread_mutex_unlock(&d->lock);
    }
    return 0;
}

static int xen_rdmsr(struct vcpu *v, uint32_t index, uint64_t *value)
{
    (void)v; (void)index; (void)value;
    return -1;     /* the hypercall MSR is write-only */
}

static void xen_fatal(struct vcpu *v, enum vcpu_stop kind, const char *why)
{
    struct domain *d = v->vm->priv;
    (void)why;
    /* A triple fault ends the domain with HVM_PARAM_TRIPLE_FAULT_REASON (reboot
     * unless set otherwise), as on Xen; anything else is a crash. */
    if (kind == VCPU_STOP_TRIPLE_FAULT)
        domain_shutdown(d, (int)d->params[HVM_PARAM_TRIPLE_FAULT_REASON]);
    else
        domain_shutdown(d, SHUTDOWN_crash);
}

/* Segment attributes in Xen's vcpu_hvm_context "ar" layout -> KVM's. */
static struct kvm_segment seg_from_ctx(uint32_t base, uint32_t limit, uint16_t ar, uint16_t sel)
{
    return (struct kvm_segment){
        .base = base, .limit = limit, .selector = sel,
        .type = ar & 0xf, .s = (ar >> 4) & 1, .dpl = (ar >> 5) & 3, .present = (ar >> 7) & 1,
        .avl = (ar >> 8) & 1, .l = (ar >> 9) & 1, .db = (ar >> 10) & 1, .g = (ar >> 11) & 1,
        .unusable = !((ar >> 7) & 1),
    };
}

static int apply_hvm_context(struct xvcpu *xv)
{
    struct vcpu *v = xv->v;
    const struct vcpu_hvm_context *c = &xv->ctx;
    struct kvm_sregs s;
    struct kvm_regs r = { .rflags = 0x2 };
    if (vcpu_get_sregs(v, &s) < 0)
        return -1;
    if (c->mode == VCPU_HVM_MODE_64B) {
        const struct vcpu_hvm_x86_64 *x = &c->cpu_regs.x86_64;
        r = (struct kvm_regs){ .rax = x->rax, .rcx = x->rcx, .rdx = x->rdx, .rbx = x->rbx,
            .rsp = x->rsp, .rbp = x->rbp, .rsi = x->rsi, .rdi = x->rdi, .rip = x->rip,
            .rflags = x->rflags | 2 };
        s.cr0 = x->cr0; s.cr3 = x->cr3; s.cr4 = x->cr4; s.efer = x->efer;
        /* 64-bit mode: flat segments, long-mode code segment. */
        s.cs = seg_from_ctx(0, 0xffffffff, 0xa9b, 0x08);
        s.ds = s.es = s.ss = s.fs = s.gs = seg_from_ctx(0, 0xffffffff, 0xc93, 0x10);
    } else {
        const struct vcpu_hvm_x86_32 *x = &c->cpu_regs.x86_32;
        r = (struct kvm_regs){ .rax = x->eax, .rcx = x->ecx, .rdx = x->edx, .rbx = x->ebx,
            .rsp = x->esp, .rbp = x->ebp, .rsi = x->esi, .rdi = x->edi, .rip = x->eip,
            .rflags = x->eflags | 2 };
        s.cr0 = x->cr0; s.cr3 = x->cr3; s.cr4 = x->cr4; s.efer = x->efer;
        s.cs = seg_from_ctx(x->cs_base, x->cs_limit, x->cs_ar, 0x08);
        s.ds = s.es = s.fs = s.gs = seg_from_ctx(x->ds_base, x->ds_limit, x->ds_ar, 0x10);
        s.ss = seg_from_ctx(x->ss_base, x->ss_limit, x->ss_ar, 0x10);
        if (x->tr_ar)
            s.tr = seg_from_ctx(x->tr_base, x->tr_limit, x->tr_ar, 0);
    }
    if (!s.tr.present)
        s.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
    if (vcpu_set_sregs(v, &s) < 0 || vcpu_set_regs(v, &r) < 0 || vcpu_set_runnable(v) < 0)
        return -1;
    return 0;
}

/* Before the first run and after each kick: load a context given by
 * VCPUOP_initialise + VCPUOP_up. Secondary vCPUs otherwise enter KVM_RUN at
 * once and wait there, in KVM's INIT/SIPI state, for the guest's startup IPIs
 * (how Linux starts its CPUs); a kick brings them out for VCPUOP_up. */
/* Debug aid (XENKVM_DEBUG_DUMP_MS): one line of state per vCPU. */
static void dump_vcpu(struct vcpu *v)
{
    struct kvm_mp_state mp = { 0 };
    struct kvm_regs r = { 0 };
    struct kvm_sregs s = { 0 };
    ioctl(v->fd, KVM_GET_MP_STATE, &mp);
    vcpu_get_regs(v, &r);
    vcpu_get_sregs(v, &s);
    log_msg("debug", "vcpu %d: mp_state %u rip %#llx cs %#x cr0 %#llx rflags %#llx",
            v->id, mp.mp_state, (unsigned long long)r.rip, s.cs.selector,
            (unsigned long long)s.cr0, (unsigned long long)r.rflags);
}

/* A vCPU taken down (VCPUOP_down) waits here until VCPUOP_up or the end (every
 * end goes through domain_shutdown, which sets stopping, then broadcasts). A
 * pause meanwhile (domain_quiesce broadcasts too) parks it as any other, so
 * that a save or migration can stop a domain with a vCPU down. */
static void wait_while_down(struct domain *d, struct xvcpu *xv)
{
    if (!atomic_load(&xv->down))
        return;
    pthread_mutex_lock(&d->lock);
    while (atomic_load(&xv->down) && !atomic_load(&d->vm.stopping)) {
        if (vm_is_paused(&d->vm)) {
            pthread_mutex_unlock(&d->lock);
            vm_pause_point(&d->vm);     /* until unpaused or stopping */
            pthread_mutex_lock(&d->lock);
            continue;
        }
        pthread_cond_wait(&d->vcpu_cond, &d->lock);
    }
    pthread_mutex_unlock(&d->lock);
}

static bool xen_before_run(struct vcpu *v)
{
    struct domain *d = v->vm->priv;
    struct xvcpu *xv = &d->xv[v->id];
    if (atomic_exchange(&xv->dump, false))
        dump_vcpu(v);
    wait_while_down(d, xv);
    if (atomic_exchange(&xv->nmi_pending, false) && vcpu_inject_nmi(v) < 0)
        log_warn("vcpu %d: KVM_NMI: %s", v->id, strerror(errno));
    if (atomic_exchange(&xv->flush_tlb, false) && vcpu_flush_tlb(v) < 0)
        log_warn("vcpu %d: TLB flush: %s", v->id, strerror(errno));
    pthread_mutex_lock(&d->lock);
    bool reset = xv->reset_pending;
    xv->reset_pending = false;
    pthread_mutex_unlock(&d->lock);
    if (atomic_load(&d->vm.stopping) || !domain_vmcall_probe(d, xv))
        return false;
    if (reset && apply_hvm_context(xv) < 0) {
        log_err("vcpu %d: cannot load the VCPUOP_initialise context", v->id);
        domain_shutdown(d, SHUTDOWN_crash);
        return false;
    }
    domain_vcpu_entry(d, v->id);
    return true;
}

static const struct vm_ops xen_vm_ops = {
    .pio = xen_pio, .mmio = xen_mmio, .wrmsr = xen_wrmsr, .rdmsr = xen_rdmsr,
    .fatal = xen_fatal, .before_run = xen_before_run,
};

/* ---- I/O thread ---- */

/* Each vCPU logs its registers at its next kick (dump_vcpu, on its own thread). */
static void request_register_dumps(struct domain *d)
{
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        atomic_store(&d->xv[i].dump, true);
        vcpu_kick(&d->vm.vcpus[i]);
    }
}

static void dump_tick(void *opaque)
{
    struct domain *d = opaque;
    uint64_t n;
    if (read(d->dump_fd, &n, sizeof(n)) != sizeof(n))
        return;
    request_register_dumps(d);
}

/* Debug aid (`kill -USR2` a domain process, as Xen's debug key 'q' prints its
 * vCPUs): each vCPU's scheduling, event and time state from this thread,
 * whatever the vCPU's thread is doing, then its registers at its next kick. */
void domain_debug_dump(struct domain *d)
{
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct xvcpu *xv = &d->xv[i];
        char t[384];
        vcpu_time_debug(xv, t, sizeof(t));
        unsigned pending = 0, mask = 0;
        unsigned long sel = 0;
        if (xv->vi) {
            pending = __atomic_load_n(&xv->vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);
            mask = __atomic_load_n(&xv->vi->evtchn_upcall_mask, __ATOMIC_SEQ_CST);
            sel = __atomic_load_n(&xv->vi->evtchn_pending_sel, __ATOMIC_SEQ_CST);
        }
        struct vcpu *v = &d->vm.vcpus[i];
        uint64_t hc = 0;
        for (unsigned k = 0; k < XEN_STATS_HCALLS; k++)
            hc += stats_read(&xv->hcalls[k]);
        log_msg("dump", "vcpu %d (thread %d): in KVM_RUN %d, %u returns, last exit %u, %llu "
                "hypercalls; up %d down %d blocked %d polling %d; upcall pending %u mask %u "
                "sel %#lx vector %u undelivered %d; %s", i, atomic_load(&v->tid),
                atomic_load(&v->in_run), atomic_load(&v->exits),
                v->run ? v->run->exit_reason : 0, (unsigned long long)hc, atomic_load(&xv->up),
                atomic_load(&xv->down), atomic_load(&xv->blocked), atomic_load(&xv->polling),
                pending, mask, sel, xv->upcall_vector, atomic_load(&xv->upcall_undelivered), t);
    }
    request_register_dumps(d);
}

static void start_debug_dump(struct domain *d)
{
    const char *ms = getenv("XENKVM_DEBUG_DUMP_MS");
    long period = ms ? strtol(ms, NULL, 10) : 0;
    if (period <= 0)
        return;
    d->dump_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec its = { .it_interval = { period / 1000, (period % 1000) * 1000000 } };
    its.it_value = its.it_interval;
    if (d->dump_fd >= 0 && timerfd_settime(d->dump_fd, 0, &its, NULL) == 0)
        domain_watch_fd(d, d->dump_fd, dump_tick, d);
}

int domain_watch_fd(struct domain *d, int fd, void (*fn)(void *opaque), void *opaque)
{
    int rc = 0;
    pthread_mutex_lock(&d->watch_lock);
    struct fd_watch *w = d->watches;
    while (w && w->fd != fd)
        w = w->next;
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w) {
            rc = -ENOMEM;
            goto out;
        }
        w->fd = fd;
        w->next = d->watches;
        d->watches = w;
    }
    w->fn = fn;
    w->opaque = opaque;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        rc = -errno;
out:
    pthread_mutex_unlock(&d->watch_lock);
    return rc;
}

void domain_unwatch_fd(struct domain *d, int fd)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void *io_thread(void *arg)
{
    struct domain *d = arg;
    struct epoll_event evs[16];
    for (;;) {
        int n = epoll_wait(d->epfd, evs, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < n; i++) {
            struct fd_watch *w = evs[i].data.ptr;
            if (!w)
                return NULL;     /* stop_fd */
            w->fn(w->opaque);
        }
    }
    return NULL;
}

/* ---- life ---- */

int domain_quiesce(struct domain *d, int timeout_ms)
{
    atomic_store(&d->quiesce, true);
    vm_pause(&d->vm);
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->vcpu_cond);     /* a vCPU that is down parks too */
    pthread_mutex_unlock(&d->lock);
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        uint64_t one = 1;
        if (write(d->xv[i].wake_fd, &one, sizeof(one)) < 0) { /* already awake */ }
    }
    return vm_pause_wait(&d->vm, timeout_ms);
}

void domain_unquiesce(struct domain *d)
{
    atomic_store(&d->quiesce, false);
}

void domain_shutdown(struct domain *d, int reason)
{
    pthread_mutex_lock(&d->lock);
    /* A code recorded with SCHEDOP_shutdown_code replaces the reason, as on Xen. */
    if (d->shutdown_code != ~0u)
        reason = d->shutdown_code;
    if (d->shutdown_reason < 0)
        d->shutdown_reason = reason;
    pthread_mutex_unlock(&d->lock);
    vm_stop(&d->vm);
    pthread_mutex_lock(&d->lock);
    pthread_cond_broadcast(&d->vcpu_cond);
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        uint64_t one = 1;
        if (write(d->xv[i].wake_fd, &one, sizeof(one)) < 0) { /* already awake */ }
    }
    pthread_mutex_unlock(&d->lock);
}

int domain_trigger(struct domain *d, const char *what, unsigned vcpu)
{
    if (vcpu >= (unsigned)d->vm.nr_vcpus)
        return -ENOENT;
    if (!strcmp(what, "nmi")) {
        struct xvcpu *xv = &d->xv[vcpu];
        if (!atomic_exchange(&xv->nmi_pending, true))
            vcpu_kick(xv->v);
        return 0;
    }
    if (!strcmp(what, "init")) {
        int rc = vm_send_init(&d->vm, (int)vcpu);
        return rc < 0 ? rc : 0;
    }
    if (!strcmp(what, "reset")) {
        log_info("domain %u: reset", d->domid);
        domain_shutdown(d, SHUTDOWN_reboot);
        return 0;
    }
    return -EINVAL;
}

bool domain_vcpu_is_up(struct domain *d, unsigned vcpu)
{
    return vcpu < (unsigned)d->vm.nr_vcpus && atomic_load(&d->xv[vcpu].up) &&
           !atomic_load(&d->xv[vcpu].down);
}

int domain_create(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen)
{
    /* d arrives zeroed (see domain.h): not clearing its 300+ KiB again keeps
     * untouched pages unfaulted, which is a visible share of start-up here. */
    d->epfd = d->stop_fd = d->probe_fd = -1;
    d->watchdog_fd[0] = d->watchdog_fd[1] = -1;
    if (vm_create(&d->vm, cfg->memory_mib, cfg->vcpus, cfg->cpuid_cache, err, errlen) < 0)
        return -1;
    xen_cpuid_leaves(&d->vm, cfg->domid);
    /* The hypercall MSR; writes of the TSC (see xen_wrmsr). */
    static const struct vm_msr_trap traps[] = {
        { XEN_HYPERCALL_MSR, KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE },
        { MSR_IA32_TSC, KVM_MSR_FILTER_WRITE },
        { MSR_IA32_TSC_ADJUST, KVM_MSR_FILTER_WRITE },
    };
    if (vm_filter_msrs(&d->vm, traps, sizeof(traps) / sizeof(traps[0])) < 0) {
        snprintf(err, errlen, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
        return -1;
    }
    if (vm_create_vcpus(&d->vm, err, errlen) < 0)
        return -1;
    return domain_create_on_vm(d, cfg, err, errlen);
}

int domain_create_on_vm(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen)
{
    d->epfd = d->stop_fd = d->probe_fd = -1;
    d->watchdog_fd[0] = d->watchdog_fd[1] = -1;
    d->domid = cfg->domid;
    snprintf(d->name, sizeof(d->name), "%s", cfg->name ? cfg->name : "xenkvm");
    d->shutdown_reason = -1;
    d->shutdown_code = ~0u;
    d->shinfo_gfn = ~0ull;
    if (cfg->uuid)
        memcpy(d->uuid, cfg->uuid, sizeof(d->uuid));
    else
        uuid_generate_v4(d->uuid);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->vcpu_cond, NULL);
    pthread_mutex_init(&d->watch_lock, NULL);
    pit_init(&d->pit, monotonic_ns);
    pthread_mutex_init(&d->glog_lock, NULL);
    d->glog_fd = STDERR_FILENO;
    d->vm.ops = &xen_vm_ops;
    d->vm.priv = d;
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = NULL };
    if (d->epfd < 0 || d->stop_fd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->stop_fd, &sev) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        return -1;
    }
    if (posix_memalign((void **)&d->shinfo_own, PAGE_SIZE, PAGE_SIZE)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(d->shinfo_own, 0, PAGE_SIZE);
    d->shinfo = (struct shared_info *)d->shinfo_own;
    domain_time_init(d);
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct xvcpu *xv = &d->xv[i];
        xv->d = d;
        xv->v = &d->vm.vcpus[i];
        xv->id = i;
        xv->vi_gpa = ~0ull;
        atomic_store(&xv->up, i == 0);
        xv->initialised = i == 0;
        xv->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (xv->wake_fd < 0 || vcpu_timers_init(xv) < 0) {
            snprintf(err, errlen, "vcpu %d timers: %s", i, strerror(errno));
            return -1;
        }
    }
    point_vcpu_infos(d);
    for (int i = 0; i < d->vm.nr_vcpus && i < XEN_LEGACY_MAX_VCPUS; i++)
        domain_update_vcpu_time(d, &d->xv[i]);
    domain_update_wallclock(d);
    evtchn_init(&d->ev, d->domid, d->vm.nr_vcpus);
    d->ev.max_port = cfg->max_event_channels;
    d->ev.shared_info = cb_shared_info;
    d->ev.vcpu_info = cb_vcpu_info;
    d->ev.kick = cb_kick;
    d->ev.rekick = cb_rekick;
    d->ev.gfn_page = cb_gfn_page;
    d->ev.poll_wake = cb_poll_wake;
    d->ev.opaque = d;
    if (gnttab_init(&d->gt, d->domid) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->gt.gfn_page = cb_gfn_page;
    d->gt.max_frames = cfg->max_grant_frames;
    d->gt.opaque = d;
    d->dump_fd = -1;
    start_debug_dump(d);
    if (domain_vmcall_probe_start(d) < 0) {
        snprintf(err, errlen, "vmcall probe timer: %s", strerror(errno));
        return -1;
    }
    if (domain_watchdog_init(d) < 0) {
        snprintf(err, errlen, "watchdog timers: %s", strerror(errno));
        return -1;
    }
    d->special = vm_map_extra(&d->vm, SPECIAL_PAGES_BASE, SPECIAL_NR_PAGES * PAGE_SIZE);
    if (!d->special) {
        snprintf(err, errlen, "cannot map the special pages at %#llx", SPECIAL_PAGES_BASE);
        return -1;
    }
    d->params[HVM_PARAM_TRIPLE_FAULT_REASON] = SHUTDOWN_reboot;
    d->params[HVM_PARAM_CONSOLE_PFN] = (SPECIAL_PAGES_BASE >> PAGE_SHIFT) + SPECIAL_CONSOLE;
    /* As Xen's toolstack does: the reserved grant entries give dom 0 the
     * console and xenstore rings. A domain without xenstore gets neither
     * the ring nor the entry: its STORE params stay 0, which is how Xen
     * tells a guest there is no store (Linux's xenbus then gives up). */
    gnttab_reserve(&d->gt, GNTTAB_RESERVED_CONSOLE, d->params[HVM_PARAM_CONSOLE_PFN]);
    if (cfg->xenstore_socket || cfg->store_page) {
        d->params[HVM_PARAM_STORE_PFN] = (SPECIAL_PAGES_BASE >> PAGE_SHIFT) + SPECIAL_XENSTORE;
        gnttab_reserve(&d->gt, GNTTAB_RESERVED_XENSTORE, d->params[HVM_PARAM_STORE_PFN]);
    }
    return 0;
}

uint8_t *domain_special_page(struct domain *d, unsigned idx)
{
    return idx < SPECIAL_NR_PAGES ? d->special + idx * PAGE_SIZE : NULL;
}

static int status_of(int reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff:   return EXIT_POWEROFF;
    case SHUTDOWN_reboot:     return EXIT_REBOOT;
    case SHUTDOWN_suspend:    return EXIT_SUSPEND;
    case SHUTDOWN_watchdog:   return EXIT_WATCHDOG;
    case SHUTDOWN_soft_reset: return EXIT_SOFT_RESET;
    default:                  return EXIT_CRASH;
    }
}

int domain_start(struct domain *d)
{
    /* vCPUs first: vCPU 0 enters the guest as early as it can. */
    if (vm_start(&d->vm) < 0) {
        log_err("cannot start vCPU threads");
        domain_shutdown(d, SHUTDOWN_crash);
        return -1;
    }
    if (pthread_create(&d->io_thread, NULL, io_thread, d)) {
        log_err("cannot start the I/O thread");
        domain_shutdown(d, SHUTDOWN_crash);
        return -1;
    }
    d->io_thread_started = true;
    return 0;
}

int domain_wait(struct domain *d)
{
    vm_join(&d->vm);
    uint64_t one = 1;
    if (write(d->stop_fd, &one, sizeof(one)) < 0) { /* the thread sees EPOLLIN anyway */ }
    if (d->io_thread_started)
        pthread_join(d->io_thread, NULL);
    d->io_thread_started = false;
    guest_log_flush(d);
    if (d->shutdown_reason < 0)
        d->shutdown_reason = SHUTDOWN_crash;   /* every vCPU stopped without a shutdown */
    return status_of(d->shutdown_reason);
}

void domain_destroy(struct domain *d)
{
    domain_destroy_on_vm(d);
    vm_destroy(&d->vm);
}

void domain_destroy_on_vm(struct domain *d)
{
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        close(d->xv[i].wake_fd);
        close(d->xv[i].timer_fd);
        close(d->xv[i].periodic_fd);
    }
    while (d->watches) {
        struct fd_watch *w = d->watches;
        d->watches = w->next;
        free(w);
    }
    gnttab_fini(&d->gt);
    evtchn_fini(&d->ev);
    free(d->shinfo_own);
    if (d->dump_fd >= 0)
        close(d->dump_fd);
    if (d->probe_fd >= 0)
        close(d->probe_fd);
    for (int i = 0; i < 2; i++)
        if (d->watchdog_fd[i] >= 0)
            close(d->watchdog_fd[i]);
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->stop_fd >= 0)
        close(d->stop_fd);
}
