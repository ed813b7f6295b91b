/* External interrupts: a vector delivered outside the LAPIC (no IRR, no ISR, no
 * EOI), as Xen delivers its global event-channel callback vector.
 *
 * With a split irqchip, KVM_INTERRUPT queues a vector as if a PIC had raised
 * it (KVM's pending_external_vector). KVM injects it at the guest's next
 * interrupt window and wakes a vCPU halted in the kernel for it, but only while
 * the LAPIC accepts a PIC interrupt (kvm_apic_accept_pic_intr): hardware
 * disabled, or LVT0 unmasked in ExtINT mode. KVM resets the boot vCPU's LVT0 to
 * ExtINT and the others' to masked; a PVH domain has no PIC, so nothing else
 * ever raises ExtINT and every vCPU starts here with LVT0 in ExtINT mode.
 *
 * A guest that programs its LAPIC may mask LVT0 (Linux does on its secondary
 * CPUs). Then, at an instruction boundary with interrupts enabled (the vCPU is
 * out of KVM_RUN on its own thread), the vector is injected as an event
 * (KVM_SET_VCPU_EVENTS), which is what Xen does at a VM entry. With interrupts
 * off, LVT0 is opened for the one injection: ExtINT unmasked, the vector
 * queued, an interrupt-window exit requested; LVT0 gets the guest's value back
 * at the first exit that finds the vector gone (unless the guest wrote LVT0
 * meanwhile: its write stands). */
#include "kvm/vm.h"
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define APIC_LVT0        0x350
#define APIC_LVT_MASKED  (1u << 16)
#define APIC_DM_MASK     (7u << 8)
#define APIC_DM_EXTINT   (7u << 8)

static uint32_t *lvt0(struct kvm_lapic_state *s)
{
    return (uint32_t *)(s->regs + APIC_LVT0);
}

static bool lvt0_takes_extint(uint32_t v)
{
    return !(v & APIC_LVT_MASKED) && (v & APIC_DM_MASK) == APIC_DM_EXTINT;
}

int vcpu_extint_init(struct vcpu *v)
{
    struct kvm_lapic_state s;
    if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0)
        return -errno;
    if (lvt0_takes_extint(*lvt0(&s)))
        return 0;
    *lvt0(&s) = APIC_DM_EXTINT;
    return ioctl(v->fd, KVM_SET_LAPIC, &s) < 0 ? -errno : 0;
}

/* Gives LVT0 the guest's value again once the borrowed injection is taken. */
static void lvt0_return(struct vcpu *v)
{
    struct kvm_lapic_state s;
    v->run->request_interrupt_window = 0;
    v->lvt0_borrowed = false;
    if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0 || *lvt0(&s) != APIC_DM_EXTINT)
        return;   /* the guest wrote LVT0 since: its value stands */
    *lvt0(&s) = v->lvt0_saved;
    ioctl(v->fd, KVM_SET_LAPIC, &s);
}

void vcpu_extint_exit(struct vcpu *v)
{
    if (v->lvt0_borrowed && v->run->ready_for_interrupt_injection)
        lvt0_return(v);
}

/* Injects vector as an event on the next entry if the vCPU can take it now:
 * 1 done, 0 not now, -EEXIST on its way already, or -errno. */
static int inject_now(struct vcpu *v, uint8_t vector)
{
    struct kvm_vcpu_events ev;
    if (!v->run->if_flag)
        return 0;
    if (ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return -errno;
    if (ev.interrupt.injected && ev.interrupt.nr == vector && !ev.interrupt.soft)
        return -EEXIST;
    if (ev.interrupt.shadow || ev.interrupt.injected || ev.exception.injected ||
        ev.exception.pending || ev.nmi.injected)
        return 0;
    ev.interrupt.injected = 1;
    ev.interrupt.nr = vector;
    ev.interrupt.soft = 0;
    ev.flags = 0;
    if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        return -errno;
    /* Out of HLT, as the interrupt would have woken it. */
    struct kvm_mp_state mp;
    if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) == 0 && mp.mp_state == KVM_MP_STATE_HALTED) {
        mp.mp_state = KVM_MP_STATE_RUNNABLE;
        ioctl(v->fd, KVM_SET_MP_STATE, &mp);
    }
    return 1;
}

int vcpu_queue_extint(struct vcpu *v, uint8_t vector)
{
    struct kvm_lapic_state s;
    if (ioctl(v->fd, KVM_GET_LAPIC, &s) < 0)
        return -errno;
    if (!v->lvt0_borrowed && !lvt0_takes_extint(*lvt0(&s))) {
        int rc = inject_now(v, vector);
        if (rc)
            return rc < 0 ? rc : 0;
    }
    struct kvm_interrupt irq = { .irq = vector };
    if (ioctl(v->fd, KVM_INTERRUPT, &irq) < 0)
        return -errno;     /* -EEXIST: one is queued already */
    if (v->lvt0_borrowed || lvt0_takes_extint(*lvt0(&s)))
        return 0;
    v->lvt0_saved = *lvt0(&s);
    *lvt0(&s) = APIC_DM_EXTINT;
    if (ioctl(v->fd, KVM_SET_LAPIC, &s) < 0)
        return -errno;
    v->lvt0_borrowed = true;
    v->run->request_interrupt_window = 1;
    return 0;
}
