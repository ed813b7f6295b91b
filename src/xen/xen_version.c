/* __HYPERVISOR_xen_version: what this "Xen" is. */
#include "xen/domain.h"
#include <errno.h>
#include <string.h>
#include <xen/version.h>
#include <xen/features.h>

#define XENKVM_EXTRAVERSION ".0-xenkvm"

static long put(struct hcall *h, const void *src, size_t len)
{
    return guest_copy_to(&h->va, h->arg[1], src, len) ? -EFAULT : 0;
}

/* Feature bits a PVH domU gets from Xen 4.17, and which xenkvm honours. */
static uint32_t features_submap0(void)
{
    return (1u << XENFEAT_writable_page_tables) |
           (1u << XENFEAT_auto_translated_physmap) |
           (1u << XENFEAT_hvm_callback_vector) |
           (1u << XENFEAT_hvm_safe_pvclock) |
           (1u << XENFEAT_memory_op_vnode_supported) |
           (1u << XENFEAT_not_direct_mapped) |
           (1u << XENFEAT_linux_rsdp_unrestricted);
}

long do_xen_version(struct hcall *h)
{
    switch (h->arg[0]) {
    case XENVER_version:
        return (XEN_MAJOR << 16) | XEN_MINOR;
    case XENVER_extraversion: {
        xen_extraversion_t v = {0};
        strncpy(v, XENKVM_EXTRAVERSION, sizeof(v) - 1);
        return put(h, v, sizeof(v));
    }
    case XENVER_compile_info: {
        xen_compile_info_t c;
        memset(&c, 0, sizeof(c));
        strncpy(c.compiler, "gcc", sizeof(c.compiler) - 1);
        strncpy(c.compile_by, "xenkvm", sizeof(c.compile_by) - 1);
        strncpy(c.compile_domain, "xenkvm", sizeof(c.compile_domain) - 1);
        strncpy(c.compile_date, __DATE__, sizeof(c.compile_date) - 1);
        return put(h, &c, sizeof(c));
    }
    case XENVER_capabilities: {
        xen_capabilities_info_t c = {0};
        strncpy(c, "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", sizeof(c) - 1);
        return put(h, c, sizeof(c));
    }
    case XENVER_changeset: {
        xen_changeset_info_t c = {0};
        strncpy(c, "xenkvm", sizeof(c) - 1);
        return put(h, c, sizeof(c));
    }
    case XENVER_platform_parameters: {
        /* virt_start: where a PV guest's hypervisor hole starts; for 64-bit
         * Xen this is the start of Xen's reserved range. */
        xen_platform_parameters_t p = { .virt_start = 0xffff800000000000ull };
        return put(h, &p, sizeof(p));
    }
    case XENVER_get_features: {
        xen_feature_info_t fi;
        if (guest_copy_from(&h->va, &fi, h->arg[1], sizeof(fi)))
            return -EFAULT;
        if (fi.submap_idx == 0)
            fi.submap = features_submap0();
        else if (fi.submap_idx < XENFEAT_NR_SUBMAPS)
            fi.submap = 0;
        else
            return -EINVAL;
        return put(h, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return h->arg[1] ? -EINVAL : (long)PAGE_SIZE;
    case XENVER_guest_handle:    /* the domain's UUID */
        return put(h, h->d->uuid, sizeof(xen_domain_handle_t));
    case XENVER_commandline:
        /* Denied to a domU by Xen's XSM policy: it reads Xen's denial string. */
        return put(h, "<denied>", sizeof("<denied>"));
    case XENVER_build_id:
        return -EPERM;   /* the control domain's only */
    default:
        return -ENOSYS;
    }
}
