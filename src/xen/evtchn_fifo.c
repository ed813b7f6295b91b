/* FIFO event channels, following Xen's xen/common/event_fifo.c.
 *
 * Each port has a 32-bit event word in the guest's event array pages
 * (PENDING, MASKED, LINKED, BUSY and a 17-bit LINK to the next port). Each
 * vCPU has a control block in a guest page with a READY bit and a HEAD port
 * per priority (0 highest .. 15). A pending, unmasked port is appended to the
 * queue of its notify vCPU and priority: the tail's LINK points to it, or, if
 * the queue was empty, HEAD does and READY gets the priority's bit (which
 * raises the upcall). The guest walks each queue from HEAD, clearing LINKED.
 *
 * The guest changes the same words concurrently (it clears PENDING and LINKED,
 * sets and clears MASKED), so every access to them is atomic, as in Xen:
 * single bits with atomic or/and, the LINK field with a compare-exchange loop
 * that sets BUSY to keep the guest from unmasking while it links. Tails live
 * here, never in guest memory. One domain lock serialises xenkvm's side, which
 * stands in for Xen's per-queue locks. */
#include "xen/evtchn_fifo.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORDS_PER_PAGE  (4096 / sizeof(event_word_t))
#define MAX_ARRAY_PAGES (EVTCHN_FIFO_NR_CHANNELS / WORDS_PER_PAGE)
#define NR_QUEUES       EVTCHN_FIFO_MAX_QUEUES

struct fifo_vcpu {
    struct evtchn_fifo_control_block *cb;   /* NULL until EVTCHNOP_init_control */
    uint32_t tail[NR_QUEUES];                /* 0: empty queue */
};

struct evtchn_fifo {
    event_word_t *array[MAX_ARRAY_PAGES];
    unsigned num_evtchns;                    /* ports covered by array pages */
    struct fifo_vcpu vcpu[XEN_LEGACY_MAX_VCPUS];
};

#define BIT(b) ((event_word_t)1 << (b))

static event_word_t *word_of(const struct evtchn_fifo *f, evtchn_port_t port)
{
    if (port >= f->num_evtchns)
        return NULL;
    return f->array[port / WORDS_PER_PAGE] + port % WORDS_PER_PAGE;
}

static bool test_bit(event_word_t *w, unsigned b)
{
    return __atomic_load_n(w, __ATOMIC_SEQ_CST) & BIT(b);
}

static bool test_and_set(uint32_t *w, unsigned b)
{
    return __atomic_fetch_or(w, BIT(b), __ATOMIC_SEQ_CST) & BIT(b);
}

static void clear_bit(event_word_t *w, unsigned b)
{
    __atomic_fetch_and(w, ~BIT(b), __ATOMIC_SEQ_CST);
}

/* Sets the LINK field of *word to link iff the word is still LINKED: 1 done,
 * 0 not linked (the guest consumed it: the queue is empty), -EAGAIN raced. */
