/* RAM frame tracking (src/kvm/ram_frames.c) over a hand-built VM: release and
 * restore, what vm_gpa then answers, the count of present frames. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm/vm.h"
#include "unit.h"

#define RAM_GPA   0x100000ull
#define RAM_PAGES 64
#define GFN0      (RAM_GPA >> 12)

struct fix {
    struct vm vm;
    uint8_t *ram, *special;
};

static struct fix *fix_new(void)
{
    struct fix *f = calloc(1, sizeof(*f));
    /* Shared memory, like the memfd: MADV_REMOVE punches it out. */
    f->ram = mmap(NULL, RAM_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    f->special = calloc(1, 4096);
    f->vm.ram_size = RAM_PAGES * 4096;
    f->vm.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_PAGES * 4096,
                                            .host = f->ram, .ram = true,
                                            .absent = vm_frames_alloc(RAM_PAGES * 4096) };
    f->vm.regions[1] = (struct mem_region){ .gpa = 0xfeff0000, .size = 4096, .host = f->special };
    f->vm.nr_regions = 2;
    return f;
}

static void fix_free(struct fix *f)
{
    munmap(f->ram, RAM_PAGES * 4096);
    free(f->vm.regions[0].absent);
    free(f->special);
    free(f);
}

TEST(ram_frames_all_present_at_start)
{
    struct fix *f = fix_new();
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES);
    for (unsigned i = 0; i < RAM_PAGES; i++)
        CHECK_EQ(vm_ram_present(&f->vm, GFN0 + i), 1);
    CHECK(vm_gpa(&f->vm, RAM_GPA, RAM_PAGES * 4096) == f->ram);
    fix_free(f);
}

TEST(ram_frames_release_refuses_the_frame_in_vm_gpa)
{
    struct fix *f = fix_new();
    memset(f->ram + 5 * 4096, 0xab, 4096);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 5), 0);
    CHECK_EQ(vm_ram_present(&f->vm, GFN0 + 5), 0);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES - 1);
    CHECK(vm_gpa(&f->vm, RAM_GPA + 5 * 4096, 1) == NULL);
    CHECK(vm_gpa(&f->vm, RAM_GPA + 5 * 4096 + 4095, 1) == NULL);
    /* a range that only touches it */
    CHECK(vm_gpa(&f->vm, RAM_GPA + 4 * 4096 + 4000, 200) == NULL);
    CHECK(vm_gpa(&f->vm, RAM_GPA, RAM_PAGES * 4096) == NULL);
    /* its neighbours are untouched */
    CHECK(vm_gpa(&f->vm, RAM_GPA + 4 * 4096, 4096) == f->ram + 4 * 4096);
    CHECK(vm_gpa(&f->vm, RAM_GPA + 6 * 4096, 4096) == f->ram + 6 * 4096);
    /* still RAM: a released frame is a hole in RAM, not something else */
    CHECK(vm_gpa_is_ram(&f->vm, RAM_GPA + 5 * 4096));
    /* the memory went back: the page reads zeros */
    CHECK_EQ(f->ram[5 * 4096], 0);
    fix_free(f);
}

TEST(ram_frames_release_twice_enoent_count_once)
{
    struct fix *f = fix_new();
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 7), 0);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 7), -ENOENT);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES - 1);
    fix_free(f);
}

TEST(ram_frames_restore_gives_zeros_and_counts)
{
    struct fix *f = fix_new();
    CHECK_EQ(vm_ram_restore(&f->vm, GFN0 + 3), -EEXIST);     /* present */
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 3), 0);
    /* the guest writes into the hole: the write lands, uncounted... */
    memset(f->ram + 3 * 4096, 0x5a, 16);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES - 1);
    /* ...and is gone once the frame is populated again */
    CHECK_EQ(vm_ram_restore(&f->vm, GFN0 + 3), 0);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES);
    CHECK_EQ(f->ram[3 * 4096], 0);
    CHECK(vm_gpa(&f->vm, RAM_GPA + 3 * 4096, 4096) == f->ram + 3 * 4096);
    CHECK_EQ(vm_ram_restore(&f->vm, GFN0 + 3), -EEXIST);
    fix_free(f);
}

TEST(ram_frames_refuse_what_is_not_ram)
{
    struct fix *f = fix_new();
    CHECK_EQ(vm_ram_release(&f->vm, 0xfeff0), -EINVAL);          /* special page */
    CHECK_EQ(vm_ram_restore(&f->vm, 0xfeff0), -EINVAL);
    CHECK_EQ(vm_ram_present(&f->vm, 0xfeff0), -EINVAL);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 - 1), -EINVAL);         /* just below RAM */
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + RAM_PAGES), -EINVAL); /* just above */
    CHECK_EQ(vm_ram_release(&f->vm, ~0ull), -EINVAL);
    CHECK_EQ(vm_ram_release(&f->vm, 1ull << 52), -EINVAL);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES);
    fix_free(f);
}

TEST(ram_frames_first_and_last_frame)
{
    struct fix *f = fix_new();
    CHECK_EQ(vm_ram_release(&f->vm, GFN0), 0);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + RAM_PAGES - 1), 0);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 63), -ENOENT);        /* the 64th bit of a word */
    CHECK(vm_gpa(&f->vm, RAM_GPA, 1) == NULL);
    CHECK(vm_gpa(&f->vm, RAM_GPA + (RAM_PAGES - 1) * 4096ull, 4096) == NULL);
    CHECK(vm_gpa(&f->vm, RAM_GPA + 4096, (RAM_PAGES - 2) * 4096ull) == f->ram + 4096);
    CHECK_EQ(vm_ram_present_pages(&f->vm), RAM_PAGES - 2);
    fix_free(f);
}
