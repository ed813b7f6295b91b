/* The PVH boot layout: the start-info block after the kernel, modules at the
 * top of low RAM (see layout.h). */
#include "boot/layout.h"
#include "boot/seterr.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <xen/arch-x86/hvm/start_info.h>

#define PAGE 4096ull

static uint64_t up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* [lo, hi) overlaps the range nothing may use. */
static int overlaps_keep_free(const struct boot_plan_in *in, uint64_t lo, uint64_t hi)
{
    return in->keep_free_hi > in->keep_free_lo && lo < in->keep_free_hi && in->keep_free_lo < hi;
}

static const char *module_name(const struct boot_plan_in *in, unsigned i, char *buf, size_t len)
{
    if (in->module_name[i])
        return in->module_name[i];
    snprintf(buf, len, "module %u", i);
    return buf;
}

int boot_plan(const struct boot_plan_in *in, struct boot_plan *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (in->nr_modules > BOOT_MAX_MODULES || in->nr_memmap > BOOT_MAX_MEMMAP) {
        boot_seterr(err, errlen, "boot layout: %u modules and %u memory map entries (at most %u and %u)",
                    in->nr_modules, in->nr_memmap, BOOT_MAX_MODULES, BOOT_MAX_MEMMAP);
        return -1;
    }
    /* The block: start info, memory map, module list, then the command lines. */
    uint64_t off = up(sizeof(struct hvm_start_info), 16);
    out->memmap_off = off;
    off += (uint64_t)in->nr_memmap * sizeof(struct hvm_memmap_table_entry);
    out->modlist_off = off = up(off, 16);
    off += (uint64_t)in->nr_modules * sizeof(struct hvm_modlist_entry);
    const char *cmdline = in->cmdline ? in->cmdline : "";
    size_t n = strlen(cmdline);
    if (n > BOOT_CMDLINE_MAX) {
        boot_seterr(err, errlen, "command line: %zu bytes is longer than the %u allowed", n,
                    BOOT_CMDLINE_MAX);
        return -1;
    }
    out->cmdline_off = off;
    off += n + 1;
    char name[32];
    for (unsigned i = 0; i < in->nr_modules; i++) {
        if (!in->module_cmdline[i])
            continue;
        n = strlen(in->module_cmdline[i]);
        if (n > BOOT_CMDLINE_MAX) {
            boot_seterr(err, errlen, "%s: command line of %zu bytes is longer than the %u allowed",
                        module_name(in, i, name, sizeof(name)), n, BOOT_CMDLINE_MAX);
            return -1;
        }
        out->module_cmdline_off[i] = off;
        off += n + 1;
    }
    out->info_size = up(off, PAGE);
    out->info_gpa = up(in->kernel_hi, PAGE);
    uint64_t info_end = out->info_gpa + out->info_size;
    if (info_end < out->info_gpa || info_end > in->ram_end) {
        boot_seterr(err, errlen, "no room after the kernel (ends at %#" PRIx64 ") for the start info "
                    "in %" PRIu64 " MiB of low RAM (raise memory)", in->kernel_hi, in->ram_end >> 20);
        return -1;
    }
    if (overlaps_keep_free(in, in->kernel_lo, in->kernel_hi) ||
        overlaps_keep_free(in, out->info_gpa, info_end)) {
        boot_seterr(err, errlen, "the kernel [%#" PRIx64 ", %#" PRIx64 ") or its start info would "
                    "use [%#" PRIx64 ", %#" PRIx64 "), which must stay free",
                    in->kernel_lo, info_end, in->keep_free_lo, in->keep_free_hi);
        return -1;
    }
    /* Modules downwards from the top of low RAM, the last one highest. */
    uint64_t top = in->ram_end & ~(PAGE - 1);
    for (unsigned k = in->nr_modules; k-- > 0;) {
        uint64_t size = in->module_size[k];
        if (!size) {
            boot_seterr(err, errlen, "%s is empty", module_name(in, k, name, sizeof(name)));
            return -1;
        }
        uint64_t span = up(size, PAGE);
        if (span < size || top < info_end || span > top - info_end ||
            overlaps_keep_free(in, top - span, top)) {
            boot_seterr(err, errlen, "%s: %" PRIu64 " bytes do not fit in guest RAM above the kernel "
                        "(raise memory)", module_name(in, k, name, sizeof(name)), size);
            return -1;
        }
        top -= span;
        out->module_gpa[k] = top;
    }
    return 0;
}
