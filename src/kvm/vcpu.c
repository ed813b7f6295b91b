/* vCPUs: creation, the KVM_RUN exit loop (one thread each), kicks and register access. */
#include "kvm/vm.h"
#include "kvm/cpuid.h"
#include "common/log.h"
#include "common/startup.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#define KICK_SIGNAL SIGUSR1

static void kick_handler(int sig) { (void)sig; }

static int vcpu_create(struct vm *vm, int id, char *err, size_t errlen)
{
    struct vcpu *v = &vm->vcpus[id];
    v->vm = vm;
    v->id = id;
    v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
    if (v->fd < 0) {
        snprintf(err, errlen, "KVM_CREATE_VCPU %d: %s", id, strerror(errno));
        return -1;
    }
    int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0) {
        snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        return -1;
    }
    v->run_size = sz;
    v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (v->run == MAP_FAILED) {
        v->run = NULL;
        snprintf(err, errlen, "mmap kvm_run: %s", strerror(errno));
        return -1;
    }
    /* Registers synced through kvm_run on every exit spare the hypercall path
     * three ioctls (a third of its cost here). */
    if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
        v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
        v->sync_regs = true;
    }
    struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, id);
    int rc = c ? ioctl(v->fd, KVM_SET_CPUID2, c) : -1;
    free(c);
    if (rc < 0) {
        snprintf(err, errlen, "KVM_SET_CPUID2: %s", strerror(errno));
        return -1;
    }
    if ((rc = vcpu_extint_init(v)) < 0) {
        snprintf(err, errlen, "vcpu %d LVT0: %s", id, strerror(-rc));
        return -1;
    }
    /* Start the guest TSC at the host's: offset zero. KVM treats these writes,
     * made together, as one synchronised TSC for all vCPUs. Under a nested
     * hypervisor that ignores the offset (seen in QEMU's emulated SVM), the
     * guest then still reads what xenkvm computes its pvclock from. */
    struct { struct kvm_msrs h; struct kvm_msr_entry e; } tsc = {
        .h.nmsrs = 1, .e.index = MSR_IA32_TSC, .e.data = __rdtsc() };
    if (ioctl(v->fd, KVM_SET_MSRS, &tsc) != 1)
        log_warn("vcpu %d: cannot set the TSC: %s", id, strerror(errno));
    /* The VM's TSC offset, from vCPU 0; the others start with it. */
    if (id == 0 && vcpu_sample_tsc(v) < 0) {
        snprintf(err, errlen, "KVM_GET_MSRS(TSC): %s", strerror(errno));
        return -1;
    }
    v->tsc_offset = vm->tsc_offset;
    return 0;
}

int vm_create_vcpus(struct vm *vm, char *err, size_t errlen)
{
    for (int i = 0; i < vm->nr_vcpus; i++)
        if (vcpu_create(vm, i, err, errlen) < 0)
            return -1;
    return 0;
}

uint64_t vm_guest_tsc(struct vm *vm)
{
    return __rdtsc() + (uint64_t)atomic_load(&vm->tsc_offset);
}

int vcpu_get_regs(struct vcpu *v, struct kvm_regs *r) { return ioctl(v->fd, KVM_GET_REGS, r); }
int vcpu_set_regs(struct vcpu *v, const struct kvm_regs *r) { return ioctl(v->fd, KVM_SET_REGS, r); }
int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s) { return ioctl(v->fd, KVM_GET_SREGS, s); }
int vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *s) { return ioctl(v->fd, KVM_SET_SREGS, s); }

int vcpu_set_runnable(struct vcpu *v)
{
    struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
    return ioctl(v->fd, KVM_SET_MP_STATE, &mp);
}

struct kvm_regs *vcpu_exit_regs(struct vcpu *v, struct kvm_regs *buf)
{
    if (v->sync_regs)
        return &v->run->s.regs.regs;
    return vcpu_get_regs(v, buf) < 0 ? NULL : buf;
}

const struct kvm_sregs *vcpu_exit_sregs(struct vcpu *v, struct kvm_sregs *buf)
{
    if (v->sync_regs)
        return &v->run->s.regs.sregs;
    return vcpu_get_sregs(v, buf) < 0 ? NULL : buf;
}

int vcpu_exit_regs_dirty(struct vcpu *v, struct kvm_regs *r)
{
    if (v->sync_regs && r == &v->run->s.regs.regs) {
        v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
        return 0;
    }
    return vcpu_set_regs(v, r);
}

/* KVM has no ioctl for it; a change of CR4 through KVM_SET_SREGS resets the
 * vCPU's MMU context, and loading the new root flushes its TLB (KVM asks for
 * a guest TLB flush there too). Toggling CR4.PGE and back leaves the guest's
 * state as it was. */
