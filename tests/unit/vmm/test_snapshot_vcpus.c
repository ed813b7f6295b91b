/* The save file's VCPU_SCHED record (snapshot_vcpus.c): what is written for
 * vCPUs down, available and pinned comes back, and a bad record is refused. */
#include "unit.h"
#include "vmm/snapshot_vcpus.h"
#include "vmm/vcpu_ctl.h"
#include "xen/domain.h"

#include <stdlib.h>

static struct domain d;
static char err[256];

static uint8_t *two_vcpus(size_t *len, bool with_ctl)
{
    memset(&d, 0, sizeof(d));
    d.vm.nr_vcpus = 2;
    atomic_store(&d.xv[0].up, true);
    atomic_store(&d.xv[1].up, true);
    atomic_store(&d.xv[1].down, true);
    static struct vcpu_ctl c;
    vcpu_ctl_init(&c, 2, 2);
    CHECK_EQ(vcpu_ctl_arg(&c, false, "0=0", err, sizeof(err)), 0);
    return snapvcpu_encode(&d, with_ctl ? &c : NULL, len);
}

TEST(vcpu_sched_record_round_trip)
{
    size_t len;
    uint8_t *rec = two_vcpus(&len, true);
    struct snap_vcpu_sched s;
    CHECK(rec != NULL);
    CHECK_EQ(snapvcpu_decode(rec, len, 2, &s, err, sizeof(err)), 0);
    CHECK_EQ(s.down, 2);
    CHECK_EQ(s.available, 3);
    CHECK_STR(s.hard[0], "0");
    CHECK_STR(s.hard[1], "all");
    CHECK_STR(s.soft[1], "all");
    static struct vcpu_ctl back;
    vcpu_ctl_init(&back, 2, 1);
    snapvcpu_apply_ctl(&s, &back);
    CHECK_EQ(back.online, 3);
    CHECK(cpumap_test(&back.hard[0], 0));
    CHECK(back.host_cpus < 2 || !cpumap_test(&back.hard[0], 1));
    free(rec);
    /* Without vCPU control: the down bits, every vCPU available, no lists. */
    rec = two_vcpus(&len, false);
    CHECK_EQ(snapvcpu_decode(rec, len, 2, &s, err, sizeof(err)), 0);
    CHECK_EQ(s.down, 2);
    CHECK_EQ(s.available, 3);
    CHECK(s.hard[0] == NULL && s.soft[1] == NULL);
    free(rec);
}

TEST(vcpu_sched_record_refused_when_bad)
{
    size_t len;
    uint8_t *rec = two_vcpus(&len, true);
    struct snap_vcpu_sched s;
    CHECK_EQ(snapvcpu_decode(rec, len, 3, &s, err, sizeof(err)), -1);    /* another count */
    CHECK(strstr(err, "for 3 vCPUs") != NULL);
    CHECK_EQ(snapvcpu_decode(rec, len - 1, 2, &s, err, sizeof(err)), -1);  /* cut short */
    CHECK_EQ(snapvcpu_decode(rec, 8, 2, &s, err, sizeof(err)), -1);
    uint8_t *more = malloc(len + 1);
    memcpy(more, rec, len);
    more[len] = 0;
    CHECK_EQ(snapvcpu_decode(more, len + 1, 2, &s, err, sizeof(err)), -1); /* trailing byte */
    struct snap_vcpu_sched_hdr h;
    memcpy(&h, rec, sizeof(h));
    h.down = 4;                                                             /* no vCPU 2 */
    memcpy(more, &h, sizeof(h));
    CHECK_EQ(snapvcpu_decode(more, len, 2, &s, err, sizeof(err)), -1);
    memcpy(more, rec, len);
    more[len - 1] = 'x';                                                    /* no NUL */
    CHECK_EQ(snapvcpu_decode(more, len, 2, &s, err, sizeof(err)), -1);
    CHECK(strstr(err, "vCPU 1's affinity") != NULL);
    free(more);
    free(rec);
}
