/* Xen's CPUID leaves at 0x40000000 (src/xen/cpuid_leaves.c) over a hand-made
 * struct vm whose table holds a few fake host leaves, as cpuid_init would
 * leave it (plus, in one case, the KVM signature cpuid_init would drop). */
#include <stdlib.h>
#include <string.h>
#include <xen/arch-x86/cpuid.h>

#include "kvm/cpuid.h"
#include "unit.h"
#include "xen/domain.h"

#define TABLE_MAX 256
#define DOMID 9

static struct vm *vm_with(const struct kvm_cpuid_entry2 *host, unsigned n)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    vm->cpuid = calloc(1, sizeof(*vm->cpuid) + TABLE_MAX * sizeof(vm->cpuid->entries[0]));
    if (n)
        memcpy(vm->cpuid->entries, host, n * sizeof(*host));
    vm->cpuid->nent = n;
    vm->nr_vcpus = 4;
    vm->tsc_khz = 2400000;
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

static unsigned count_fn(const struct kvm_cpuid2 *c, uint32_t fn)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < c->nent; i++)
        n += c->entries[i].function == fn;
    return n;
}

static const struct kvm_cpuid_entry2 host_leaves[] = {
    { .function = 0, .eax = 0xd, .ebx = 0x756e6547, .ecx = 0x6c65746e, .edx = 0x49656e69 },
    { .function = 1, .eax = 0x906ea, .ebx = 0x00100800, .ecx = 0x7ffafbff, .edx = 0xbfebfbff },
    { .function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .ebx = 1, .ecx = 0x100 },
    { .function = 0xb, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 4, .ebx = 4, .ecx = 0x201 },
    { .function = 0x80000000, .eax = 0x80000008 },
};
#define NHOST (sizeof(host_leaves) / sizeof(host_leaves[0]))

TEST(cpuid_xen_signature_and_max_leaf)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000000, 0);
    CHECK(e != NULL);
    if (e) {
        char sig[13] = { 0 };
        memcpy(sig, &e->ebx, 4);
        memcpy(sig + 4, &e->ecx, 4);
        memcpy(sig + 8, &e->edx, 4);
        CHECK_STR(sig, "XenVMMXenVMM");
        CHECK_EQ(e->ebx, XEN_CPUID_SIGNATURE_EBX);
        CHECK_EQ(e->ecx, XEN_CPUID_SIGNATURE_ECX);
        CHECK_EQ(e->edx, XEN_CPUID_SIGNATURE_EDX);
        /* Xen 4.17: XEN_CPUID_MAX_NUM_LEAVES 5 -> eax = base + 5 */
        CHECK_EQ(e->eax, 0x40000000u + XEN_CPUID_MAX_NUM_LEAVES);
    }
    vm_free(vm);
}

TEST(cpuid_version_leaf_is_4_17)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000001, 0);
    CHECK(e && e->eax == 0x00040011);
    CHECK(e && e->ebx == 0 && e->ecx == 0 && e->edx == 0);
    vm_free(vm);
}

TEST(cpuid_hypercall_leaf_one_page_at_msr_40000000)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000002, 0);
    CHECK(e && e->eax == 1);
    CHECK(e && e->ebx == 0x40000000);
    vm_free(vm);
}

TEST(cpuid_time_leaf_reports_tsc_khz)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *s0 = find(vm->cpuid, 0x40000003, 0);
    const struct kvm_cpuid_entry2 *s2 = find(vm->cpuid, 0x40000003, 2);
    CHECK(s0 && s0->ecx == 2400000);      /* guest TSC kHz */
    CHECK(s2 && s2->eax == 2400000);      /* host TSC kHz */
    vm_free(vm);
}

/* Regression (was a bug):
 * KVM matches a CPUID entry on index only when the entry has
 * KVM_CPUID_FLAG_SIGNIFCANT_INDEX (arch/x86/kvm/cpuid.c, cpuid_entry2_find;
 * is_matching_cpuid_entry in older kernels); otherwise the first entry with the
 * function wins. Leaf 0x40000003 has sub-leaves 0 and 2 (and 1 in Xen), but
 * they are added with flags = 0, so a guest's CPUID(0x40000003, ecx=2) returns
 * sub-leaf 0 (eax = 0) instead of the TSC kHz Xen reports (public
 * arch-x86/cpuid.h: "Sub-leaf 2: EAX: host tsc frequency in kHz"). */
