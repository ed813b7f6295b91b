/* PVH boot: the kernel and its modules into RAM, the memory map,
 * hvm_start_info, and vCPU 0 at XEN_ELFNOTE_PHYS32_ENTRY in 32-bit protected
 * mode. Where each piece goes is boot/layout.c's plan. */
#include "xen/domain.h"
#include "xen/acpi.h"
#include "boot/loader.h"
#include "common/file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/arch-x86/hvm/start_info.h>

/* The range Xen's PV shim copies its start info and AP trampoline into. */
#define SHIM_LOW_LO 0x1000ull
#define SHIM_LOW_HI 0x11000ull

static uint8_t *ram_at(void *opaque, uint64_t gpa, uint64_t len)
{
    struct domain *d = opaque;
    if (!len || !vm_gpa_is_ram(&d->vm, gpa) || !vm_gpa_is_ram(&d->vm, gpa + len - 1))
        return NULL;
    return vm_gpa(&d->vm, gpa, len);
}

static int ram_write(void *opaque, uint64_t gpa, const void *src, uint64_t len)
{
    return vm_write_ram(&((struct domain *)opaque)->vm, gpa, src, len) < 0 ? -1 : 0;
}

static int ram_zero(void *opaque, uint64_t gpa, uint64_t len)
{
    return vm_zero_ram(&((struct domain *)opaque)->vm, gpa, len) < 0 ? -1 : 0;
}

static void build_e820(struct domain *d)
{
    uint64_t low = d->vm.ram_size < VM_LOWMEM_END ? d->vm.ram_size : VM_LOWMEM_END;
    int n = 0;
    d->e820[n++] = (struct e820entry){ 0, low, E820_RAM };
    d->e820[n++] = (struct e820entry){ SPECIAL_PAGES_BASE, SPECIAL_NR_PAGES * PAGE_SIZE, E820_RESERVED };
    if (d->vm.ram_size > low)
        d->e820[n++] = (struct e820entry){ VM_HIGHMEM_BASE, d->vm.ram_size - low, E820_RAM };
    d->nr_e820 = n;
}

static void unmap_modules(const uint8_t **img, const size_t *len, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        file_unmap(img[i], len[i]);
}

