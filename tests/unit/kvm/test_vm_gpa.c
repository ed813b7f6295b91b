/* vm_gpa / vm_gpa_is_ram and bulk RAM writes over a hand-built region table
 * (no /dev/kvm). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* vm_write_ram / vm_zero_ram: bulk loading through the memfd, over a RAM
 * region at gpa 0x100000 whose memfd slice starts at offset 0x3000. */
static struct vm *memfd_region(uint8_t **host)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    vm->mem_fd = memfd_create("test", MFD_CLOEXEC);
    CHECK(ftruncate(vm->mem_fd, 0x3000 + 0x10000) == 0);
    *host = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, vm->mem_fd, 0x3000);
    vm->regions[0] = (struct mem_region){ .gpa = 0x100000, .size = 0x10000, .fd_offset = 0x3000,
                                          .host = *host, .ram = true };
    vm->regions[1] = (struct mem_region){ .gpa = 0xfeff0000, .size = 0x1000, .fd_offset = 0,
                                          .host = *host, .ram = false };
    vm->nr_regions = 2;
    return vm;
}

static void memfd_free(struct vm *vm, uint8_t *host)
{
    munmap(host, 0x10000);
    close(vm->mem_fd);
    free(vm);
}

TEST(vm_write_ram_lands_at_the_guest_address)
{
    uint8_t *h;
    struct vm *vm = memfd_region(&h);
    uint8_t buf[5000];
    for (unsigned i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 13 + 1);
    CHECK_EQ(vm_write_ram(vm, 0x100ffe, buf, sizeof(buf)), 0);   /* across pages */
    CHECK(!memcmp(h + 0xffe, buf, sizeof(buf)));
    CHECK_EQ(vm_write_ram(vm, 0x10fff0, buf, 16), 0);            /* the last bytes */
    CHECK(!memcmp(h + 0xfff0, buf, 16));
    CHECK_EQ(vm_write_ram(vm, 0x10fff0, buf, 17), -EFAULT);      /* one past the end */
    CHECK_EQ(vm_write_ram(vm, 0xfeff0000, buf, 16), -EFAULT);    /* not RAM */
    CHECK_EQ(vm_write_ram(vm, 0xff000, buf, 16), -EFAULT);       /* outside */
    memfd_free(vm, h);
}

TEST(vm_zero_ram_clears_exactly_the_range)
{
    uint8_t *h;
    struct vm *vm = memfd_region(&h);
    /* Ranges with and without whole pages inside, aligned and not. */
    static const struct { uint64_t off, len; } cases[] = {
        { 0x10, 0x20 }, { 0xff0, 0x20 }, { 0x1000, 0x1000 }, { 0x800, 0x3900 },
        { 0x1ff8, 0x2010 }, { 0, 0x10000 }, { 0x5000, 0 },
    };
    for (unsigned c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memset(h, 0xa5, 0x10000);
        CHECK_EQ(vm_zero_ram(vm, 0x100000 + cases[c].off, cases[c].len), 0);
        for (uint64_t i = 0; i < 0x10000; i++) {
            bool in = i >= cases[c].off && i < cases[c].off + cases[c].len;
            if (h[i] != (in ? 0 : 0xa5)) {
                CHECK_EQ(h[i], in ? 0 : 0xa5);
                CHECK_EQ(i, c * 0x100000);     /* names the byte and case */
                break;
            }
        }
    }
    CHECK_EQ(vm_zero_ram(vm, 0x10f000, 0x1001), -EFAULT);
    memfd_free(vm, h);
}