int vcpu_flush_tlb(struct vcpu *v)
{
    struct kvm_sregs s;
    if (vcpu_get_sregs(v, &s) < 0)
        return -errno;
    s.cr4 ^= 1u << 7;     /* PGE */
    if (vcpu_set_sregs(v, &s) < 0)
        return -errno;
    s.cr4 ^= 1u << 7;
    return vcpu_set_sregs(v, &s) < 0 ? -errno : 0;
}

int vcpu_reset_flat32(struct vcpu *v, uint32_t eip, uint32_t ebx)
{
    struct kvm_sregs s;
    if (vcpu_get_sregs(v, &s) < 0)
        return -1;
    struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x10,
        .type = 0xb, .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1 };
    struct kvm_segment data = code;
    data.type = 0x3;
    data.selector = 0x18;
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
    s.ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .unusable = 1 };
    s.cr0 = 0x11;   /* PE | ET */
    s.cr3 = 0;
    s.cr4 = 0;
    s.efer = 0;
    if (vcpu_set_sregs(v, &s) < 0)
        return -1;
    struct kvm_regs r = { .rip = eip, .rbx = ebx, .rflags = 0x2 };
    return vcpu_set_regs(v, &r);
}

static __thread struct vcpu *this_vcpu;   /* set on each vCPU's own thread */

bool vcpu_is_self(const struct vcpu *v)
{
    return this_vcpu == v;
}

void vcpu_kick(struct vcpu *v)
{
    atomic_store(&v->kicked, true);
    if (v->run)
        v->run->immediate_exit = 1;
    if (v->thread)
        pthread_kill(v->thread, KICK_SIGNAL);
}

void vm_stop(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->stopping, true);
    pthread_cond_broadcast(&vm->pause_cond);      /* exits held at start-up */
    pthread_mutex_unlock(&vm->pause_lock);
    for (int i = 0; i < vm->nr_vcpus; i++)
        vcpu_kick(&vm->vcpus[i]);
}

