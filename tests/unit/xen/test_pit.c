/* The PIT (src/xen/pit.c) against a clock the test moves: what Linux's
 * quick_pit_calibrate and pit_calibrate_tsc do with channel 2 and port 0x61,
 * the latch and read-back commands, the modes' counts and outputs. */
#include "unit.h"
#include "xen/pit.h"

static uint64_t fake_now;
static uint64_t now(void) { return fake_now; }

/* ns for t PIT ticks, rounded up so that ticks() sees at least t. */
static uint64_t ns_of(uint64_t t) { return (t * 1000000000u + PIT_HZ - 1) / PIT_HZ; }

static void outb(struct pit *p, uint16_t port, uint8_t v) { CHECK(pit_io(p, port, true, &v)); }
static uint8_t inb(struct pit *p, uint16_t port)
{
    uint8_t v = 0;
    CHECK(pit_io(p, port, false, &v));
    return v;
}

static void setup(struct pit *p)
{
    fake_now = 1000000;
    pit_init(p, now);
}

TEST(pit_other_ports_are_not_claimed)
{
    struct pit p;
    setup(&p);
    uint8_t v = 0;
    CHECK(!pit_io(&p, 0x3f, false, &v));
    CHECK(!pit_io(&p, 0x44, false, &v));
    CHECK(!pit_io(&p, 0x60, true, &v));
    CHECK(!pit_io(&p, 0x62, false, &v));
}

/* quick_pit_calibrate: gate high, mode 0 binary, 0xffff; MSB of the count read
 * (LSB first) goes 0xff, 0xfe, ... every 256 ticks. */
TEST(pit_channel2_counts_down_like_linux_expects)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x61, (uint8_t)((inb(&p, 0x61) & ~0x02) | 0x01));
    outb(&p, 0x43, 0xb0);
    outb(&p, 0x42, 0xff);
    outb(&p, 0x42, 0xff);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0xff);
    fake_now += ns_of(100);
    CHECK_EQ(inb(&p, 0x42), 0xff - 100);    /* LSB */
    CHECK_EQ(inb(&p, 0x42), 0xff);          /* MSB */
    fake_now += ns_of(256);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0xfe);
    fake_now += ns_of(256 * 10);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0xf4);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0);      /* OUT low until terminal count */
}

/* pit_calibrate_tsc: mode 0 with a 10 ms count; port 0x61 bit 5 rises when it
 * runs out (Linux polls for it), and not before. */
TEST(pit_port61_bit5_is_channel2_output)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x61, (uint8_t)((inb(&p, 0x61) & ~0x02) | 0x01));
    outb(&p, 0x43, 0xb0);
    unsigned latch = PIT_HZ / 100;
    outb(&p, 0x42, latch & 0xff);
    outb(&p, 0x42, latch >> 8);
    CHECK_EQ(inb(&p, 0x61) & 0x23, 0x01);   /* gate on, speaker off, OUT low */
    fake_now += ns_of(latch - 1);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0);
    fake_now += ns_of(2);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);
    fake_now += ns_of(70000);               /* stays high; the count wraps on */
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);
    CHECK_EQ(inb(&p, 0x61) & 0xc0, 0);      /* no NMI sources */
}

TEST(pit_port61_refresh_bit_toggles)
{
    struct pit p;
    setup(&p);
    uint8_t a = inb(&p, 0x61) & 0x10;
    fake_now += 15085;
    CHECK_EQ(inb(&p, 0x61) & 0x10, a ^ 0x10);
    outb(&p, 0x61, 0x03);
    CHECK_EQ(inb(&p, 0x61) & 0x0f, 0x03);
}

TEST(pit_gate_low_holds_mode0)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x43, 0xb0);                   /* gate still low (port B 0) */
    outb(&p, 0x42, 0x00);
    outb(&p, 0x42, 0x10);                   /* 0x1000 */
    fake_now += ns_of(500);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0x10);          /* not counting */
    outb(&p, 0x61, 0x01);
    fake_now += ns_of(0x200);
    outb(&p, 0x61, 0x00);                   /* pause */
    fake_now += ns_of(0x800);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0x0e);
    outb(&p, 0x61, 0x01);                   /* resume where it stopped */
    fake_now += ns_of(0x100);
    inb(&p, 0x42);
    CHECK_EQ(inb(&p, 0x42), 0x0d);
}

