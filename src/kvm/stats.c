/* Exit counters (see stats.h). */
#include "kvm/stats.h"
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

void vcpu_stats_exit(struct vcpu_stats *s, uint32_t reason)
{
    stats_inc(&s->exits[reason < VCPU_STATS_KICK ? reason : VCPU_STATS_KICK - 1]);
}

void vcpu_stats_pio(struct vcpu_stats *s, uint16_t port, bool out)
{
    uint32_t key = port | (uint32_t)out << 16 | 1u << 17;
    /* Open addressing; slots are claimed by this thread only and never freed. */
    unsigned h = (port * 0x9e37u + out) % VCPU_STATS_PORTS;
    for (unsigned i = 0; i < VCPU_STATS_PORTS; i++) {
        unsigned k = (h + i) % VCPU_STATS_PORTS;
        uint32_t have = __atomic_load_n(&s->ports[k].key, __ATOMIC_RELAXED);
        if (have == key) {
            stats_inc(&s->ports[k].n);
            return;
        }
        if (!have) {
            __atomic_store_n(&s->ports[k].n, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&s->ports[k].key, key, __ATOMIC_RELEASE);
            return;
        }
    }
    stats_inc(&s->ports_other);
}

void vm_stats_add(struct vm_stats *sum, const struct vcpu_stats *s)
{
    for (unsigned i = 0; i < VCPU_STATS_REASONS; i++) {
        uint64_t n = stats_read(&s->exits[i]);
        sum->exits[i] += n;
        if (i != VCPU_STATS_KICK)
            sum->total += n;
    }
    for (unsigned i = 0; i < VCPU_STATS_PORTS; i++) {
        uint32_t key = __atomic_load_n(&s->ports[i].key, __ATOMIC_ACQUIRE);
        if (!key)
            continue;
        uint16_t port = key & 0xffff;
        bool out = key >> 16 & 1;
        uint64_t n = stats_read(&s->ports[i].n);
        unsigned k = 0;
        while (k < sum->nports && (sum->ports[k].port != port || sum->ports[k].out != out))
            k++;
        if (k == sum->nports) {
            if (k == VCPU_STATS_PORTS) {
                sum->ports_other += n;
                continue;
            }
            sum->ports[sum->nports++] = (struct vm_stats_port){ port, out, 0 };
        }
        sum->ports[k].n += n;
    }
    sum->ports_other += stats_read(&s->ports_other);
}

static int by_count(const void *a, const void *b)
{
    const struct vm_stats_port *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return x->port != y->port ? (x->port < y->port ? -1 : 1) : (int)x->out - (int)y->out;
}

void vm_stats_sort(struct vm_stats *sum)
{
    qsort(sum->ports, sum->nports, sizeof(sum->ports[0]), by_count);
}

const char *vm_exit_name(unsigned reason)
{
    static const char *const names[] = {
        [KVM_EXIT_UNKNOWN] = "unknown", [KVM_EXIT_EXCEPTION] = "exception", [KVM_EXIT_IO] = "io",
        [KVM_EXIT_HYPERCALL] = "hypercall", [KVM_EXIT_DEBUG] = "debug", [KVM_EXIT_HLT] = "hlt",
        [KVM_EXIT_MMIO] = "mmio", [KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
        [KVM_EXIT_SHUTDOWN] = "shutdown", [KVM_EXIT_FAIL_ENTRY] = "fail_entry",
        [KVM_EXIT_INTR] = "intr", [KVM_EXIT_SET_TPR] = "set_tpr",
        [KVM_EXIT_TPR_ACCESS] = "tpr_access", [KVM_EXIT_INTERNAL_ERROR] = "internal_error",
        [KVM_EXIT_SYSTEM_EVENT] = "system_event", [KVM_EXIT_IOAPIC_EOI] = "ioapic_eoi",
        [KVM_EXIT_X86_RDMSR] = "rdmsr", [KVM_EXIT_X86_WRMSR] = "wrmsr",
    };
    if (reason == VCPU_STATS_KICK)
        return "kick";
    if (reason == VCPU_STATS_KICK - 1)
        return "other";
    return reason < sizeof(names) / sizeof(names[0]) ? names[reason] : NULL;
}
