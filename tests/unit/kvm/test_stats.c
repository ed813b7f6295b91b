/* Exit counters (src/kvm/stats.c): reasons, the port table and its overflow,
 * summing over vCPUs, sorting, names. */
#include <linux/kvm.h>
#include <string.h>

#include "kvm/stats.h"
#include "unit.h"

TEST(stats_count_reasons_and_ports)
{
    static struct vcpu_stats s;
    memset(&s, 0, sizeof(s));
    for (int i = 0; i < 5; i++) {
        vcpu_stats_exit(&s, KVM_EXIT_IO);
        vcpu_stats_pio(&s, 0x5e, true);
    }
    vcpu_stats_exit(&s, KVM_EXIT_IO);
    vcpu_stats_pio(&s, 0x42, false);
    vcpu_stats_exit(&s, KVM_EXIT_MMIO);
    vcpu_stats_exit(&s, 1000);                       /* beyond the table: "other" */
    stats_inc(&s.exits[VCPU_STATS_KICK]);
    struct vm_stats sum;
    memset(&sum, 0, sizeof(sum));
    vm_stats_add(&sum, &s);
    vm_stats_sort(&sum);
    CHECK_EQ(sum.exits[KVM_EXIT_IO], 6);
    CHECK_EQ(sum.exits[KVM_EXIT_MMIO], 1);
    CHECK_EQ(sum.exits[VCPU_STATS_KICK - 1], 1);
    CHECK_EQ(sum.total, 8);                          /* kicks are not exits */
    CHECK_EQ(sum.nports, 2);
    CHECK_EQ(sum.ports[0].port, 0x5e);
    CHECK_EQ(sum.ports[0].out, true);
    CHECK_EQ(sum.ports[0].n, 5);
    CHECK_EQ(sum.ports[1].port, 0x42);
    CHECK_EQ(sum.ports[1].out, false);
    CHECK_EQ(sum.ports[1].n, 1);
    CHECK_STR(vm_exit_name(KVM_EXIT_IO), "io");
    CHECK_STR(vm_exit_name(KVM_EXIT_X86_WRMSR), "wrmsr");
    CHECK_STR(vm_exit_name(VCPU_STATS_KICK), "kick");
    CHECK_STR(vm_exit_name(VCPU_STATS_KICK - 1), "other");
    CHECK(vm_exit_name(50) == NULL);
}

TEST(stats_ports_beyond_the_table_are_other)
{
    static struct vcpu_stats s;
    memset(&s, 0, sizeof(s));
    /* Both directions of 20 ports: 40 pairs for 32 slots. */
    for (unsigned p = 0; p < 20; p++)
        for (int out = 0; out < 2; out++)
            for (unsigned k = 0; k <= p; k++)
                vcpu_stats_pio(&s, (uint16_t)(0x100 + p), out);
    struct vm_stats sum;
    memset(&sum, 0, sizeof(sum));
    vm_stats_add(&sum, &s);
    vm_stats_sort(&sum);
    CHECK_EQ(sum.nports, VCPU_STATS_PORTS);
    uint64_t all = sum.ports_other;
    for (unsigned i = 0; i < sum.nports; i++) {
        all += sum.ports[i].n;
        if (i)
            CHECK(sum.ports[i - 1].n >= sum.ports[i].n);
    }
    CHECK_EQ(all, 2 * 20 * 21 / 2);                  /* nothing lost */
    CHECK(sum.ports_other > 0);
}

TEST(stats_sum_over_vcpus)
{
    static struct vcpu_stats a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    vcpu_stats_pio(&a, 0x80, true);
    vcpu_stats_pio(&b, 0x80, true);
    vcpu_stats_pio(&b, 0x80, false);
    vcpu_stats_exit(&a, KVM_EXIT_HLT);
    vcpu_stats_exit(&b, KVM_EXIT_HLT);
    struct vm_stats sum;
    memset(&sum, 0, sizeof(sum));
    vm_stats_add(&sum, &a);
    vm_stats_add(&sum, &b);
    vm_stats_sort(&sum);
    CHECK_EQ(sum.exits[KVM_EXIT_HLT], 2);
    CHECK_EQ(sum.nports, 2);
    CHECK_EQ(sum.ports[0].port, 0x80);
    CHECK_EQ(sum.ports[0].out, true);
    CHECK_EQ(sum.ports[0].n, 2);
    CHECK_EQ(sum.ports[1].n, 1);
}
