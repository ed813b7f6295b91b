#include "xenstore/ring.h"

#include <stdint.h>
#include <string.h>

/* The guest writes req_prod and rsp_cons; we write req_cons and rsp_prod. */
static uint32_t load_acq(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_rel(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Copies from a ring (byte-wise, volatile: the guest may scribble on it, which
 * only garbles its own data). */
static void copy_out(void *dst, const char *ring, uint32_t from, size_t n)
{
    const volatile char *r = ring;
    char *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = r[MASK_XENSTORE_IDX(from + (uint32_t)i)];
}

static void copy_in(char *ring, uint32_t to, const void *src, size_t n)
{
    volatile char *r = ring;
    const char *s = src;
    for (size_t i = 0; i < n; i++)
        r[MASK_XENSTORE_IDX(to + (uint32_t)i)] = s[i];
}

ssize_t xs_ring_read_req(struct xenstore_domain_interface *intf, void *buf, size_t max)
{
    uint32_t cons = __atomic_load_n(&intf->req_cons, __ATOMIC_RELAXED);
    uint32_t prod = load_acq(&intf->req_prod);   /* data before prod is visible after this */
    uint32_t avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE)
        return -1;
    size_t n = avail < max ? avail : max;
    copy_out(buf, intf->req, cons, n);
    store_rel(&intf->req_cons, cons + (uint32_t)n);   /* our reads complete before the slot is freed */
    return (ssize_t)n;
}

size_t xs_ring_rsp_room(const struct xenstore_domain_interface *intf)
{
    uint32_t prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_RELAXED);
    uint32_t cons = load_acq(&intf->rsp_cons);
    uint32_t used = prod - cons;
    return used > XENSTORE_RING_SIZE ? 0 : XENSTORE_RING_SIZE - used;
}

ssize_t xs_ring_write_rsp(struct xenstore_domain_interface *intf, const void *buf, size_t len)
{
    uint32_t prod = __atomic_load_n(&intf->rsp_prod, __ATOMIC_RELAXED);
    uint32_t cons = load_acq(&intf->rsp_cons);   /* the guest finished reading those bytes */
    uint32_t used = prod - cons;
    if (used > XENSTORE_RING_SIZE)
        return -1;
    size_t room = XENSTORE_RING_SIZE - used;
    size_t n = len < room ? len : room;
    copy_in(intf->rsp, prod, buf, n);
    store_rel(&intf->rsp_prod, prod + (uint32_t)n);   /* data visible before the index */
    return (ssize_t)n;
}
