/* A vCPU's whole architectural state as KVM holds it, for save/restore and
 * dump-core: what QEMU's KVM layer moves for a migration (registers, FPU and
 * extended state through XSAVE, XCRs, the MSRs that carry state, the LAPIC,
 * the run state, pending events, debug registers). Get and set while the vCPU
 * is out of KVM_RUN: before its thread starts, or parked in vm_pause_point
 * (KVM serialises vCPU ioctls, so another thread may make them then). */
#pragma once
#include "kvm/vm.h"

#define VCPU_STATE_MAX_MSRS 32

struct vcpu_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_lapic_state lapic;
    struct kvm_mp_state mp;
    struct kvm_vcpu_events events;
    struct kvm_debugregs debug;
    struct kvm_xcrs xcrs;
    uint32_t nmsrs;
    struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
    uint32_t xsave_size;          /* bytes in xsave */
    uint8_t *xsave;               /* malloc'd by vcpu_state_get */
};

/* Bytes of KVM's XSAVE area on this host (KVM_CAP_XSAVE2, at least 4096). */
uint32_t vcpu_xsave_size(struct vm *vm);
/* 0 or -errno with what (the ioctl that failed). */
int vcpu_state_get(struct vcpu *v, struct vcpu_state *s, const char **what);
int vcpu_state_set(struct vcpu *v, const struct vcpu_state *s, const char **what);
void vcpu_state_free(struct vcpu_state *s);
/* The guest TSC of every vCPU becomes tsc (as one synchronised write) and
 * vm->tsc_offset is learnt again. 0 or -errno. */
int vm_set_guest_tsc(struct vm *vm, uint64_t tsc);
