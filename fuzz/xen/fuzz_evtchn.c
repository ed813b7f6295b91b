/* libFuzzer target: event channels, 2-level and FIFO (src/xen/evtchn*.c).
 * The input is a series of records: an EVTCHNOP with its argument, a write
 * by the guest into shared_info or into one of its RAM pages (FIFO control
 * blocks and event arrays live there), a send from the hypervisor's side
 * (set_pending, a VIRQ), or a host port's bind, notify or close (what the
 * backends do). Every op must return 0 or a Xen errno; ASan/UBSan catch any
 * access outside the domain's pages. */
#include <stdlib.h>

#include "input.h"
#include "xen/evtchn.h"

#define VCPUS_MAX 4
#define GFN0 0x100        /* guest RAM: gfns GFN0 .. GFN0 + NPAGES - 1 */
#define NPAGES 8

struct fx {
    struct evtchn_domain e;
    struct shared_info *si;
    uint8_t *page[NPAGES];
    unsigned kicks, host_cbs;
    int host_port[EVTCHN_HOST_PORTS];
    unsigned nr_host;
};

static struct shared_info *cb_shared_info(void *o) { return ((struct fx *)o)->si; }
static struct vcpu_info *cb_vcpu_info(void *o, unsigned v)
{
    struct fx *f = o;
    return v < f->e.nr_vcpus ? &f->si->vcpu_info[v] : NULL;
}
static void cb_kick(void *o, unsigned v)
{
    struct fx *f = o;
    if (v >= f->e.nr_vcpus)
        abort();            /* an upcall for a vCPU the domain does not have */
    f->kicks++;
}
static uint8_t *cb_gfn_page(void *o, uint64_t gfn)
{
    return gfn >= GFN0 && gfn < GFN0 + NPAGES ? ((struct fx *)o)->page[gfn - GFN0] : NULL;
}
static void cb_poll_wake(void *o, evtchn_port_t port) { (void)o; (void)port; }
static void cb_host(void *o, evtchn_port_t port) { ((struct fx *)o)->host_cbs++; }

static struct fx *fx;      /* the pages stay allocated; cleared per input */

static void fx_reset(unsigned nr_vcpus, bool shinfo32, unsigned max_port)
{
    if (!fx) {
        fx = calloc(1, sizeof(*fx));
        fx->si = aligned_alloc(4096, 4096);
        for (unsigned i = 0; i < NPAGES; i++)
            fx->page[i] = aligned_alloc(4096, 4096);
    } else {
        evtchn_fini(&fx->e);
    }
    memset(&fx->e, 0, sizeof(fx->e));
    memset(fx->si, 0, 4096);
    for (unsigned i = 0; i < NPAGES; i++)
        memset(fx->page[i], 0, 4096);
    fx->kicks = fx->host_cbs = fx->nr_host = 0;
    evtchn_init(&fx->e, 7, nr_vcpus);
    fx->e.max_port = max_port;
    fx->e.shinfo32 = shinfo32;
    fx->e.shared_info = cb_shared_info;
    fx->e.vcpu_info = cb_vcpu_info;
    fx->e.kick = cb_kick;
    fx->e.rekick = cb_kick;
    fx->e.gfn_page = cb_gfn_page;
    fx->e.poll_wake = cb_poll_wake;
    fx->e.opaque = fx;
}

static void guest_write(struct in *in, uint8_t *page)
{
    unsigned off = u16(in) % 4096, len = u8(in) % 65;
    if (off + len > 4096)
        len = 4096 - off;
    take(in, page + off, len);
}

static void check(long rc)
{
    if (!RESULT_OK(rc) || rc > 0)
        abort();
}

static void op(struct in *in)
{
    /* Every EVTCHNOP argument is at most 24 bytes; 32-bit words each from val(). */
    uint32_t arg[8];
    unsigned cmd = u8(in) % 16;
    unsigned cur = u8(in) % fx->e.nr_vcpus;
    for (unsigned i = 0; i < 8; i++)
        arg[i] = (uint32_t)val(in);
    check(evtchn_op(&fx->e, cmd, arg, cur));
}

/* The set-up a FIFO guest does (Linux's evtchn_fifo_init): a control block
 * per vCPU, then event array pages; the fuzzer picks where they go. */
static void fifo_setup(struct in *in)
{
    for (unsigned v = 0; v < fx->e.nr_vcpus; v++) {
        struct evtchn_init_control ic = {
            .control_gfn = GFN0 + u8(in) % (NPAGES + 1), .offset = (u8(in) % 9) * 512u, .vcpu = v,
        };
        if (evtchn_op(&fx->e, EVTCHNOP_init_control, &ic, v) != 0 && !fx->e.fifo)
            return;
    }
    for (unsigned n = u8(in) % 4; n; n--) {
        struct evtchn_expand_array ea = { .array_gfn = GFN0 + u8(in) % (NPAGES + 1) };
        check(evtchn_op(&fx->e, EVTCHNOP_expand_array, &ea, 0));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct in in = { data, size };
    uint8_t h = u8(&in);
    fx_reset(1 + h % VCPUS_MAX, h & 0x10, h & 0x20 ? u16(&in) : 0);
    if (h & 0x40)
        fifo_setup(&in);
    while (!fin(&in)) {
        switch (u8(&in) % 9) {
        case 0: case 1: op(&in); break;
        case 2: guest_write(&in, (uint8_t *)fx->si); break;
        case 3: guest_write(&in, fx->page[u8(&in) % NPAGES]); break;
        case 4: evtchn_set_pending(&fx->e, u16(&in) % EVTCHN_NR_PORTS); break;
        case 5: evtchn_send_virq(&fx->e, u8(&in) % NR_VIRQS, u8(&in) % fx->e.nr_vcpus); break;
        case 6: {   /* a backend connects to a guest port, or offers one */
            int hp;
            switch (u8(&in) % 3) {
            case 0: hp = evtchn_host_bind(&fx->e, u16(&in) % EVTCHN_NR_PORTS, cb_host, fx); break;
            case 1: hp = evtchn_host_alloc_bound(&fx->e, cb_host, fx); hp = hp < 0 ? hp : -1; break;
            default: hp = evtchn_host_alloc_unbound(&fx->e, cb_host, fx); break;
            }
            if (hp >= 0 && fx->nr_host < EVTCHN_HOST_PORTS)
                fx->host_port[fx->nr_host++] = hp;
            break;
        }
        case 7:
            if (fx->nr_host)
                evtchn_host_notify(&fx->e, fx->host_port[u8(&in) % fx->nr_host]);
            break;
        default:
            if (fx->nr_host) {
                unsigned i = u8(&in) % fx->nr_host;
                evtchn_host_close(&fx->e, fx->host_port[i]);
                fx->host_port[i] = fx->host_port[--fx->nr_host];
            }
            break;
        }
        evtchn_port_pending(&fx->e, u16(&in) % EVTCHN_NR_PORTS);
    }
    return 0;
}