static void fatal(struct vcpu *v, enum vcpu_stop kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fatal(struct vcpu *v, enum vcpu_stop kind, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    struct kvm_regs r;
    struct kvm_sregs s;
    /* On AMD, KVM resets a vCPU when it intercepts a shutdown (the VMCB is undefined
     * after one), so a triple fault there reads as the reset state: say so rather than
     * print a reset vector as if the guest had been running there. */
    if (kind == VCPU_STOP_TRIPLE_FAULT && vcpu_get_regs(v, &r) == 0 && r.rip == 0xfff0 &&
        vcpu_get_sregs(v, &s) == 0 && s.cs.base == 0xffff0000)
        log_err("vcpu %d: %s (registers unknown: KVM reset this vCPU on the shutdown, "
                "as it does on AMD)", v->id, why);
    else if (vcpu_get_regs(v, &r) == 0)
        log_err("vcpu %d: %s (rip %#llx rsp %#llx rax %#llx)", v->id, why,
                (unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rax);
    else
        log_err("vcpu %d: %s", v->id, why);
    if (v->vm->ops->fatal)
        v->vm->ops->fatal(v, kind, why);
    vm_stop(v->vm);
}

/* Handles one exit; returns false when the vCPU must stop. */
static bool handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    const struct vm_ops *ops = v->vm->ops;
    vcpu_stats_exit(&v->stats, run->exit_reason);
    if (atomic_load_explicit(&v->vm->exits_held, memory_order_acquire)) {
        vm_exit_point(v->vm);
        if (atomic_load(&v->vm->stopping))
            return false;
    }
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        /* String I/O (rep outs) is not something our traps use; each element is
         * handed over as its own access. */
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        vcpu_stats_pio(&v->stats, run->io.port, run->io.direction == KVM_EXIT_IO_OUT);
        for (uint32_t i = 0; i < run->io.count; i++) {
            if (ops->pio(v, run->io.port, run->io.direction == KVM_EXIT_IO_OUT,
                         data + i * run->io.size, run->io.size) < 0)
                return false;
        }
        return true;
    }
    case KVM_EXIT_MMIO:
        if (ops->mmio(v, run->mmio.phys_addr, run->mmio.is_write, run->mmio.data,
                      run->mmio.len) < 0)
            return false;
        return true;
    case KVM_EXIT_X86_WRMSR:
        run->msr.error = ops->wrmsr(v, run->msr.index, run->msr.data) < 0;
        return true;
    case KVM_EXIT_X86_RDMSR: {
        uint64_t val = 0;
        run->msr.error = ops->rdmsr(v, run->msr.index, &val) < 0;
        run->msr.data = val;
        return true;
    }
    case KVM_EXIT_HLT:
        return true;   /* the in-kernel LAPIC normally handles HLT */
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return true;   /* asked for by extint.c, which looks at every exit */
    case KVM_EXIT_SHUTDOWN:
        fatal(v, VCPU_STOP_TRIPLE_FAULT, "triple fault");
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        fatal(v, VCPU_STOP_ERROR, "VM entry failed (reason %#llx)",
              (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        fatal(v, VCPU_STOP_ERROR, "KVM internal error %u (an instruction this KVM cannot emulate?)",
              run->internal.suberror);
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        fatal(v, VCPU_STOP_ERROR, "system event %u", run->system_event.type);
        return false;
    default:
        fatal(v, VCPU_STOP_ERROR, "unhandled KVM exit reason %u", run->exit_reason);
        return false;
    }
}

int vcpu_sample_tsc(struct vcpu *v)
{
    struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {
        .h.nmsrs = 1, .e.index = MSR_IA32_TSC };
    uint64_t before = __rdtsc();
    if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
        return -1;
    uint64_t after = __rdtsc();
    int64_t off = (int64_t)(m.e.data - (before + (after - before) / 2));
    int64_t was = atomic_exchange(&v->tsc_offset, off);
    atomic_store(&v->vm->tsc_offset, off);
    /* Moved: by more than the uncertainty of this read (the window it took). */
    uint64_t moved = off > was ? (uint64_t)(off - was) : (uint64_t)(was - off);
    return moved > after - before ? 1 : 0;
}

uint64_t vcpu_guest_tsc(struct vcpu *v)
{
    return __rdtsc() + (uint64_t)atomic_load(&v->tsc_offset);
}

int vcpu_inject_nmi(struct vcpu *v)
{
    return ioctl(v->fd, KVM_NMI, 0) < 0 ? -1 : 0;
}

int vcpu_set_affinity(struct vcpu *v, const cpu_set_t *set)
{
    if (set) {
        v->affinity = *set;
        v->has_affinity = true;
    } else {
        v->has_affinity = false;
        CPU_ZERO(&v->affinity);
        for (int c = 0; c < CPU_SETSIZE; c++)
            CPU_SET(c, &v->affinity);
    }
    if (!v->thread)
        return 0;
    return -pthread_setaffinity_np(v->thread, sizeof(v->affinity), &v->affinity);
}

void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    if (v->has_affinity)
        sched_setaffinity(0, sizeof(v->affinity), &v->affinity);
    this_vcpu = v;
    atomic_store(&v->tid, (int)gettid());
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    if (vm->ops->before_run && !vm->ops->before_run(v))
        return NULL;
    if (v->id == 0)
        startup_report();
    while (!atomic_load(&vm->stopping)) {
        atomic_store(&v->in_run, true);
        int rc = ioctl(v->fd, KVM_RUN, 0);
        atomic_store(&v->in_run, false);
        atomic_fetch_add_explicit(&v->exits, 1, memory_order_relaxed);
        if (rc < 0) {
            if (errno != EINTR && errno != EAGAIN) {
                fatal(v, VCPU_STOP_ERROR, "KVM_RUN: %s", strerror(errno));
                break;
            }
            v->run->immediate_exit = 0;
            stats_inc(&v->stats.exits[VCPU_STATS_KICK]);
            if (!atomic_exchange(&v->kicked, false))
                continue;
            vm_pause_point(vm);
            if (vm->ops->before_run && !vm->ops->before_run(v))
                break;
            continue;
        }
        if (v->lvt0_borrowed)
            vcpu_extint_exit(v);
        if (!handle_exit(v))
            break;
    }
    return NULL;
}

int vm_start(struct vm *vm)
{
    struct sigaction sa = { .sa_handler = kick_handler };   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(KICK_SIGNAL, &sa, NULL);
    /* Threads start with the kick signal blocked except in vcpu_thread. */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    int rc = 0;
    for (int i = 0; i < vm->nr_vcpus && !rc; i++)
        rc = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
    return rc ? -rc : 0;
}

void vm_join(struct vm *vm)
{
    for (int i = 0; i < vm->nr_vcpus; i++)
        if (vm->vcpus[i].thread)
            pthread_join(vm->vcpus[i].thread, NULL);
}

void vm_stats(struct vm *vm, struct vm_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < vm->nr_vcpus; i++)
        vm_stats_add(out, &vm->vcpus[i].stats);
    vm_stats_sort(out);
}
