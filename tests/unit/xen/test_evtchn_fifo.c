/* FIFO event channels: EVTCHNOP_init_control / expand_array / set_priority
 * with Xen's argument checks, and delivery into event words, queues and the
 * control block. Expectations follow Xen 4.17's xen/common/event_fifo.c and
 * event_channel.c (function names cited below). */
#include "evtchn_fixture.h"

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED  (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED  (1u << EVTCHN_FIFO_LINKED)
#define W_BUSY    (1u << EVTCHN_FIFO_BUSY)

/* Page layout used below: control blocks of vCPU v at page v (offset 0 unless
 * said otherwise), event array pages from page 4 on. */
#define CB_PAGE(v) (FX_GFN0 + (v))
#define ARRAY_PAGE(i) (FX_GFN0 + 4 + (i))

static long fx_init_control(struct fx *f, uint64_t gfn, uint32_t offset, uint32_t vcpu,
                            uint8_t *link_bits)
{
    struct evtchn_init_control ic = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = evtchn_op(f->e, EVTCHNOP_init_control, &ic, 0);
    if (link_bits)
        *link_bits = ic.link_bits;
    return rc;
}

static long fx_expand(struct fx *f, uint64_t gfn)
{
    struct evtchn_expand_array ea = { .array_gfn = gfn };
    return evtchn_op(f->e, EVTCHNOP_expand_array, &ea, 0);
}

static long fx_set_priority(struct fx *f, evtchn_port_t port, uint32_t prio)
{
    struct evtchn_set_priority sp = { .port = port, .priority = prio };
    return evtchn_op(f->e, EVTCHNOP_set_priority, &sp, 0);
}

static struct evtchn_fifo_control_block *cb(struct fx *f, unsigned vcpu)
{
    return (struct evtchn_fifo_control_block *)f->pages[vcpu];
}

static event_word_t *word(struct fx *f, evtchn_port_t port)
{
    return (event_word_t *)f->pages[4 + port / 1024] + port % 1024;
}

/* What Linux does (drivers/xen/events/events_fifo.c): a control block per
 * vCPU, one event array page with every word masked, then ports unmasked as
 * they are bound. */
static void fifo_setup(struct fx *f)
{
    for (unsigned v = 0; v < FX_VCPUS; v++)
        CHECK_EQ(fx_init_control(f, CB_PAGE(v), 0, v, NULL), 0);
    for (unsigned i = 0; i < 1024; i++)
        word(f, i)[0] = W_MASKED;
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(0)), 0);
}

static void guest_unmask(struct fx *f, evtchn_port_t p)
{
    *word(f, p) &= ~W_MASKED;
}

/* A loop-back pair with both ends unmasked; the bind's own event consumed. */
static void pair(struct fx *f, evtchn_port_t *a, evtchn_port_t *b)
{
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, a), 0);
    guest_unmask(f, *a);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, *a, b), 0);
    guest_unmask(f, *b);
    *word(f, *b) = 0;      /* the bind raised b while it was masked: drop that */
}

/* ---- init_control ---- */

TEST(fifo_init_control_checks_its_arguments)
{
    struct fx *f = fx_new();
    uint8_t lb = 0;
    /* evtchn_fifo_init_control: domain_vcpu() fails -> -ENOENT */
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, FX_VCPUS, &lb), -ENOENT);
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0xffffffffu, NULL), -ENOENT);
    /* the block must not cross the page end, and be 8-byte aligned */
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 4096 - sizeof(struct evtchn_fifo_control_block) + 8, 0, NULL), -EINVAL);
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0xfffffff8u, 0, NULL), -EINVAL);
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 4, 0, NULL), -EINVAL);
    /* map_guest_page fails on a gfn that is no RAM page */
    CHECK_EQ(fx_init_control(f, 0x5000, 0, 0, NULL), -EINVAL);
    CHECK_EQ(fx_init_control(f, ~0ull, 0, 0, NULL), -EINVAL);
    /* none of that switched the domain to FIFO */
    CHECK(f->e->fifo == NULL);
    CHECK_EQ(fx_set_priority(f, 1, 3), -ENOSYS);
    /* the largest valid offset */
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 4096 - sizeof(struct evtchn_fifo_control_block), 0, &lb), 0);
    CHECK_EQ(lb, EVTCHN_FIFO_LINK_BITS);
    CHECK(f->e->fifo != NULL);
    fx_free(f);
}