TEST(cpuid_time_subleaves_marked_index_significant)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *s0 = find(vm->cpuid, 0x40000003, 0);
    const struct kvm_cpuid_entry2 *s2 = find(vm->cpuid, 0x40000003, 2);
    CHECK(s0 && (s0->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
    CHECK(s2 && (s2->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX));
    vm_free(vm);
}

TEST(cpuid_hvm_leaf_flags_and_domid)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000004, 0);
    CHECK(e != NULL);
    if (e) {
        CHECK(e->eax & XEN_HVM_CPUID_VCPU_ID_PRESENT);
        CHECK(e->eax & XEN_HVM_CPUID_DOMID_PRESENT);
        CHECK(e->eax & XEN_HVM_CPUID_UPCALL_VECTOR);
        CHECK_EQ(e->ecx, DOMID);
    }
    vm_free(vm);
}

TEST(cpuid_hvm_leaf_vcpu_id_per_vcpu)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    for (int id = 0; id < 4; id++) {
        struct kvm_cpuid2 *c = cpuid_for_vcpu(vm, id);
        const struct kvm_cpuid_entry2 *e = find(c, 0x40000004, 0);
        CHECK(e && e->ebx == (uint32_t)id);
        CHECK(e && e->ecx == DOMID);
        free(c);
    }
    vm_free(vm);
}

TEST(cpuid_sets_hypervisor_bit_keeping_other_leaf1_bits)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 1, 0);
    CHECK(e && e->ecx == (0x7ffafbffu | 1u << 31));
    CHECK(e && e->edx == 0xbfebfbff);
    vm_free(vm);
}

/* A leftover KVM signature leaf is replaced, not shadowed by a second entry
 * (KVM would answer with the first one). */
TEST(cpuid_replaces_kvm_signature_leaf)
{
    struct kvm_cpuid_entry2 host[NHOST + 2];
    memcpy(host, host_leaves, sizeof(host_leaves));
    host[NHOST] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001 };
    memcpy(&host[NHOST].ebx, "KVMKVMKVM\0\0\0", 12);
    host[NHOST + 1] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x01007afb };
    struct vm *vm = vm_with(host, NHOST + 2);
    xen_cpuid_leaves(vm, DOMID);
    CHECK_EQ(count_fn(vm->cpuid, 0x40000000), 1);
    CHECK_EQ(count_fn(vm->cpuid, 0x40000001), 1);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0x40000000, 0);
    CHECK(e && e->ebx == XEN_CPUID_SIGNATURE_EBX);
    e = find(vm->cpuid, 0x40000001, 0);
    CHECK(e && e->eax == 0x00040011);
    vm_free(vm);
}

TEST(cpuid_leaves_added_to_empty_table)
{
    struct vm *vm = vm_with(NULL, 0);
    xen_cpuid_leaves(vm, DOMID);
    CHECK(find(vm->cpuid, 1, 0) == NULL);      /* no leaf 1 invented */
    for (uint32_t fn = 0x40000000; fn <= 0x40000005; fn++)
        CHECK_EQ(count_fn(vm->cpuid, fn), fn == 0x40000003 ? 2 : 1);
    CHECK_EQ(vm->cpuid->nent, 7);
    vm_free(vm);
}

TEST(cpuid_leaves_keep_host_leaves)
{
    struct vm *vm = vm_with(host_leaves, NHOST);
    xen_cpuid_leaves(vm, DOMID);
    CHECK_EQ(vm->cpuid->nent, NHOST + 7);
    const struct kvm_cpuid_entry2 *e = find(vm->cpuid, 0xb, 1);
    CHECK(e && e->eax == 4 && e->ecx == 0x201);
    e = find(vm->cpuid, 0x80000000, 0);
    CHECK(e && e->eax == 0x80000008);
    vm_free(vm);
}
