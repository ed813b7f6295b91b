/* The 8254 PIT's counters and port 0x61 (see pit.h). The counters are not
 * clocked: each read computes where a counter started at start_ns would be
 * now, at 1.193182 MHz, by its mode (Intel 8254 data sheet: modes 0-5, the
 * latch and read-back commands, the LSB/MSB access flip-flops, BCD). */
#include "xen/pit.h"
#include <string.h>

static bool gate_of(const struct pit *p, int ch)
{
    return ch != 2 || (p->port_b & 1);   /* only channel 2's gate is wired (port B bit 0) */
}

static unsigned from_bcd(uint16_t v)
{
    return (v >> 12 & 15) * 1000 + (v >> 8 & 15) * 100 + (v >> 4 & 15) * 10 + (v & 15);
}

static uint16_t to_bcd(unsigned v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* The count as a number of ticks: 0 means the largest. */
static uint32_t period(const struct pit_channel *c)
{
    uint32_t n = c->bcd ? from_bcd(c->count) : c->count;
    return n ? n : (c->bcd ? 10000 : 65536);
}

/* Ticks counted since the count was loaded (or triggered). */
static uint64_t ticks(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded || !c->running)
        return 0;
    uint64_t at = c->paused ? c->paused_ns : now;
    uint64_t ns = at > c->start_ns ? at - c->start_ns : 0;
    return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

static bool out_of(const struct pit *p, int ch, uint64_t now)
{
    const struct pit_channel *c = &p->ch[ch];
    if (!c->loaded)
        return c->mode != 0;             /* a control word sets OUT low in mode 0, high otherwise */
    uint64_t t = ticks(c, now), n = period(c);
    switch (c->mode) {
    case 0:
        return t >= n;                   /* high at terminal count, until the next count */
    case 1:
        return !c->running || t >= n;    /* low from the trigger to terminal count */
    case 2:
        return !gate_of(p, ch) || t % n != n - 1;   /* low for the last tick of each period */
    case 3:
        return !gate_of(p, ch) || t % n < (n + 1) / 2;   /* high for the first half */
    default:                             /* 4, 5: one low tick at terminal count */
        return !c->running || t != n;
    }
}

/* The counting element's value as the chip would show it. */
static uint16_t value_of(const struct pit_channel *c, uint64_t now)
{
    if (!c->loaded || !c->running)
        return c->count;
    uint64_t t = ticks(c, now), n = period(c), mod = c->bcd ? 10000 : 65536, v;
    switch (c->mode) {
    case 2:
        v = n - t % n;                   /* n, n-1, ..., 1, reload */
        break;
    case 3: {                            /* by twos, once per half period */
        uint64_t ph = t % n, half = (n + 1) / 2;
        v = ph < half ? n - 2 * ph : n - 2 * (ph - half);
        break;
    }
    default:                             /* 0, 1, 4, 5: down through 0 and wrapping */
        v = (n % mod + mod - t % mod) % mod;
        break;
    }
    return c->bcd ? to_bcd((unsigned)(v % 10000)) : (uint16_t)v;
}

static void load(struct pit *p, int ch, uint16_t count, uint64_t now)
{
    struct pit_channel *c = &p->ch[ch];
    c->count = count;
    c->loaded = true;
    c->start_ns = now;
    c->paused = false;
    /* Modes 1 and 5 count from the gate's next rising edge; the others at once,
     * unless the gate is low. */
    c->running = c->mode != 1 && c->mode != 5;
    if (c->running && !gate_of(p, ch)) {
        c->paused = true;
        c->paused_ns = now;
    }
}

static void set_gate2(struct pit *p, bool high, uint64_t now)
{
    struct pit_channel *c = &p->ch[2];
    if (high == gate_of(p, 2))
        return;
    if (!c->loaded)
        return;
    switch (c->mode) {
    case 1:
    case 5:                              /* a rising edge (re)triggers */
        if (high) {
            c->running = true;
            c->start_ns = now;
        }
        break;
    case 2:
    case 3:                              /* low stops; a rising edge reloads */
        c->paused = !high;
        if (high)
            c->start_ns = now;
        else
            c->paused_ns = now;
        break;
    default:                             /* 0, 4: low suspends counting */
        if (!high && !c->paused) {
            c->paused = true;
            c->paused_ns = now;
        } else if (high && c->paused) {
            c->start_ns += now - c->paused_ns;
            c->paused = false;
        }
        break;
    }
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
    if (c->count_latched)
        return;                          /* the first latch holds until it is read */
    c->latch = value_of(c, now);
    c->count_latched = true;
    c->latch_msb = false;
}

static void control(struct pit *p, uint8_t v, uint64_t now)
{
    unsigned sc = v >> 6, rw = v >> 4 & 3;
    if (sc == 3) {                       /* read-back: bits 1-3 pick the channels */
        for (int ch = 0; ch < 3; ch++) {
            struct pit_channel *c = &p->ch[ch];
            if (!(v & (2u << ch)))
                continue;
            if (!(v & 0x20))
                latch_count(c, now);
            if (!(v & 0x10) && !c->status_latched) {
                c->status = (uint8_t)(out_of(p, ch, now) << 7 | !c->loaded << 6 | c->rw << 4 |
                                      c->mode << 1 | c->bcd);
                c->status_latched = true;
            }
        }
        return;
    }
    struct pit_channel *c = &p->ch[sc];
    if (rw == 0) {
        latch_count(c, now);
        return;
    }
    unsigned mode = v >> 1 & 7;
    c->mode = (uint8_t)(mode > 5 ? mode - 4 : mode);   /* 6, 7 are 2, 3 */
    c->rw = (uint8_t)rw;
    c->bcd = v & 1;
    c->loaded = c->running = c->paused = false;
    c->write_msb = c->read_msb = false;
    c->count_latched = c->status_latched = false;
}

static void write_counter(struct pit *p, int ch, uint8_t v, uint64_t now)
{
    struct pit_channel *c = &p->ch[ch];
    switch (c->rw) {
    case 1:
        load(p, ch, v, now);
        break;
    case 2:
        load(p, ch, (uint16_t)(v << 8), now);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = true;
        } else {
            c->write_msb = false;
            load(p, ch, (uint16_t)(c->write_lsb | v << 8), now);
        }
        break;
    }
}

