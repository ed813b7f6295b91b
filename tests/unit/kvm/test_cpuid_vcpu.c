/* The per-vCPU CPUID table (cpuid_for_vcpu) and vm_cpuid_set, over a
 * hand-made table: no /dev/kvm. */
#include <stdlib.h>
#include <string.h>

#include "kvm/cpuid.h"
#include "unit.h"

#define TABLE_MAX 256   /* what cpuid_init allocates */

static struct vm *vm_with(const struct kvm_cpuid_entry2 *e, unsigned n, int nr_vcpus)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    vm->cpuid = calloc(1, sizeof(*vm->cpuid) + TABLE_MAX * sizeof(vm->cpuid->entries[0]));
    if (n)
        memcpy(vm->cpuid->entries, e, n * sizeof(*e));
    vm->cpuid->nent = n;
    vm->nr_vcpus = nr_vcpus;
    return vm;
}

static void vm_free(struct vm *vm)
{
    free(vm->cpuid);
    free(vm);
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn && c->entries[i].index == idx)
            return &c->entries[i];
    return NULL;
}

static const struct kvm_cpuid_entry2 base[] = {
    { .function = 0, .eax = 0x1f },
    { .function = 1, .eax = 0x906ea, .ebx = 0xff00abcd, .ecx = 0x1234, .edx = 0x5678 },
    { .function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .ebx = 1, .ecx = 0x100, .edx = 0xee },
    { .function = 0xb, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 4, .ebx = 4, .ecx = 0x201, .edx = 0xee },
    { .function = 0x1f, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .edx = 0xee },
    { .function = 0x40000004, .eax = 0x58, .ebx = 0xdead, .ecx = 9 },
    { .function = 0x80000001, .ecx = 0x121, .edx = 0x2c100800 },
};
#define NBASE (sizeof(base) / sizeof(base[0]))

TEST(cpuid_for_vcpu_sets_initial_apic_id_in_leaf1)
{
    struct vm *vm = vm_with(base, NBASE, 6);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, 5);
    const struct kvm_cpuid_entry2 *e = find(c, 1, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->ebx >> 24, 5);                 /* initial APIC id */
        CHECK_EQ(e->ebx & 0xffff, 0xabcd);         /* brand index, CLFLUSH size kept */
        CHECK_EQ(e->eax, 0x906ea);
        CHECK_EQ(e->ecx, 0x1234);
        CHECK_EQ(e->edx, 0x5678);
    }
    free(c);
    vm_free(vm);
}

TEST(cpuid_for_vcpu_sets_x2apic_id_in_every_topology_subleaf)
{
    struct vm *vm = vm_with(base, NBASE, 8);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, 7);
    CHECK(find(c, 0xb, 0) && find(c, 0xb, 0)->edx == 7);
    CHECK(find(c, 0xb, 1) && find(c, 0xb, 1)->edx == 7);
    CHECK(find(c, 0x1f, 0) && find(c, 0x1f, 0)->edx == 7);
    CHECK(find(c, 0xb, 1) && find(c, 0xb, 1)->ecx == 0x201);
    free(c);
    vm_free(vm);
}

TEST(cpuid_for_vcpu_sets_xen_hvm_leaf_vcpu_id)
{
    struct vm *vm = vm_with(base, NBASE, 4);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, 3);
    const struct kvm_cpuid_entry2 *e = find(c, 0x40000004, 0);
    CHECK(e && e->ebx == 3);
    CHECK(e && e->eax == 0x58 && e->ecx == 9);
    free(c);
    vm_free(vm);
}

TEST(cpuid_for_vcpu_copies_everything_else_and_leaves_base_alone)
{
    struct vm *vm = vm_with(base, NBASE, 4);
    struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, 2);
    CHECK_EQ(c->nent, NBASE);
    const struct kvm_cpuid_entry2 *e = find(c, 0x80000001, 0);
    CHECK(e && !memcmp(e, &base[6], sizeof(*e)));
    CHECK(!memcmp(vm->cpuid->entries, base, sizeof(base)));   /* base table unpatched */
    free(c);
    vm_free(vm);
}

TEST(cpuid_for_vcpu_ids_differ_between_vcpus)
{
    struct vm *vm = vm_with(base, NBASE, 4);
    struct kvm_cpuid2 *a = cpuid_for_vcpu(vm, 0), *b = cpuid_for_vcpu(vm, 1);
    CHECK_EQ(find(a, 1, 0)->ebx >> 24, 0);
    CHECK_EQ(find(b, 1, 0)->ebx >> 24, 1);
    CHECK_EQ(find(a, 0xb, 0)->edx, 0);
    CHECK_EQ(find(b, 0xb, 0)->edx, 1);
    free(a);
    free(b);
    vm_free(vm);
}

TEST(vm_cpuid_set_adds_new_leaf)
{
    struct vm *vm = vm_with(base, NBASE, 1);
    vm_cpuid_set(vm, 0x40000010, 0, 1, 2, 3, 4);
    CHECK_EQ(vm->cpuid->nent, NBASE + 1);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000010, 0);
    CHECK(e && e->eax == 1 && e->ebx == 2 && e->ecx == 3 && e->edx == 4);
    CHECK(e && e->flags == 0);
    vm_free(vm);
}

TEST(vm_cpuid_set_overwrites_same_function_and_index_only)
{
    struct vm *vm = vm_with(base, NBASE, 1);
    vm_cpuid_set(vm, 0xb, 1, 9, 9, 9, 9);
    CHECK_EQ(vm->cpuid->nent, NBASE);
    CHECK(find(vm->cpuid, 0xb, 1)->eax == 9);
    CHECK(find(vm->cpuid, 0xb, 1)->flags == KVM_CPUID_FLAG_SIGNIFCANT_INDEX);   /* kept */
    CHECK(find(vm->cpuid, 0xb, 0)->eax == 1);
    vm_cpuid_set(vm, 0xb, 2, 5, 5, 5, 5);                                        /* new index */
    CHECK_EQ(vm->cpuid->nent, NBASE + 1);
    vm_free(vm);
}

TEST(vm_cpuid_set_full_table_drops_new_leaf_without_overflow)
{
    struct vm *vm = vm_with(NULL, 0, 1);
    for (uint32_t i = 0; i < TABLE_MAX; i++)
        vm_cpuid_set(vm, 0x80000000 + i, 0, i, 0, 0, 0);
    CHECK_EQ(vm->cpuid->nent, TABLE_MAX);
    vm_cpuid_set(vm, 0x40000000, 0, 1, 1, 1, 1);
    CHECK_EQ(vm->cpuid->nent, TABLE_MAX);
    CHECK(find(vm->cpuid, 0x40000000, 0) == NULL);
    vm_cpuid_set(vm, 0x80000005, 0, 77, 0, 0, 0);          /* existing: still updated */
    CHECK(find(vm->cpuid, 0x80000005, 0)->eax == 77);
    vm_free(vm);
}
