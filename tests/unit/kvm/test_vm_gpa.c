/* vm_gpa / vm_gpa_is_ram over a hand-built region table (no /dev/kvm). */
#include <stdlib.h>
#include <string.h>

#include "kvm/vm.h"
#include "unit.h"

static struct vm *two_regions(uint8_t **low, uint8_t **high)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    *low = calloc(1, 0x10000);
    *high = calloc(1, 0x2000);
    vm->regions[0] = (struct mem_region){ .gpa = 0x100000, .size = 0x10000, .host = *low, .ram = true };
    vm->regions[1] = (struct mem_region){ .gpa = 0xfeff0000, .size = 0x2000, .host = *high, .ram = false };
    vm->nr_regions = 2;
    return vm;
}

TEST(vm_gpa_maps_inside_a_region)
{
    uint8_t *lo, *hi;
    struct vm *vm = two_regions(&lo, &hi);
    CHECK(vm_gpa(vm, 0x100000, 1) == lo);
    CHECK(vm_gpa(vm, 0x100000 + 0x1234, 16) == lo + 0x1234);
    CHECK(vm_gpa(vm, 0x10ffff, 1) == lo + 0xffff);          /* last byte */
    CHECK(vm_gpa(vm, 0x100000, 0x10000) == lo);             /* whole region */
    CHECK(vm_gpa(vm, 0xfeff1000, 8) == hi + 0x1000);
    free(lo); free(hi); free(vm);
}

TEST(vm_gpa_refuses_ranges_leaving_a_region)
{
    uint8_t *lo, *hi;
    struct vm *vm = two_regions(&lo, &hi);
    CHECK(vm_gpa(vm, 0x10ffff, 2) == NULL);
    CHECK(vm_gpa(vm, 0x100000, 0x10001) == NULL);
    CHECK(vm_gpa(vm, 0xfffff, 1) == NULL);                  /* just below */
    CHECK(vm_gpa(vm, 0x110000, 1) == NULL);                 /* just above */
    CHECK(vm_gpa(vm, 0x100000, ~0ull) == NULL);             /* no wrap-around */
    CHECK(vm_gpa(vm, ~0ull, 2) == NULL);
    free(lo); free(hi); free(vm);
}

TEST(vm_gpa_is_ram_only_for_ram_regions)
{
    uint8_t *lo, *hi;
    struct vm *vm = two_regions(&lo, &hi);
    CHECK(vm_gpa_is_ram(vm, 0x100000));
    CHECK(vm_gpa_is_ram(vm, 0x10ffff));
    CHECK(!vm_gpa_is_ram(vm, 0x110000));
    CHECK(!vm_gpa_is_ram(vm, 0xfeff0000));                  /* mapped, but not RAM */
    CHECK(!vm_gpa_is_ram(vm, 0));
    free(lo); free(hi); free(vm);
}

TEST(vm_gpa_with_no_regions_is_null)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    CHECK(vm_gpa(vm, 0, 1) == NULL);
    CHECK(!vm_gpa_is_ram(vm, 0));
    free(vm);
}