int domain_pvh_boot(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen)
{
    char why[256];
    const uint8_t *img;
    size_t len;
    if (cfg->nr_modules > BOOT_MAX_MODULES) {
        snprintf(err, errlen, "%u boot modules (at most %u)", cfg->nr_modules, BOOT_MAX_MODULES);
        return -1;
    }
    if (file_map(cfg->kernel, LOADER_MAX_IMAGE, &img, &len, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "kernel %s", why);
        return -1;
    }
    struct guest_mem mem = { .opaque = d, .at = ram_at, .write = ram_write, .zero = ram_zero };
    struct kernel_info ki;
    int rc = kernel_load(img, len, &mem, &ki, why, sizeof(why));
    file_unmap(img, len);
    if (rc < 0) {
        snprintf(err, errlen, "kernel %s: %s", cfg->kernel, why);
        return -1;
    }
    build_e820(d);

    const uint8_t *mod[BOOT_MAX_MODULES] = { 0 };
    size_t mod_len[BOOT_MAX_MODULES] = { 0 };
    char names[BOOT_MAX_MODULES][300];
    struct boot_plan_in in = {
        .ram_end = d->e820[0].size, .kernel_lo = ki.paddr_lo, .kernel_hi = ki.paddr_hi,
        .cmdline = cfg->cmdline, .nr_memmap = d->nr_e820, .nr_modules = cfg->nr_modules,
    };
    if (cfg->keep_low_free) {
        in.keep_free_lo = SHIM_LOW_LO;
        in.keep_free_hi = SHIM_LOW_HI;
    }
    for (unsigned i = 0; i < cfg->nr_modules; i++) {
        const char *what = cfg->modules[i].what ? cfg->modules[i].what : "module";
        if (file_map(cfg->modules[i].path, LOADER_MAX_IMAGE, &mod[i], &mod_len[i], why,
                     sizeof(why)) < 0) {
            snprintf(err, errlen, "%s %s", what, why);
            unmap_modules(mod, mod_len, i);
            return -1;
        }
        snprintf(names[i], sizeof(names[i]), "%s %s", what, cfg->modules[i].path);
        in.module_name[i] = names[i];
        in.module_size[i] = mod_len[i];
        in.module_cmdline[i] = cfg->modules[i].cmdline;
    }
    struct boot_plan plan;
    if (boot_plan(&in, &plan, err, errlen) < 0) {
        unmap_modules(mod, mod_len, cfg->nr_modules);
        return -1;
    }

    /* As Xen's domain builder does: the start info in RAM, not in a special
     * page, so that an early kernel's first mappings reach it. */
    uint8_t *blk = vm_gpa(&d->vm, plan.info_gpa, plan.info_size);
    memset(blk, 0, plan.info_size);
    struct hvm_start_info *si = (struct hvm_start_info *)blk;
    si->magic = XEN_HVM_START_MAGIC_VALUE;
    si->version = 1;
    strcpy((char *)blk + plan.cmdline_off, cfg->cmdline ? cfg->cmdline : "");
    si->cmdline_paddr = plan.info_gpa + plan.cmdline_off;

    struct hvm_memmap_table_entry *mm = (void *)(blk + plan.memmap_off);
    for (int i = 0; i < d->nr_e820; i++)
        mm[i] = (struct hvm_memmap_table_entry){ .addr = d->e820[i].addr, .size = d->e820[i].size,
            .type = d->e820[i].type == E820_RAM ? XEN_HVM_MEMMAP_TYPE_RAM : XEN_HVM_MEMMAP_TYPE_RESERVED };
    si->memmap_paddr = plan.info_gpa + plan.memmap_off;
    si->memmap_entries = d->nr_e820;
    si->rsdp_paddr = acpi_build(domain_special_page(d, SPECIAL_ACPI), 2 * PAGE_SIZE,
                                SPECIAL_PAGES_BASE + SPECIAL_ACPI * PAGE_SIZE, d->vm.nr_vcpus);
    if (!si->rsdp_paddr) {
        snprintf(err, errlen, "cannot build ACPI tables for %d vCPUs", d->vm.nr_vcpus);
        unmap_modules(mod, mod_len, cfg->nr_modules);
        return -1;
    }

    struct hvm_modlist_entry *ml = (void *)(blk + plan.modlist_off);
    for (unsigned i = 0; i < cfg->nr_modules; i++) {
        /* Through the memfd: no fault for each page of a large initramfs. */
        rc = vm_write_ram(&d->vm, plan.module_gpa[i], mod[i], in.module_size[i]);
        if (rc < 0) {
            snprintf(err, errlen, "%s: cannot write guest RAM: %s", in.module_name[i], strerror(-rc));
            unmap_modules(mod, mod_len, cfg->nr_modules);
            return -1;
        }
        ml[i].paddr = plan.module_gpa[i];
        ml[i].size = in.module_size[i];
        if (plan.module_cmdline_off[i]) {
            strcpy((char *)blk + plan.module_cmdline_off[i], cfg->modules[i].cmdline);
            ml[i].cmdline_paddr = plan.info_gpa + plan.module_cmdline_off[i];
        }
    }
    unmap_modules(mod, mod_len, cfg->nr_modules);
    if (cfg->nr_modules) {
        si->modlist_paddr = plan.info_gpa + plan.modlist_off;
        si->nr_modules = cfg->nr_modules;
    }
    if (vcpu_reset_flat32(&d->vm.vcpus[0], ki.pvh_entry, (uint32_t)plan.info_gpa) < 0) {
        snprintf(err, errlen, "cannot set vCPU 0 registers");
        return -1;
    }
    return 0;
}