TEST(pit_latch_holds_the_value_until_read)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x43, 0x34);                   /* channel 0, LSB+MSB, mode 2 */
    outb(&p, 0x40, 0x00);
    outb(&p, 0x40, 0x10);                   /* 4096 */
    fake_now += ns_of(0x123);
    outb(&p, 0x43, 0x00);                   /* latch channel 0 */
    fake_now += ns_of(0x300);
    outb(&p, 0x43, 0x00);                   /* a second latch does not replace the first */
    CHECK_EQ(inb(&p, 0x40), 0xdd);          /* 0x1000 - 0x123 = 0xedd */
    CHECK_EQ(inb(&p, 0x40), 0x0e);
    uint8_t lo = inb(&p, 0x40), hi = inb(&p, 0x40);   /* live again */
    CHECK_EQ(lo | hi << 8, 0x1000 - 0x423);
}

TEST(pit_readback_status)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x43, 0x76);                   /* channel 1, LSB+MSB, mode 3 */
    outb(&p, 0x43, 0xe4);                   /* read-back: status only, channel 1 */
    CHECK_EQ(inb(&p, 0x41), 0x40 | 0x80 | 0x30 | 3 << 1);   /* null count, OUT high */
    outb(&p, 0x41, 0x10);
    outb(&p, 0x41, 0x00);                   /* 16 */
    outb(&p, 0x43, 0xc4);                   /* read-back: count and status, channel 1 */
    CHECK_EQ(inb(&p, 0x41), 0x80 | 0x30 | 3 << 1);          /* status first */
    CHECK_EQ(inb(&p, 0x41), 16);
    CHECK_EQ(inb(&p, 0x41), 0);
}

TEST(pit_mode2_and_mode3_periods)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x61, 0x01);
    outb(&p, 0x43, 0xb4);                   /* channel 2, mode 2, 10 */
    outb(&p, 0x42, 10);
    outb(&p, 0x42, 0);
    fake_now += ns_of(23);                  /* 3 into the third period */
    CHECK_EQ(inb(&p, 0x42), 7);
    inb(&p, 0x42);
    fake_now += ns_of(6);                   /* the period's last tick: OUT low */
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0);
    fake_now += ns_of(1);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);
    outb(&p, 0x43, 0xb6);                   /* mode 3, 10: high 5 ticks, low 5 */
    outb(&p, 0x42, 10);
    outb(&p, 0x42, 0);
    fake_now += ns_of(2);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);
    CHECK_EQ(inb(&p, 0x42), 6);             /* by twos */
    inb(&p, 0x42);
    fake_now += ns_of(5);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0);
}

TEST(pit_one_byte_access_and_bcd)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x43, 0x10);                   /* channel 0, LSB only, mode 0 */
    outb(&p, 0x40, 200);
    fake_now += ns_of(50);
    CHECK_EQ(inb(&p, 0x40), 150);
    CHECK_EQ(inb(&p, 0x40), 150);           /* no flip-flop */
    outb(&p, 0x43, 0x31);                   /* channel 0, LSB+MSB, mode 0, BCD */
    outb(&p, 0x40, 0x00);
    outb(&p, 0x40, 0x10);                   /* 1000 in BCD */
    fake_now += ns_of(1);
    CHECK_EQ(inb(&p, 0x40), 0x99);
    CHECK_EQ(inb(&p, 0x40), 0x09);          /* 999 */
}

TEST(pit_mode1_waits_for_the_gate)
{
    struct pit p;
    setup(&p);
    outb(&p, 0x43, 0xb2);                   /* channel 2, mode 1 */
    outb(&p, 0x42, 100);
    outb(&p, 0x42, 0);
    fake_now += ns_of(50);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);   /* not triggered: OUT high */
    outb(&p, 0x61, 0x01);                   /* rising edge */
    fake_now += ns_of(10);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0);
    CHECK_EQ(inb(&p, 0x42), 90);
    inb(&p, 0x42);
    fake_now += ns_of(90);
    CHECK_EQ(inb(&p, 0x61) & 0x20, 0x20);
}
