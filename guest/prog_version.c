/* version: every XENVER_* sub-op a guest may use, and the memory_op queries
 * about the domain's own memory. Expected values follow Xen 4.17's
 * common/kernel.c do_xen_version() and the default XSM policy (include/xsm/
 * dummy.h xsm_xen_version: version, platform_parameters, get_features,
 * extraversion, compile_info, capabilities, changeset, pagesize and
 * guest_handle are open to any guest; build_id and commandline are
 * privileged, so a domU gets -EPERM and "<denied>"). */
#include "xtest.h"
#include "hypercall.h"
#include "report.h"

static bool is_cstring(const char *s, size_t max)
{
    return strnlen(s, max) < max;
}

static void check_string_op(int cmd, const char *name, char *buf, size_t size)
{
    memset(buf, 0x7f, size);
    long rc = HYPERVISOR_xen_version(cmd, buf);
    if (check(rc == 0 && is_cstring(buf, size), name, "rc %s, terminated %d", errname(rc),
              is_cstring(buf, size)))
        printf("  %s = '%s'\n", name, buf);
}

static void features(void)
{
    struct xen_feature_info fi = { .submap_idx = 0 };
    long rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    if (!check_rc("XENVER_get_features submap 0", rc, 0))
        return;
    printf("  features submap 0 = 0x%08x:", fi.submap);
    static const char *const names[] = {
        "writable_page_tables", "writable_descriptor_tables", "auto_translated_physmap",
        "supervisor_mode_kernel", "pae_pgdir_above_4gb", "mmu_pt_update_preserve_ad",
        "highmem_assist", "gnttab_map_avail_bits", "hvm_callback_vector", "hvm_safe_pvclock",
        "hvm_pirqs", "dom0", "grant_map_identity", "memory_op_vnode_supported",
        "ARM_SMCCC_supported", "linux_rsdp_unrestricted", "not_direct_mapped", "direct_mapped",
    };
    for (unsigned i = 0; i < 32; i++)
        if (fi.submap & (1u << i))
            printf(" %s", i < ARRAY_SIZE(names) ? names[i] : "?");
    printf("\n");
    /* A translated (HVM/PVH) domU: Xen sets these ... */
    static const unsigned need[] = { XENFEAT_writable_page_tables,
                                     XENFEAT_auto_translated_physmap,
                                     XENFEAT_hvm_callback_vector, XENFEAT_hvm_safe_pvclock,
                                     XENFEAT_memory_op_vnode_supported };
    /* ... and never these (PV-only, dom0, or pirqs which PVH lacks). */
    static const unsigned never[] = { XENFEAT_mmu_pt_update_preserve_ad,
                                      XENFEAT_highmem_assist, XENFEAT_gnttab_map_avail_bits,
                                      XENFEAT_dom0, XENFEAT_hvm_pirqs,
                                      XENFEAT_supervisor_mode_kernel };
    /* Since 4.16 common code sets exactly one of these; a translated domU
     * without a 1:1 map gets not_direct_mapped. */
    check((fi.submap & (1u << XENFEAT_not_direct_mapped)) &&
              !(fi.submap & (1u << XENFEAT_direct_mapped)),
          "feature not_direct_mapped set", "submap 0x%x", fi.submap);
    for (unsigned i = 0; i < ARRAY_SIZE(need); i++) {
        char what[64];
        snprintf(what, sizeof(what), "feature %s set", names[need[i]]);
        check(fi.submap & (1u << need[i]), what, "submap 0x%x", fi.submap);
    }
    for (unsigned i = 0; i < ARRAY_SIZE(never); i++) {
        char what[64];
        snprintf(what, sizeof(what), "feature %s clear", names[never[i]]);
        check(!(fi.submap & (1u << never[i])), what, "submap 0x%x", fi.submap);
    }
    fi.submap_idx = 1;
    check_rc("XENVER_get_features submap 1 -> -EINVAL", HYPERVISOR_xen_version(XENVER_get_features, &fi),
             -XEN_EINVAL);
}

static void build_id(void)
{
    /* Privileged sub-op: a domU is refused before any argument is looked at. */
    static struct {
        xen_build_id_t id;
        unsigned char buf[64];
    } b;
    long rc_null = HYPERVISOR_xen_version(XENVER_build_id, NULL);
    b.id.len = 0;
    long rc_zero = HYPERVISOR_xen_version(XENVER_build_id, &b);
    b.id.len = 1;
    long rc_small = HYPERVISOR_xen_version(XENVER_build_id, &b);
    b.id.len = sizeof(b.buf);
    long rc_full = HYPERVISOR_xen_version(XENVER_build_id, &b);
    printf("  build_id: NULL %s, len 0 %s, len 1 %s, len 64 %s\n", errname(rc_null),
           errname(rc_zero), errname(rc_small), errname(rc_full));
    check(rc_null == -XEN_EPERM && rc_zero == -XEN_EPERM && rc_small == -XEN_EPERM &&
              rc_full == -XEN_EPERM,
          "XENVER_build_id denied to a domU (-EPERM)", "got %s/%s/%s/%s", errname(rc_null),
          errname(rc_zero), errname(rc_small), errname(rc_full));
}

