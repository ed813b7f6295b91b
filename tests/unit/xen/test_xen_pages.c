/* domain_xen_page_at over a VM without KVM (fuzz/xen/fake_kvm.c): a guest
 * moving its Xen pages (shared_info, grant frames) to ever new gfns outside
 * RAM once made a fresh page each time for ever, growing the domain process
 * without bound (found by fuzz/xen/fuzz_hypercall). */
#include "fake_kvm.h"
#include "unit.h"
#include "xen/domain.h"

#define RAM_SIZE (64u << 10)
#define OUTSIDE_GFN 0x80000

static struct domain D;

TEST(xen_pages_outside_ram_are_bounded)
{
    memset(&D, 0, sizeof(D));
    fake_vm_create(&D.vm, 1, RAM_SIZE);
    /* What a guest moving shared_info from gfn to gfn outside RAM makes
     * happen: a page at the new gfn, the old one's slot removed. */
    unsigned mapped = 0;
    for (unsigned i = 0; i < DOMAIN_XEN_PAGES_OUTSIDE_RAM; i++, mapped++) {
        if (!domain_xen_page_at(&D, OUTSIDE_GFN + i))
            break;
        vm_unmap_extra(&D.vm, (OUTSIDE_GFN + (uint64_t)i) << 12);
    }
    CHECK_EQ(mapped, DOMAIN_XEN_PAGES_OUTSIDE_RAM);
    CHECK(domain_xen_page_at(&D, OUTSIDE_GFN + DOMAIN_XEN_PAGES_OUTSIDE_RAM) == NULL);
    /* A gfn in RAM takes no new page. */
    CHECK(domain_xen_page_at(&D, 3) == D.vm.regions[0].host + 3 * 4096);
    fake_vm_destroy(&D.vm);
}