TEST(fifo_init_control_once_per_vcpu)
{
    struct fx *f = fx_new();
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    /* map_control_block: a vCPU's block is mapped once */
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 64, 0, NULL), -EINVAL);
    CHECK_EQ(fx_init_control(f, CB_PAGE(1), 0, 1, NULL), 0);
    /* two vCPUs may share a page at different offsets */
    CHECK_EQ(fx_init_control(f, CB_PAGE(1), 128, 2, NULL), 0);
    /* a bad gfn on a later vCPU keeps the domain on FIFO */
    CHECK_EQ(fx_init_control(f, 0x5000, 0, 3, NULL), -EINVAL);
    CHECK(f->e->fifo != NULL);
    fx_free(f);
}

/* ---- expand_array ---- */

TEST(fifo_expand_array_needs_fifo_and_ram)
{
    struct fx *f = fx_new();
    /* evtchn_fifo_expand_array before init_control */
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(0)), -EOPNOTSUPP);
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    CHECK_EQ(fx_expand(f, 0x5000), -EINVAL);
    CHECK_EQ(fx_expand(f, 1ull << 52), -EINVAL);
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(0)), 0);
    fx_free(f);
}

TEST(fifo_expand_array_stops_at_128_pages)
{
    struct fx *f = fx_new();
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    /* EVTCHN_FIFO_NR_CHANNELS / 1024 words per page = 128 pages; the same
     * page may back several slots (nothing here stops a guest doing that). */
    for (unsigned i = 0; i < 128; i++)
        CHECK_EQ(fx_expand(f, ARRAY_PAGE(1)), 0);
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(1)), -ENOSPC);
    fx_free(f);
}

/* ---- set_priority ---- */

TEST(fifo_set_priority_checks)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &p), 0);
    /* evtchn_port_set_priority: the 2-level ABI has no set_priority op */
    CHECK_EQ(fx_set_priority(f, p, 3), -ENOSYS);
    fifo_setup(f);
    CHECK_EQ(fx_set_priority(f, p, EVTCHN_FIFO_PRIORITY_MIN + 1), -EINVAL);
    CHECK_EQ(fx_set_priority(f, EVTCHN_NR_PORTS, 3), -EINVAL);
    CHECK_EQ(fx_set_priority(f, 0xffffffffu, 3), -EINVAL);
    CHECK_EQ(fx_set_priority(f, p, EVTCHN_FIFO_PRIORITY_MAX), 0);
    CHECK_EQ(fx_set_priority(f, p, EVTCHN_FIFO_PRIORITY_MIN), 0);
    fx_free(f);
}

/* ---- delivery ---- */

TEST(fifo_send_links_the_port_at_head_and_raises_the_upcall)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b;
    pair(f, &a, &b);
    CHECK_EQ(fx_send(f, a), 0);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(cb(f, 0)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    CHECK_EQ(fx_upcall(f, 0), 1);
    CHECK_EQ(f->kicks[0], 1);
    /* 2-level bits are left alone */
    CHECK(!fx_pending(f, b));
    CHECK_EQ(fx_sel(f, 0), 0);
    fx_free(f);
}

