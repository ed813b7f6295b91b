/* A hypercall instruction that was not rewritten at load (code generated or
 * copied at run time) never reaches xenkvm: on this host's KVM the vCPU spins
 * on it inside KVM_RUN; a stock KVM without Xen support answers it with
 * -KVM_ENOSYS (-1000) in rax and the guest goes on. Once a second, each vCPU
 * that has not left KVM_RUN since the last look is kicked out and the
 * instruction at its rip inspected: a vmcall or vmmcall there is reported and
 * ends the domain as crashed, instead of a silent hang. (KVM first patches
 * the other vendor's instruction into its own, kvm_fix_hypercall: on this
 * Intel host a vmmcall is seen as the vmcall it became.) */
#include "xen/domain.h"
#include "common/log.h"
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <xen/sched.h>

#define PROBE_PERIOD_S 1
#define EFER_LMA (1ull << 10)

static void probe_tick(void *opaque)
{
    struct domain *d = opaque;
    uint64_t n;
    if (read(d->probe_fd, &n, sizeof(n)) != sizeof(n) || atomic_load(&d->vm.stopping))
        return;      /* (stopping: the vCPU threads may be gone) */
    for (int i = 0; i < d->vm.nr_vcpus; i++) {
        struct xvcpu *xv = &d->xv[i];
        unsigned exits = atomic_load_explicit(&xv->v->exits, memory_order_relaxed);
        if (exits == xv->probe_exits && atomic_load(&xv->up)) {
            atomic_store(&xv->probe, true);
            vcpu_kick(xv->v);
        }
        xv->probe_exits = exits;
    }
}

int domain_vmcall_probe_start(struct domain *d)
{
    d->probe_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->probe_fd < 0)
        return -1;
    struct itimerspec its = { .it_interval = { PROBE_PERIOD_S, 0 }, .it_value = { PROBE_PERIOD_S, 0 } };
    if (timerfd_settime(d->probe_fd, 0, &its, NULL) < 0)
        return -1;
    return domain_watch_fd(d, d->probe_fd, probe_tick, d);
}

bool domain_vmcall_probe(struct domain *d, struct xvcpu *xv)
{
    if (!atomic_exchange(&xv->probe, false))
        return true;
    struct kvm_regs r;
    struct kvm_sregs s;
    if (vcpu_get_regs(xv->v, &r) < 0 || vcpu_get_sregs(xv->v, &s) < 0)
        return true;
    bool long_mode = (s.efer & EFER_LMA) && s.cs.l;
    uint64_t pc = long_mode ? r.rip : (uint32_t)(s.cs.base + r.rip);
    struct guest_va va;
    guest_va_init(&va, &d->vm, &s);
    uint8_t insn[3];
    if (guest_copy_from(&va, insn, pc, sizeof(insn)) || insn[0] != 0x0f || insn[1] != 0x01 ||
        (insn[2] != 0xc1 && insn[2] != 0xd9))
        return true;
    log_err("vcpu %u: executed %s at %s %#llx (hypercall %llu), a hypercall instruction that "
            "was not rewritten at load: this KVM cannot deliver it to xenkvm; the domain "
            "ends as crashed", xv->id, insn[2] == 0xc1 ? "vmcall" : "vmmcall",
            long_mode ? "rip" : "eip", (unsigned long long)pc,
            (unsigned long long)(long_mode ? r.rax : (uint32_t)r.rax));
    domain_shutdown(d, SHUTDOWN_crash);
    return false;
}
