/* Where a PVH boot puts what the kernel is handed besides its own image: the
 * hvm_start_info block (start info, memory map, module list, command lines)
 * and the modules. Pure arithmetic, unit-tested without KVM.
 *
 * The block goes on the page after the kernel image, where an early kernel's
 * first page tables reach (Linux maps its first GiB when it reads it); the
 * modules go at the top of low RAM, the last module highest, each page-aligned
 * (Xen's PV shim relocates them itself; Linux takes its ramdisk where it is). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define BOOT_MAX_MODULES   4
#define BOOT_CMDLINE_MAX   4095   /* bytes of one command line, without its NUL */
#define BOOT_MAX_MEMMAP    8

struct boot_plan_in {
    uint64_t ram_end;             /* end of the RAM that starts at 0 */
    uint64_t kernel_lo, kernel_hi;/* the loaded kernel image [lo, hi) */
    /* A range nothing may be placed in (both 0: none). Xen's PV shim copies
     * its start info and AP trampoline to [0x1000, 0x11000). */
    uint64_t keep_free_lo, keep_free_hi;
    const char *cmdline;          /* the start info's command line (NULL: "") */
    unsigned nr_memmap;           /* memory map entries */
    unsigned nr_modules;
    uint64_t module_size[BOOT_MAX_MODULES];
    const char *module_cmdline[BOOT_MAX_MODULES];  /* NULL: none */
    const char *module_name[BOOT_MAX_MODULES];     /* for messages ("ramdisk /x.img") */
};

struct boot_plan {
    uint64_t info_gpa, info_size; /* the whole block, page-aligned */
    /* Offsets from info_gpa. */
    uint64_t memmap_off, modlist_off, cmdline_off;
    uint64_t module_cmdline_off[BOOT_MAX_MODULES];  /* 0: none */
    uint64_t module_gpa[BOOT_MAX_MODULES];
};

/* Plans the layout. Returns 0, or -1 with err naming what does not fit and
 * why (e.g. "ramdisk /x.img: 300 MiB do not fit in guest RAM above the kernel
 * (raise memory)"). */
int boot_plan(const struct boot_plan_in *in, struct boot_plan *out, char *err, size_t errlen);
