/* A domain's counters (see stats.h). */
#include "xen/stats.h"
#include "xen/domain.h"
#include <string.h>

void domain_stats(struct domain *d, struct domain_stats *out)
{
    memset(out, 0, sizeof(*out));
    vm_stats(&d->vm, &out->vm);
    for (int i = 0; i < d->vm.nr_vcpus; i++)
        for (unsigned k = 0; k < XEN_STATS_HCALLS; k++) {
            uint64_t n = stats_read(&d->xv[i].hcalls[k]);
            out->hcalls[k] += n;
            out->hcalls_total += n;
        }
}

const char *xen_hypercall_name(unsigned nr)
{
    static const char *const names[] = {
        [__HYPERVISOR_set_trap_table] = "set_trap_table", [__HYPERVISOR_mmu_update] = "mmu_update",
        [__HYPERVISOR_set_gdt] = "set_gdt", [__HYPERVISOR_stack_switch] = "stack_switch",
        [__HYPERVISOR_set_callbacks] = "set_callbacks",
        [__HYPERVISOR_fpu_taskswitch] = "fpu_taskswitch",
        [__HYPERVISOR_sched_op_compat] = "sched_op_compat",
        [__HYPERVISOR_platform_op] = "platform_op", [__HYPERVISOR_set_debugreg] = "set_debugreg",
        [__HYPERVISOR_get_debugreg] = "get_debugreg",
        [__HYPERVISOR_update_descriptor] = "update_descriptor",
        [__HYPERVISOR_memory_op] = "memory_op", [__HYPERVISOR_multicall] = "multicall",
        [__HYPERVISOR_update_va_mapping] = "update_va_mapping",
        [__HYPERVISOR_set_timer_op] = "set_timer_op",
        [__HYPERVISOR_event_channel_op_compat] = "event_channel_op_compat",
        [__HYPERVISOR_xen_version] = "xen_version", [__HYPERVISOR_console_io] = "console_io",
        [__HYPERVISOR_physdev_op_compat] = "physdev_op_compat",
        [__HYPERVISOR_grant_table_op] = "grant_table_op", [__HYPERVISOR_vm_assist] = "vm_assist",
        [__HYPERVISOR_update_va_mapping_otherdomain] = "update_va_mapping_otherdomain",
        [__HYPERVISOR_iret] = "iret", [__HYPERVISOR_vcpu_op] = "vcpu_op",
        [__HYPERVISOR_set_segment_base] = "set_segment_base", [__HYPERVISOR_mmuext_op] = "mmuext_op",
        [__HYPERVISOR_xsm_op] = "xsm_op", [__HYPERVISOR_nmi_op] = "nmi_op",
        [__HYPERVISOR_sched_op] = "sched_op", [__HYPERVISOR_callback_op] = "callback_op",
        [__HYPERVISOR_xenoprof_op] = "xenoprof_op",
        [__HYPERVISOR_event_channel_op] = "event_channel_op",
        [__HYPERVISOR_physdev_op] = "physdev_op", [__HYPERVISOR_hvm_op] = "hvm_op",
        [__HYPERVISOR_sysctl] = "sysctl", [__HYPERVISOR_domctl] = "domctl",
        [__HYPERVISOR_kexec_op] = "kexec_op", [__HYPERVISOR_argo_op] = "argo_op",
        [__HYPERVISOR_xenpmu_op] = "xenpmu_op", [__HYPERVISOR_dm_op] = "dm_op",
        [__HYPERVISOR_hypfs_op] = "hypfs_op",
        [__HYPERVISOR_arch_0] = "arch_0", [__HYPERVISOR_arch_1] = "arch_1",
        [__HYPERVISOR_arch_2] = "arch_2", [__HYPERVISOR_arch_3] = "arch_3",
        [__HYPERVISOR_arch_4] = "arch_4", [__HYPERVISOR_arch_5] = "arch_5",
        [__HYPERVISOR_arch_6] = "arch_6", [__HYPERVISOR_arch_7] = "arch_7",
    };
    if (nr == XEN_STATS_HCALLS - 1)
        return "other";
    return nr < sizeof(names) / sizeof(names[0]) ? names[nr] : NULL;
}

/* Prints the non-zero entries of a table, highest first. */
static void print_sorted(FILE *f, const uint64_t *n, unsigned count,
                         const char *(*name)(unsigned), unsigned skip)
{
    bool done[VCPU_STATS_REASONS > XEN_STATS_HCALLS ? VCPU_STATS_REASONS : XEN_STATS_HCALLS] = { 0 };
    const char *sep = "";
    for (;;) {
        unsigned best = count;
        for (unsigned i = 0; i < count; i++)
            if (!done[i] && i != skip && n[i] && (best == count || n[i] > n[best]))
                best = i;
        if (best == count)
            break;
        done[best] = true;
        const char *s = name(best);
        if (s)
            fprintf(f, "%s%s %llu", sep, s, (unsigned long long)n[best]);
        else
            fprintf(f, "%s#%u %llu", sep, best, (unsigned long long)n[best]);
        sep = ", ";
    }
    if (!*sep)
        fprintf(f, "none");
}

static const char *exit_name(unsigned r) { return vm_exit_name(r); }
static const char *hcall_name(unsigned nr) { return xen_hypercall_name(nr); }

void domain_stats_print(FILE *f, const char *prefix, const struct domain_stats *st)
{
    fprintf(f, "%s%llu exits: ", prefix, (unsigned long long)st->vm.total);
    print_sorted(f, st->vm.exits, VCPU_STATS_REASONS, exit_name, VCPU_STATS_KICK);
    fprintf(f, "; vCPU kicks %llu\n", (unsigned long long)st->vm.exits[VCPU_STATS_KICK]);
    fprintf(f, "%sport I/O: ", prefix);
    for (unsigned i = 0; i < st->vm.nports; i++)
        fprintf(f, "%s%#x %s %llu", i ? ", " : "", st->vm.ports[i].port,
                st->vm.ports[i].out ? "out" : "in", (unsigned long long)st->vm.ports[i].n);
    if (!st->vm.nports)
        fprintf(f, "none");
    if (st->vm.ports_other)
        fprintf(f, ", other ports %llu", (unsigned long long)st->vm.ports_other);
    fprintf(f, "\n%s%llu hypercalls: ", prefix, (unsigned long long)st->hcalls_total);
    print_sorted(f, st->hcalls, XEN_STATS_HCALLS, hcall_name, XEN_STATS_HCALLS);
    fprintf(f, "\n");
}
