/* A vCPU's state in and out of KVM (see vcpu_state.h). */
#include "kvm/vcpu_state.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <x86intrin.h>

#define MSR_IA32_TSC 0x10

/* MSRs with state beyond what sregs carries (EFER, APIC base are there), as
 * QEMU's kvm_put_msrs list them for a 64-bit guest. The TSC moves apart
 * (vm_set_guest_tsc) so that all vCPUs stay synchronised. */
static const uint32_t state_msrs[] = {
    0x174, 0x175, 0x176,             /* SYSENTER_CS/ESP/EIP */
    0x277,                           /* PAT */
    0x1a0,                           /* MISC_ENABLE */
    0x6e0,                           /* TSC_DEADLINE */
    0x48,                            /* SPEC_CTRL */
    0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,   /* STAR LSTAR CSTAR SFMASK */
    0xc0000102, 0xc0000103,          /* KERNEL_GS_BASE, TSC_AUX */
};

uint32_t vcpu_xsave_size(struct vm *vm)
{
    int n = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    return n > (int)sizeof(struct kvm_xsave) ? (uint32_t)n : sizeof(struct kvm_xsave);
}

static int get_msr(struct vcpu *v, uint32_t index, uint64_t *value)
{
    struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = { .h.nmsrs = 1, .e.index = index };
    if (ioctl(v->fd, KVM_GET_MSRS, &m) != 1)
        return -1;
    *value = m.e.data;
    return 0;
}

#define TRY(call, name) do { if ((call) < 0) { *what = name; return -errno; } } while (0)

int vcpu_state_get(struct vcpu *v, struct vcpu_state *s, const char **what)
{
    memset(s, 0, sizeof(*s));
    TRY(ioctl(v->fd, KVM_GET_REGS, &s->regs), "KVM_GET_REGS");
    TRY(ioctl(v->fd, KVM_GET_SREGS, &s->sregs), "KVM_GET_SREGS");
    TRY(ioctl(v->fd, KVM_GET_LAPIC, &s->lapic), "KVM_GET_LAPIC");
    TRY(ioctl(v->fd, KVM_GET_MP_STATE, &s->mp), "KVM_GET_MP_STATE");
    TRY(ioctl(v->fd, KVM_GET_VCPU_EVENTS, &s->events), "KVM_GET_VCPU_EVENTS");
    TRY(ioctl(v->fd, KVM_GET_DEBUGREGS, &s->debug), "KVM_GET_DEBUGREGS");
    TRY(ioctl(v->fd, KVM_GET_XCRS, &s->xcrs), "KVM_GET_XCRS");
    /* Only the MSRs this host's KVM has: the restoring side sets those. */
    for (size_t i = 0; i < sizeof(state_msrs) / sizeof(state_msrs[0]); i++) {
        uint64_t val;
        if (get_msr(v, state_msrs[i], &val) == 0)
            s->msrs[s->nmsrs++] = (struct kvm_msr_entry){ .index = state_msrs[i], .data = val };
    }
    s->xsave_size = vcpu_xsave_size(v->vm);
    s->xsave = calloc(1, s->xsave_size);
    if (!s->xsave) {
        *what = "XSAVE buffer";
        return -ENOMEM;
    }
    TRY(ioctl(v->fd, s->xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
              s->xsave), "KVM_GET_XSAVE");
    return 0;
}

int vcpu_state_set(struct vcpu *v, const struct vcpu_state *s, const char **what)
{
    if (s->xsave_size != vcpu_xsave_size(v->vm)) {
        *what = "XSAVE area size (another CPU model?)";
        return -EINVAL;
    }
    if (s->nmsrs > VCPU_STATE_MAX_MSRS) {
        *what = "MSR count";
        return -EINVAL;
    }
    TRY(ioctl(v->fd, KVM_SET_SREGS, &s->sregs), "KVM_SET_SREGS");
    TRY(ioctl(v->fd, KVM_SET_REGS, &s->regs), "KVM_SET_REGS");
    TRY(ioctl(v->fd, KVM_SET_XCRS, &s->xcrs), "KVM_SET_XCRS");
    TRY(ioctl(v->fd, KVM_SET_XSAVE, s->xsave), "KVM_SET_XSAVE");
    struct { struct kvm_msrs h; struct kvm_msr_entry e[VCPU_STATE_MAX_MSRS]; } m = {
        .h.nmsrs = s->nmsrs };
    memcpy(m.e, s->msrs, s->nmsrs * sizeof(m.e[0]));
    if (ioctl(v->fd, KVM_SET_MSRS, &m) != (int)s->nmsrs) {
        *what = "KVM_SET_MSRS";
        return -EINVAL;
    }
    TRY(ioctl(v->fd, KVM_SET_LAPIC, &s->lapic), "KVM_SET_LAPIC");
    TRY(ioctl(v->fd, KVM_SET_MP_STATE, &s->mp), "KVM_SET_MP_STATE");
    struct kvm_vcpu_events ev = s->events;
    ev.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
                KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
                KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;
    TRY(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev), "KVM_SET_VCPU_EVENTS");
    TRY(ioctl(v->fd, KVM_SET_DEBUGREGS, &s->debug), "KVM_SET_DEBUGREGS");
    return 0;
}

void vcpu_state_free(struct vcpu_state *s)
{
    free(s->xsave);
    s->xsave = NULL;
}

int vm_set_guest_tsc(struct vm *vm, uint64_t tsc)
{
    /* KVM_VCPU_TSC_OFFSET sets the offset itself, on every vCPU alike (a
     * write of MSR_IA32_TSC may be taken by KVM as a "synchronisation" with
     * the value written at creation and not move the TSC at all). */
    int64_t offset = (int64_t)(tsc - __rdtsc());
    struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
                                    .addr = (uint64_t)(uintptr_t)&offset };
    bool direct = ioctl(vm->vcpus[0].fd, KVM_HAS_DEVICE_ATTR, &attr) == 0;
    for (int i = 0; i < vm->nr_vcpus; i++) {
        struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {
            .h.nmsrs = 1, .e.index = MSR_IA32_TSC, .e.data = tsc };
        if (direct ? ioctl(vm->vcpus[i].fd, KVM_SET_DEVICE_ATTR, &attr) < 0
                   : ioctl(vm->vcpus[i].fd, KVM_SET_MSRS, &m) != 1)
            return -EINVAL;
    }
    uint64_t val, before = __rdtsc();
    if (get_msr(&vm->vcpus[0], MSR_IA32_TSC, &val) < 0)
        return -EINVAL;
    uint64_t after = __rdtsc();
    int64_t off = (int64_t)(val - (before + (after - before) / 2));
    atomic_store(&vm->tsc_offset, off);
    for (int i = 0; i < vm->nr_vcpus; i++)   /* each vCPU's own sample (vcpu_guest_tsc) too */
        atomic_store(&vm->vcpus[i].tsc_offset, off);
    return 0;
}
