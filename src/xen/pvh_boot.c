/* PVH boot: kernel and ramdisk into RAM, the memory map, hvm_start_info, and
 * vCPU 0 at XEN_ELFNOTE_PHYS32_ENTRY in 32-bit protected mode. */
#include "xen/domain.h"
#include "xen/acpi.h"
#include "boot/loader.h"
#include "common/file.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/arch-x86/hvm/start_info.h>

/* Layout of the start-info page. */
#define SI_MEMMAP_OFF  0x100
#define SI_MODLIST_OFF 0x300
#define SI_CMDLINE_OFF 0x400
#define SI_CMDLINE_MAX (PAGE_SIZE - SI_CMDLINE_OFF)

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

int domain_pvh_boot(struct domain *d, const struct domain_config *cfg, char *err, size_t errlen)
{
    char why[256];
    const uint8_t *img;
    size_t len;
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

    /* As Xen's domain builder does: start info, memory map and command line in
     * RAM right after the kernel, where an early kernel's first page tables
     * reach (Linux maps only its first GiB when it reads them). */
    uint64_t si_gpa = (ki.paddr_hi + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    uint8_t *si_page = vm_gpa(&d->vm, si_gpa, PAGE_SIZE);
    if (!si_page || !vm_gpa_is_ram(&d->vm, si_gpa)) {
        snprintf(err, errlen, "kernel %s: no room after the kernel for the start info "
                 "(raise memory)", cfg->kernel);
        return -1;
    }
    memset(si_page, 0, PAGE_SIZE);
    struct hvm_start_info *si = (struct hvm_start_info *)si_page;
    si->magic = XEN_HVM_START_MAGIC_VALUE;
    si->version = 1;

    const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
    if (strlen(cmdline) >= SI_CMDLINE_MAX) {
        snprintf(err, errlen, "command line: %zu bytes is longer than the %llu allowed",
                 strlen(cmdline), (unsigned long long)SI_CMDLINE_MAX - 1);
        return -1;
    }
    strcpy((char *)si_page + SI_CMDLINE_OFF, cmdline);
    si->cmdline_paddr = si_gpa + SI_CMDLINE_OFF;

    struct hvm_memmap_table_entry *mm = (void *)(si_page + SI_MEMMAP_OFF);
    for (int i = 0; i < d->nr_e820; i++)
        mm[i] = (struct hvm_memmap_table_entry){ .addr = d->e820[i].addr, .size = d->e820[i].size,
            .type = d->e820[i].type == E820_RAM ? XEN_HVM_MEMMAP_TYPE_RAM : XEN_HVM_MEMMAP_TYPE_RESERVED };
    si->memmap_paddr = si_gpa + SI_MEMMAP_OFF;
    si->memmap_entries = d->nr_e820;
    si->rsdp_paddr = acpi_build(domain_special_page(d, SPECIAL_ACPI), 2 * PAGE_SIZE,
                                SPECIAL_PAGES_BASE + SPECIAL_ACPI * PAGE_SIZE, d->vm.nr_vcpus);
    if (!si->rsdp_paddr) {
        snprintf(err, errlen, "cannot build ACPI tables for %d vCPUs", d->vm.nr_vcpus);
        return -1;
    }

    if (cfg->ramdisk) {
        if (file_map(cfg->ramdisk, LOADER_MAX_IMAGE, &img, &len, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "ramdisk %s", why);
            return -1;
        }
        /* Highest page-aligned place in low RAM, above the kernel. */
        uint64_t top = d->e820[0].size;
        uint64_t at = (top - len) & ~(PAGE_SIZE - 1);
        if (len > top || at < si_gpa + PAGE_SIZE) {
            snprintf(err, errlen, "ramdisk %s: %zu bytes do not fit in guest RAM above the kernel "
                     "(raise memory)", cfg->ramdisk, len);
            file_unmap(img, len);
            return -1;
        }
        rc = vm_write_ram(&d->vm, at, img, len);
        file_unmap(img, len);
        if (rc < 0) {
            snprintf(err, errlen, "ramdisk %s: cannot write guest RAM: %s", cfg->ramdisk, strerror(-rc));
            return -1;
        }
        struct hvm_modlist_entry *mod = (void *)(si_page + SI_MODLIST_OFF);
        mod->paddr = at;
        mod->size = len;
        si->modlist_paddr = si_gpa + SI_MODLIST_OFF;
        si->nr_modules = 1;
    }
    if (vcpu_reset_flat32(&d->vm.vcpus[0], ki.pvh_entry, (uint32_t)si_gpa) < 0) {
        snprintf(err, errlen, "cannot set vCPU 0 registers");
        return -1;
    }
    return 0;
}