TEST(fifo_second_event_is_linked_behind_the_tail)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b, c, d;
    pair(f, &a, &b);
    pair(f, &c, &d);
    CHECK_EQ(fx_send(f, a), 0);
    CHECK_EQ(fx_send(f, c), 0);
    /* the tail (b) now links to d; head and ready unchanged, one kick */
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED | d);
    CHECK_EQ(*word(f, d), W_PENDING | W_LINKED);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(f->kicks[0], 1);
    /* sending again on a pending, linked port changes nothing */
    CHECK_EQ(fx_send(f, a), 0);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED | d);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(fifo_event_after_the_guest_emptied_the_queue_goes_to_head)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b, c, d;
    pair(f, &a, &b);
    pair(f, &c, &d);
    fx_send(f, a);
    /* The guest consumes b: clears LINKED (and LINK), then PENDING; and
     * READY and the upcall flag. */
    *word(f, b) = 0;
    cb(f, 0)->ready = 0;
    f->si->vcpu_info[0].evtchn_upcall_pending = 0;
    /* b is still the queue's tail here, but unlinked: d becomes the head */
    fx_send(f, c);
    CHECK_EQ(*word(f, b), 0);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], d);
    CHECK_EQ(cb(f, 0)->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    CHECK_EQ(f->kicks[0], 2);
    fx_free(f);
}

TEST(fifo_priorities_use_their_own_queues)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b, c, d;
    pair(f, &a, &b);
    pair(f, &c, &d);
    CHECK_EQ(fx_set_priority(f, d, 2), 0);
    fx_send(f, a);
    fx_send(f, c);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(cb(f, 0)->head[2], d);
    CHECK_EQ(cb(f, 0)->ready, (1u << EVTCHN_FIFO_PRIORITY_DEFAULT) | (1u << 2));
    /* not linked to each other */
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);
    CHECK_EQ(*word(f, d), W_PENDING | W_LINKED);
    fx_free(f);
}

TEST(fifo_masked_port_is_pending_but_unlinked_until_unmask)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b;
    pair(f, &a, &b);
    *word(f, b) |= W_MASKED;
    CHECK_EQ(fx_send(f, a), 0);
    CHECK_EQ(*word(f, b), W_PENDING | W_MASKED);
    CHECK_EQ(cb(f, 0)->ready, 0);
    CHECK_EQ(f->kicks[0], 0);
    /* evtchn_fifo_unmask: clear MASKED, relink if pending */
    CHECK_EQ(fx_unmask(f, b), 0);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(f->kicks[0], 1);
    /* unmask of a port not pending only clears MASKED */
    evtchn_port_t c, d;
    pair(f, &c, &d);
    *word(f, d) |= W_MASKED;
    CHECK_EQ(fx_unmask(f, d), 0);
    CHECK_EQ(*word(f, d), 0);
    fx_free(f);
}

TEST(fifo_linking_keeps_the_guests_mask_bit_and_clears_busy)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b, c, d;
    pair(f, &a, &b);
    pair(f, &c, &d);
    fx_send(f, a);
    /* the guest masks b while it is the linked tail */
    *word(f, b) |= W_MASKED;
    fx_send(f, c);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED | W_MASKED | d);
    CHECK(!(*word(f, b) & W_BUSY));
    fx_free(f);
}

TEST(fifo_event_for_a_vcpu_without_control_block_stays_pending)
{
    struct fx *f = fx_new();
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    for (unsigned i = 0; i < 1024; i++)
        word(f, i)[0] = W_MASKED;
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(0)), 0);
    evtchn_port_t ipi;
    CHECK_EQ(fx_bind_ipi(f, 1, &ipi), 0);
    guest_unmask(f, ipi);
    CHECK_EQ(fx_send(f, ipi), 0);
    CHECK_EQ(*word(f, ipi), W_PENDING);
    CHECK_EQ(f->kicks[1], 0);
    fx_free(f);
}

TEST(fifo_event_on_a_port_beyond_the_array_waits_for_its_page)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    /* ports 1..1023 used up, the next ones live on the second page */
    evtchn_port_t p = 0;
    for (unsigned i = 1; i < 1024; i++)
        CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &p), 0);
    evtchn_port_t a, b;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &a), 0);
    CHECK_EQ(a, 1024);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &b), 0);   /* raises b: no page yet */
    CHECK_EQ(f->kicks[0], 0);
    struct evtchn_unmask u = { .port = b };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_unmask, &u, 0), 0);      /* no word: a no-op */
    /* add_page_to_event_array re-raises it (the guest's new page is unmasked) */
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(1)), 0);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(fifo_switch_carries_2level_pending_ports)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &a), 0);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &b), 0);   /* b pending in 2-level */
    CHECK(fx_pending(f, b));
    /* setup_ports: remembered at the switch, raised when the array arrives */
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    CHECK_EQ(fx_expand(f, ARRAY_PAGE(0)), 0);                 /* all words unmasked */
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);
    CHECK_EQ(*word(f, a), 0);
    fx_free(f);
}

