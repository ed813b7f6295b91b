/* The legacy 8254 PIT's counters (ports 0x40-0x43) and system control port B
 * (0x61: channel 2's gate and output, the refresh toggle), counting in real
 * time from the host clock. No interrupts: a PVH domain has no PIC or IOAPIC,
 * so channel 0's output goes nowhere.
 *
 * Why a PVH domain gets one: early in boot, Linux on AMD calibrates the CPU
 * clock against PIT channel 2 (quick_pit_calibrate) before it trusts Xen's
 * TSC rate. Ports nobody answers read 0xff, which looks like a counter stuck
 * at 0xffff, and Linux then polls port 0x42 100,000 times, each read an exit
 * (seconds of boot time when exits are slow). A counter that counts lets it
 * finish, or give up, within its 50 ms bound. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PIT_PORT_CH0   0x40
#define PIT_PORT_CTRL  0x43
#define PIT_PORT_B     0x61   /* system control port B */
#define PIT_HZ         1193182u

struct pit_channel {
    uint8_t mode;             /* 0..5 */
    uint8_t rw;               /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    bool loaded;              /* a count was written since the control word */
    bool running;             /* counting (modes 1/5: since the gate's rising edge) */
    uint16_t count;           /* as written (0 = 65536, or 10000 in BCD) */
    uint64_t start_ns;        /* when counting began (shifted over gate-low pauses) */
    bool paused;              /* the gate is low: counting stopped at paused_ns */
    uint64_t paused_ns;
    bool write_msb;           /* rw 3: the next write is the MSB */
    uint8_t write_lsb;
    bool read_msb;            /* rw 3: the next read is the MSB */
    bool count_latched;
    uint16_t latch;
    bool latch_msb;           /* rw 3: the next latched read is the MSB */
    bool status_latched;
    uint8_t status;
};

struct pit {
    pthread_mutex_t lock;
    struct pit_channel ch[3];
    uint8_t port_b;           /* bits 0-3 as last written (bit 0: channel 2's gate) */
    uint64_t (*now_ns)(void); /* monotonic clock (tests substitute their own) */
};

void pit_init(struct pit *p, uint64_t (*now_ns)(void));
/* Port I/O at 0x40-0x43 and 0x61; returns false for other ports. */
bool pit_io(struct pit *p, uint16_t port, bool out, uint8_t *data);