static int try_set_link(event_word_t *word, event_word_t *w, uint32_t link)
{
    if (!(*w & BIT(EVTCHN_FIFO_LINKED)))
        return 0;
    event_word_t old = *w;
    event_word_t new = (old & ~(BIT(EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | link;
    if (__atomic_compare_exchange_n(word, w, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return 1;
    return -EAGAIN;    /* *w now holds the current value */
}

/* The guest may only set or clear MASKED, clear PENDING, or clear LINKED (and
 * LINK) on a linked word; with BUSY set it may not unmask, so after BUSY the
 * compare-exchange fails at most 4 times (Xen's evtchn_fifo_set_link). */
static bool set_link(event_word_t *word, uint32_t link)
{
    event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    int rc = try_set_link(word, &w, link);
    if (rc >= 0)
        return rc;
    test_and_set(word, EVTCHN_FIFO_BUSY);
    w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned t = 0; t < 4; t++) {
        rc = try_set_link(word, &w, link);
        if (rc >= 0) {
            if (rc == 0)
                clear_bit(word, EVTCHN_FIFO_BUSY);
            return rc;
        }
    }
    clear_bit(word, EVTCHN_FIFO_BUSY);
    return true;
}

bool evtchn_fifo_set_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    struct evtchn_fifo *f = e->fifo;
    struct evtchn *c = &e->ports[port];
    event_word_t *word = word_of(f, port);
    if (!word) {
        c->fifo_pending = true;    /* raised again when its array page arrives */
        return false;
    }
    unsigned vcpu = c->notify_vcpu;
    struct fifo_vcpu *fv = &f->vcpu[vcpu];
    uint32_t *old_tail = &f->vcpu[c->last_vcpu].tail[c->last_priority];
    uint32_t *tail = &fv->tail[c->priority];
    bool was_pending = test_and_set(word, EVTCHN_FIFO_PENDING);
    /* Without a control block the guest may not have unmasked anything yet:
     * the event stays pending, unlinked. */
    bool linked = true;
    if (fv->cb && !test_bit(word, EVTCHN_FIFO_MASKED) &&
        !test_and_set(word, EVTCHN_FIFO_LINKED)) {
        /* If it was the tail of its old queue, that queue is empty now. */
        if (*old_tail == port)
            *old_tail = 0;
        c->last_vcpu = vcpu;
        c->last_priority = c->priority;
        linked = false;
        if (*tail) {
            event_word_t *tw = word_of(f, *tail);
            linked = tw && set_link(tw, port);
        }
        if (!linked)
            __atomic_store_n(&fv->cb->head[c->priority], port, __ATOMIC_SEQ_CST);
        *tail = port;
    }
    if (!linked && !test_and_set(&fv->cb->ready, c->priority))
        evtchn_mark_upcall(e, vcpu);
    return !was_pending;
}

void evtchn_fifo_clear_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    /* Just PENDING: the guest unlinks the port and ignores it. */
    event_word_t *word = word_of(e->fifo, port);
    if (word)
        clear_bit(word, EVTCHN_FIFO_PENDING);
}

void evtchn_fifo_unmask(struct evtchn_domain *e, evtchn_port_t port)
{
    event_word_t *word = word_of(e->fifo, port);
    if (!word)
        return;
    clear_bit(word, EVTCHN_FIFO_MASKED);
    if (test_bit(word, EVTCHN_FIFO_PENDING))
        evtchn_fifo_set_pending(e, port);
}

bool evtchn_fifo_is_pending(struct evtchn_domain *e, evtchn_port_t port)
{
    event_word_t *word = word_of(e->fifo, port);
    return word && test_bit(word, EVTCHN_FIFO_PENDING);
}

bool evtchn_fifo_is_busy(struct evtchn_domain *e, evtchn_port_t port)
{
    event_word_t *word = word_of(e->fifo, port);
    return word && test_bit(word, EVTCHN_FIFO_LINKED);
}

void evtchn_fifo_destroy(struct evtchn_domain *e)
{
    free(e->fifo);
    e->fifo = NULL;
}

static long map_control_block(struct evtchn_domain *e, unsigned vcpu, uint64_t gfn,
                              uint32_t offset)
{
    struct fifo_vcpu *fv = &e->fifo->vcpu[vcpu];
    if (fv->cb)
        return -EINVAL;
    uint8_t *page = gfn < (1ull << 40) ? e->gfn_page(e->opaque, gfn) : NULL;
    if (!page)
        return -EINVAL;
    fv->cb = (struct evtchn_fifo_control_block *)(page + offset);
    return 0;
}

long evtchn_fifo_init_control(struct evtchn_domain *e, struct evtchn_init_control *ic)
{
    ic->link_bits = EVTCHN_FIFO_LINK_BITS;
    if (ic->vcpu >= e->nr_vcpus || ic->vcpu >= XEN_LEGACY_MAX_VCPUS)
        return -ENOENT;
    /* Within one page, 8-byte aligned. */
    if (ic->offset > 4096 - sizeof(struct evtchn_fifo_control_block) || (ic->offset & 7))
        return -EINVAL;
    if (e->fifo)
        return map_control_block(e, ic->vcpu, ic->control_gfn, ic->offset);

    /* The first control block switches the domain to FIFO, with no event
     * array yet: ports pending in 2-level are raised again as array pages
     * arrive; every port gets the default priority (Xen's setup_ports). */
    e->fifo = calloc(1, sizeof(*e->fifo));
    if (!e->fifo)
        return -ENOMEM;
    long rc = map_control_block(e, ic->vcpu, ic->control_gfn, ic->offset);
    if (rc < 0) {
        evtchn_fifo_destroy(e);
        return rc;
    }
    for (evtchn_port_t p = 1; p < EVTCHN_NR_PORTS; p++) {
        struct evtchn *c = &e->ports[p];
        c->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
        c->fifo_pending = c->state != ECS_FREE && evtchn_2l_pending(e, p);
    }
    return 0;
}

long evtchn_fifo_expand_array(struct evtchn_domain *e, const struct evtchn_expand_array *ea)
{
    struct evtchn_fifo *f = e->fifo;
    if (!f)
        return -EOPNOTSUPP;
    unsigned slot = f->num_evtchns / WORDS_PER_PAGE;
    if (slot >= MAX_ARRAY_PAGES)
        return -ENOSPC;
    uint8_t *page = ea->array_gfn < (1ull << 40) ? e->gfn_page(e->opaque, ea->array_gfn) : NULL;
    if (!page)
        return -EINVAL;
    f->array[slot] = (event_word_t *)page;
    evtchn_port_t first = f->num_evtchns;
    f->num_evtchns += WORDS_PER_PAGE;
    /* Events raised while this page was missing. */
    for (evtchn_port_t p = first; p < f->num_evtchns && p < EVTCHN_NR_PORTS; p++)
        if (e->ports[p].fifo_pending) {
            e->ports[p].fifo_pending = false;
            evtchn_fifo_set_pending(e, p);
        }
    return 0;
}