static uint8_t read_counter(struct pit *p, int ch, uint64_t now)
{
    struct pit_channel *c = &p->ch[ch];
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    bool latched = c->count_latched;
    uint16_t v = latched ? c->latch : value_of(c, now);
    bool *msb = latched ? &c->latch_msb : &c->read_msb;
    bool high;
    switch (c->rw) {
    case 1: high = false; break;
    case 2: high = true; break;
    default: high = *msb; *msb = !*msb; break;
    }
    if (latched && (c->rw != 3 || !c->latch_msb))
        c->count_latched = false;        /* the whole latched value has been read */
    return high ? (uint8_t)(v >> 8) : (uint8_t)v;
}

void pit_init(struct pit *p, uint64_t (*now_ns)(void))
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
    p->now_ns = now_ns;
    for (int ch = 0; ch < 3; ch++)
        p->ch[ch].rw = 3;
}

bool pit_io(struct pit *p, uint16_t port, bool out, uint8_t *data)
{
    if (port != PIT_PORT_B && (port < PIT_PORT_CH0 || port > PIT_PORT_CTRL))
        return false;
    pthread_mutex_lock(&p->lock);
    uint64_t now = p->now_ns();
    if (port == PIT_PORT_B) {
        if (out) {
            set_gate2(p, *data & 1, now);
            p->port_b = *data & 0x0f;
        } else {
            /* Bit 4 toggles with the DRAM refresh (every 15.085 us); bit 5 is
             * channel 2's output; no NMI sources (bits 6, 7). */
            *data = (uint8_t)((p->port_b & 0x0f) | (now / 15085 & 1) << 4 | out_of(p, 2, now) << 5);
        }
    } else if (port == PIT_PORT_CTRL) {
        if (out)
            control(p, *data, now);
        else
            *data = 0xff;                /* the control word cannot be read */
    } else if (out) {
        write_counter(p, port - PIT_PORT_CH0, *data, now);
    } else {
        *data = read_counter(p, port - PIT_PORT_CH0, now);
    }
    pthread_mutex_unlock(&p->lock);
    return true;
}
