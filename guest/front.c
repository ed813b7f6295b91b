/* The frontends' common steps (front.h). */
#include "front.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"
#include <xen/io/xenbus.h>

static uint8_t gnt_frame[4096] ALIGNED(4096);

static bool gntv2;
static uint8_t status_frame[4096] ALIGNED(4096);

void front_grant(grant_ref_t ref, void *page, bool readonly)
{
    uint16_t flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
    if (gntv2) {
        grant_entry_v2_t *e = &((grant_entry_v2_t *)gnt_frame)[ref];
        e->hdr.domid = 0;
        e->full_page.frame = (uintptr_t)page >> 12;
        asm volatile("" ::: "memory");
        e->hdr.flags = flags;
        return;
    }
    grant_entry_v1_t *e = &((grant_entry_v1_t *)gnt_frame)[ref];
    e->domid = 0;
    e->frame = (uint32_t)((uintptr_t)page >> 12);
    asm volatile("" ::: "memory");       /* the entry before its flags (x86: a compiler barrier) */
    e->flags = flags;
}

bool front_use_v2(void)
{
    struct gnttab_set_version sv = { .version = 2 };
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_set_version, &sv, 1);
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
        .idx = XENMAPIDX_grant_table_status, .gpfn = (uintptr_t)status_frame >> 12,
    };
    if (!rc)
        rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    gntv2 = check(rc == 0 && sv.version == 2, "grant table v2 with its status frame",
                  "%s, version %u", errname(rc), sv.version);
    return gntv2;
}

uint16_t front_v2_flags(grant_ref_t ref)
{
    return ((volatile grant_entry_v2_t *)gnt_frame)[ref].hdr.flags;
}

grant_status_t front_v2_status(grant_ref_t ref)
{
    return ((volatile grant_status_t *)status_frame)[ref];
}

int front_write(const char *dir, const char *node, const char *fmt, unsigned v)
{
    char val[32], p[160];
    snprintf(val, sizeof(val), fmt, v);
    snprintf(p, sizeof(p), "%s/%s", dir, node);
    return xb_write(0, p, val);
}

bool front_backend_state(const char *be, unsigned want, uint64_t timeout_ns)
{
    char p[160], v[16];
    snprintf(p, sizeof(p), "%s/state", be);
    uint64_t end = xen_time_ns() + timeout_ns;
    do {
        if (xb_read(0, p, v, sizeof(v)) == 0 && v[0] == (char)('0' + want) && !v[1])
            return true;
        for (uint64_t t = xen_time_ns() + 5 * FRONT_MS; xen_time_ns() < t;)
            cpu_relax();
    } while (xen_time_ns() < end);
    return false;
}

bool front_init(const char *dir, char *be, uint32_t belen)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0,
        .gpfn = (uintptr_t)gnt_frame >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (!check(rc == 0, "grant table frame 0 mapped", "%s", errname(rc)) ||
        !check(xb_init() == 0, "xenstore ring", "no ring"))
        return false;
    char p[160];
    snprintf(p, sizeof(p), "%s/backend", dir);
    int xr = xb_read(0, p, be, belen);
    return check(xr == 0, "the device has a backend", "%s: %s", p, xb_errname(xr)) &&
           check(front_backend_state(be, XenbusStateInitWait, 5000 * FRONT_MS),
                 "backend in InitWait", "state never 2");
}

void front_close(const char *dir, const char *be)
{
    front_write(dir, "state", "%u", XenbusStateClosing);
    check(front_backend_state(be, XenbusStateClosing, 5000 * FRONT_MS), "backend follows to Closing",
          "state not 5");
    front_write(dir, "state", "%u", XenbusStateClosed);
    check(front_backend_state(be, XenbusStateClosed, 5000 * FRONT_MS), "backend Closed",
          "state not 6");
}