TEST(fifo_bind_vcpu_moves_future_events_to_the_new_vcpus_queue)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b;
    pair(f, &a, &b);
    fx_send(f, a);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    *word(f, b) = 0;   /* consumed on vCPU 0 */
    CHECK_EQ(fx_bind_vcpu(f, b, 2), 0);
    fx_send(f, a);
    CHECK_EQ(cb(f, 2)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    CHECK_EQ(f->kicks[2], 1);
    /* vCPU 0's queue lost its tail: a new event there becomes its head */
    evtchn_port_t c, d;
    pair(f, &c, &d);
    fx_send(f, c);
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], d);
    CHECK_EQ(*word(f, b), W_PENDING | W_LINKED);     /* not linked to d */
    fx_free(f);
}

TEST(fifo_close_clears_pending_and_a_linked_port_is_not_reused)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b;
    pair(f, &a, &b);
    fx_send(f, a);
    CHECK_EQ(fx_close(f, b), 0);
    CHECK_EQ(*word(f, b), W_LINKED);     /* PENDING cleared; the guest unlinks it */
    evtchn_port_t n;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &n), 0);
    CHECK(n != b);                       /* get_free_port skips busy ports */
    *word(f, b) = 0;                     /* the guest's upcall unlinked it */
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &n), 0);
    CHECK_EQ(n, b);
    fx_free(f);
}

TEST(fifo_virq_and_host_ports_are_delivered)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t t;
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 3, &t), 0);
    guest_unmask(f, t);
    evtchn_send_virq(f->e, VIRQ_TIMER, 3);
    CHECK_EQ(cb(f, 3)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], t);
    CHECK_EQ(f->kicks[3], 1);
    /* a backend's host port notifying its guest port */
    int gp = evtchn_host_alloc_bound(f->e, NULL, NULL);
    CHECK(gp > 0);
    guest_unmask(f, gp);
    int hp = f->e->ports[gp].u.inter.host_port;
    CHECK_EQ(evtchn_host_notify(f->e, hp), 0);
    CHECK_EQ(*word(f, gp), W_PENDING | W_LINKED);
    CHECK_EQ(*word(f, t), W_PENDING | W_LINKED);   /* different vCPU: not chained */
    CHECK_EQ(cb(f, 0)->head[EVTCHN_FIFO_PRIORITY_DEFAULT], (uint32_t)gp);
    fx_free(f);
}

TEST(fifo_new_pending_port_wakes_pollers_even_when_masked)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    evtchn_port_t a, b;
    pair(f, &a, &b);
    *word(f, b) |= W_MASKED;
    int before = f->poll_wakes;
    fx_send(f, a);
    CHECK_EQ(f->poll_wakes, before + 1);
    CHECK(evtchn_port_pending(f->e, b));
    fx_send(f, a);                       /* already pending: no second wake */
    CHECK_EQ(f->poll_wakes, before + 1);
    fx_free(f);
}

TEST(fifo_reset_returns_to_2level)
{
    struct fx *f = fx_new();
    fifo_setup(f);
    struct evtchn_reset r = { .dom = DOMID_SELF };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_reset, &r, 0), 0);
    CHECK(f->e->fifo == NULL);
    CHECK_EQ(fx_set_priority(f, 1, 3), -ENOSYS);
    evtchn_port_t a, b;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &a), 0);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &b), 0);
    CHECK(fx_pending(f, b));
    /* and FIFO can be set up again */
    memset(f->pages[0], 0, 4096);
    CHECK_EQ(fx_init_control(f, CB_PAGE(0), 0, 0, NULL), 0);
    fx_free(f);
}