/* Xen's e820 entry as XENMEM_memory_map writes it: packed, 20 bytes. */
struct e820entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

/* XENMEM_set_memory_map: a domain may replace its own map (what memory_map
 * answers from then on); the original is put back afterwards. */
static void set_own_map(const struct e820entry *orig, unsigned nr)
{
    static struct e820entry mine[2], back[4];
    mine[0] = orig[0];
    mine[1] = (struct e820entry){ .addr = 0xfc000000, .size = 0x2000, .type = 2 };
    struct xen_foreign_memory_map f = { .domid = DOMID_SELF, .map.nr_entries = 2 };
    set_xen_guest_handle(f.map.buffer, mine);
    long rc = HYPERVISOR_memory_op(XENMEM_set_memory_map, &f);
    struct xen_memory_map mm = { .nr_entries = ARRAY_SIZE(back) };
    set_xen_guest_handle(mm.buffer, back);
    long rc2 = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    check(rc == 0 && rc2 == 0 && mm.nr_entries == 2 && !memcmp(back, mine, sizeof(mine)),
          "XENMEM_set_memory_map: memory_map answers the domain's own map",
          "rc %s/%s, %u entries", errname(rc), errname(rc2), mm.nr_entries);
    f.map.nr_entries = 1025;
    rc = HYPERVISOR_memory_op(XENMEM_set_memory_map, &f);
    f.map.nr_entries = 1;
    f.domid = 7;
    rc2 = HYPERVISOR_memory_op(XENMEM_set_memory_map, &f);
    check(rc == -XEN_EINVAL && rc2 == -XEN_ESRCH,
          "XENMEM_set_memory_map: > E820MAX entries -EINVAL, another domain -ESRCH",
          "%s, %s", errname(rc), errname(rc2));
    f.domid = DOMID_SELF;
    f.map.nr_entries = nr;
    set_xen_guest_handle(f.map.buffer, (struct e820entry *)orig);
    rc = HYPERVISOR_memory_op(XENMEM_set_memory_map, &f);
    mm.nr_entries = 1;
    rc2 = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    check(rc == 0 && rc2 == 0 && !memcmp(back, orig, sizeof(*orig)), "the original map put back",
          "%s, %s", errname(rc), errname(rc2));
}

static void memory(void)
{
    /* XENMEM_memory_map (arch/x86/mm.c): the map the toolstack set for the
     * domain; it must match start_info's. */
    static struct e820entry map[128];
    struct xen_memory_map mm = { .nr_entries = ARRAY_SIZE(map) };
    set_xen_guest_handle(mm.buffer, map);
    long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    uint64_t ram = 0, top = 0;
    if (check_rc("XENMEM_memory_map", rc, 0)) {
        const struct hvm_memmap_table_entry *si =
            (const void *)(uintptr_t)start_info->memmap_paddr;
        bool same = start_info->version >= 1 && mm.nr_entries == start_info->memmap_entries;
        for (unsigned i = 0; i < mm.nr_entries; i++) {
            printf("  e820[%u] 0x%016lx-0x%016lx type %u\n", i, (unsigned long)map[i].addr,
                   (unsigned long)(map[i].addr + map[i].size), map[i].type);
            if (map[i].type == 1) {
                ram += map[i].size;
                if (map[i].addr + map[i].size > top)
                    top = map[i].addr + map[i].size;
            }
            if (same && (si[i].addr != map[i].addr || si[i].size != map[i].size ||
                         si[i].type != map[i].type))
                same = false;
        }
        check(same, "memory map matches start_info's", "%u entries vs %u", mm.nr_entries,
              start_info->memmap_entries);
        check(ram >= (8u << 20), "memory map has RAM", "%lu bytes", (unsigned long)ram);
    }
    mm.nr_entries = 1;
    rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    check(rc == 0 && mm.nr_entries == 1, "XENMEM_memory_map truncates to nr_entries",
          "rc %s nr_entries %u", errname(rc), mm.nr_entries);
    unsigned nr = rc == 0 ? ARRAY_SIZE(map) : 0;
    mm.nr_entries = nr;
    if (HYPERVISOR_memory_op(XENMEM_memory_map, &mm) == 0)
        set_own_map(map, mm.nr_entries);

    domid_t self = DOMID_SELF;
    long cur = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    long max = HYPERVISOR_memory_op(XENMEM_maximum_reservation, &self);
    long maxram = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    printf("  current_reservation %ld pages, maximum_reservation %ld pages, "
           "maximum_ram_page %ld, e820 RAM %lu pages\n", cur, max, maxram,
           (unsigned long)(ram >> 12));
    /* tot_pages counts the RAM and the few special pages (console, xenstore ...)
     * but not pages given back; allow a small margin either way. */
    check(cur > 0 && (uint64_t)cur * 4096 <= ram + (16u << 20) &&
              (uint64_t)cur * 4096 + (4u << 20) >= ram,
          "current_reservation matches RAM", "%ld pages vs %lu bytes", cur,
          (unsigned long)ram);
    check(max >= cur, "maximum_reservation >= current_reservation", "%ld < %ld", max, cur);
    /* Xen answers with the host's highest page: at least the guest's. */
    check(maxram > 0 && (uint64_t)maxram >= (top >> 12) - 1, "maximum_ram_page covers RAM",
          "%ld vs top pfn 0x%lx", maxram, (unsigned long)(top >> 12));
    domid_t other = 0x7fef; /* a regular domid with no domain behind it */
    check_rc("current_reservation of a missing domain -> -ESRCH",
             HYPERVISOR_memory_op(XENMEM_current_reservation, &other), -XEN_ESRCH);
}

