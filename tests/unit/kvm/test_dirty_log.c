/* xenkvm's own half of the dirty log (src/kvm/dirty_log.c) over a hand-built
 * VM (KVM's half needs /dev/kvm: tests/test_migrate.py): while logging is on,
 * the frames vm_gpa hands out and the frames released or populated again are
 * marked, only RAM frames, only those touched; while it is off, none. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kvm/vm.h"
#include "unit.h"

#define RAM_GPA   0x100000ull
#define RAM_PAGES 130
#define GFN0      (RAM_GPA >> 12)

struct fix {
    struct vm vm;
    uint8_t *ram, *special;
};

static struct fix *fix_new(void)
{
    struct fix *f = calloc(1, sizeof(*f));
    f->ram = mmap(NULL, RAM_PAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    f->special = calloc(1, 4096);
    f->vm.ram_size = RAM_PAGES * 4096;
    f->vm.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_PAGES * 4096,
                                            .host = f->ram, .ram = true,
                                            .absent = vm_frames_alloc(RAM_PAGES * 4096),
                                            .dirty = vm_frames_alloc(RAM_PAGES * 4096) };
    f->vm.regions[1] = (struct mem_region){ .gpa = 0xfeff0000, .size = 4096, .host = f->special };
    f->vm.nr_regions = 2;
    return f;
}

static void fix_free(struct fix *f)
{
    munmap(f->ram, RAM_PAGES * 4096);
    free(f->vm.regions[0].absent);
    free(f->vm.regions[0].dirty);
    free(f->special);
    free(f);
}

static unsigned marked(struct fix *f)
{
    unsigned n = 0;
    for (unsigned i = 0; i < (RAM_PAGES + 63) / 64; i++)
        n += (unsigned)__builtin_popcountll(f->vm.regions[0].dirty[i]);
    return n;
}

static bool is_marked(struct fix *f, unsigned frame)
{
    return f->vm.regions[0].dirty[frame / 64] >> (frame % 64) & 1;
}

TEST(dirty_log_off_marks_nothing)
{
    struct fix *f = fix_new();
    CHECK(vm_gpa(&f->vm, RAM_GPA, 4096) == f->ram);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 3), 0);
    CHECK_EQ(vm_ram_restore(&f->vm, GFN0 + 3), 0);
    vm_mark_dirty(&f->vm, RAM_GPA, 4096);
    CHECK_EQ(marked(f), 0);
    fix_free(f);
}

TEST(dirty_log_vm_gpa_marks_the_frames_it_hands_out)
{
    struct fix *f = fix_new();
    atomic_store(&f->vm.dirty_logging, true);
    /* 100 bytes across the boundary of frames 64 and 65 (the second word) */
    CHECK(vm_gpa(&f->vm, RAM_GPA + 65 * 4096 - 50, 100) != NULL);
    CHECK_EQ(marked(f), 2);
    CHECK(is_marked(f, 64) && is_marked(f, 65));
    /* the last frame; a special page is no RAM: not marked */
    CHECK(vm_gpa(&f->vm, RAM_GPA + (RAM_PAGES - 1) * 4096 + 4095, 1) != NULL);
    CHECK(is_marked(f, RAM_PAGES - 1));
    CHECK(vm_gpa(&f->vm, 0xfeff0000, 4096) == f->special);
    CHECK_EQ(marked(f), 3);
    /* a refused range marks nothing */
    CHECK(vm_gpa(&f->vm, RAM_GPA + RAM_PAGES * 4096 - 10, 20) == NULL);
    CHECK_EQ(marked(f), 3);
    fix_free(f);
}

TEST(dirty_log_release_and_restore_mark_the_frame)
{
    struct fix *f = fix_new();
    atomic_store(&f->vm.dirty_logging, true);
    CHECK_EQ(vm_ram_release(&f->vm, GFN0 + 7), 0);
    CHECK(is_marked(f, 7));
    f->vm.regions[0].dirty[0] = 0;
    CHECK_EQ(vm_ram_restore(&f->vm, GFN0 + 7), 0);
    CHECK(is_marked(f, 7));
    CHECK_EQ(marked(f), 1);
    fix_free(f);
}

TEST(dirty_log_ram_regions_in_order)
{
    struct fix *f = fix_new();
    const struct mem_region *r[4];
    CHECK_EQ(vm_ram_regions(&f->vm, r, 4), 1);
    CHECK(r[0] == &f->vm.regions[0]);
    fix_free(f);
}