void prog_version(int argc, char **argv)
{
    (void)argc, (void)argv;
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    check(v == 0x00040011, "XENVER_version is 4.17", "got 0x%lx", v);
    printf("  version %ld.%ld\n", v >> 16, v & 0xffff);

    static char buf[1024];
    check_string_op(XENVER_extraversion, "XENVER_extraversion", buf, sizeof(xen_extraversion_t));
    static xen_compile_info_t ci;
    memset(&ci, 0x7f, sizeof(ci));
    long rc = HYPERVISOR_xen_version(XENVER_compile_info, &ci);
    if (check(rc == 0 && is_cstring(ci.compiler, sizeof(ci.compiler)) &&
                  is_cstring(ci.compile_by, sizeof(ci.compile_by)) &&
                  is_cstring(ci.compile_domain, sizeof(ci.compile_domain)) &&
                  is_cstring(ci.compile_date, sizeof(ci.compile_date)),
              "XENVER_compile_info", "rc %s or unterminated strings", errname(rc)))
        printf("  compiled by %s@%s with %s on %s\n", ci.compile_by, ci.compile_domain,
               ci.compiler, ci.compile_date);
    check_string_op(XENVER_capabilities, "XENVER_capabilities", buf, sizeof(xen_capabilities_info_t));
    check(strstr(buf, "hvm-3.0-x86_64") != NULL, "capabilities include hvm-3.0-x86_64",
          "'%s'", buf);
    check_string_op(XENVER_changeset, "XENVER_changeset", buf, sizeof(xen_changeset_info_t));

    xen_platform_parameters_t pp = { .virt_start = 0x1234 };
    rc = HYPERVISOR_xen_version(XENVER_platform_parameters, &pp);
#ifdef __x86_64__
    /* 4.17 reports HYPERVISOR_VIRT_START; later releases 0 for HVM guests. */
    check(rc == 0 && (pp.virt_start == 0xffff800000000000UL || pp.virt_start == 0),
#else
    /* compat_platform_parameters (32 bits): 0 for an HVM guest. */
    check(rc == 0 && pp.virt_start == 0,
#endif
          "XENVER_platform_parameters", "rc %s virt_start 0x%lx", errname(rc),
          (unsigned long)pp.virt_start);

    features();

    check(HYPERVISOR_xen_version(XENVER_pagesize, NULL) == 4096, "XENVER_pagesize is 4096",
          "got %ld", HYPERVISOR_xen_version(XENVER_pagesize, NULL));
    check_rc("XENVER_pagesize with a buffer -> -EINVAL",
             HYPERVISOR_xen_version(XENVER_pagesize, buf), -XEN_EINVAL);

    xen_domain_handle_t h;
    memset(h, 0x5a, sizeof(h));
    rc = HYPERVISOR_xen_version(XENVER_guest_handle, h);
    if (check_rc("XENVER_guest_handle", rc, 0)) {
        printf("  guest handle ");
        for (unsigned i = 0; i < sizeof(h); i++)
            printf("%02x%s", h[i], (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
        printf("\n");
    }

    memset(buf, 0x7f, sizeof(buf));
    rc = HYPERVISOR_xen_version(XENVER_commandline, buf);
    check(rc == 0 && !strcmp(buf, "<denied>"), "XENVER_commandline denied to a domU",
          "rc %s '%.40s'", errname(rc), buf);

    build_id();
    check_rc("unknown XENVER sub-op 64 -> -ENOSYS", HYPERVISOR_xen_version(64, NULL),
             -XEN_ENOSYS);

    memory();
}
