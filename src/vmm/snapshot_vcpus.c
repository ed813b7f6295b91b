/* The VCPU_SCHED record of a save file (snapshot_vcpus.h). */
#include "vmm/snapshot_vcpus.h"
#include "vmm/vcpu_ctl.h"
#include "common/log.h"
#include "xen/domain.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t put_list(uint8_t *p, const char *list)
{
    uint32_t n = list[0] ? (uint32_t)strlen(list) + 1 : 0;
    memcpy(p, &n, 4);
    memcpy(p + 4, list, n);
    return 4 + n;
}

uint8_t *snapvcpu_encode(struct domain *d, const struct vcpu_ctl *c, size_t *len)
{
    unsigned nr = (unsigned)d->vm.nr_vcpus;
    struct snap_vcpu_sched_hdr h = { .nr_vcpus = nr,
                                     .available = nr >= 64 ? ~0ull : (1ull << nr) - 1 };
    for (unsigned i = 0; i < nr; i++)
        if (atomic_load(&d->xv[i].up) && atomic_load(&d->xv[i].down))
            h.down |= 1ull << i;
    if (c)
        h.available = c->online & h.available;
    /* At most two lists of 512 bytes a vCPU (vcpu_ctl_describe's size). */
    uint8_t *p = malloc(sizeof(h) + nr * 2 * (4 + 512));
    if (!p)
        return NULL;
    memcpy(p, &h, sizeof(h));
    size_t at = sizeof(h);
    for (unsigned i = 0; i < nr; i++) {
        char hard[512] = "", soft[512] = "";
        if (c) {
            cpumap_format(&c->hard[i], c->host_cpus, true, hard, sizeof(hard));
            cpumap_format(&c->soft[i], c->host_cpus, true, soft, sizeof(soft));
        }
        at += put_list(p + at, hard);
        at += put_list(p + at, soft);
    }
    *len = at;
    return p;
}

/* One list at *at: its text (NULL when not recorded), or -1 on a bad one. */
static int get_list(const uint8_t *p, size_t len, size_t *at, const char **out)
{
    uint32_t n;
    if (len - *at < 4)
        return -1;
    memcpy(&n, p + *at, 4);
    *at += 4;
    *out = NULL;
    if (!n)
        return 0;
    if (n > 512 || len - *at < n || p[*at + n - 1] || strlen((const char *)p + *at) != n - 1)
        return -1;
    *out = (const char *)p + *at;
    *at += n;
    return 0;
}

int snapvcpu_decode(const void *rec, size_t len, unsigned nr_vcpus, struct snap_vcpu_sched *out,
                    char *err, size_t errlen)
{
    struct snap_vcpu_sched_hdr h;
    const uint8_t *p = rec;
    memset(out, 0, sizeof(*out));
    if (len < sizeof(h)) {
        snprintf(err, errlen, "corrupt: the VCPU_SCHED record is too short");
        return -1;
    }
    memcpy(&h, p, sizeof(h));
    uint64_t mask = nr_vcpus >= 64 ? ~0ull : (1ull << nr_vcpus) - 1;
    if (h.nr_vcpus != nr_vcpus || (h.down & ~mask) || (h.available & ~mask) || !h.available) {
        snprintf(err, errlen, "corrupt: the VCPU_SCHED record (%u vCPUs, down %#llx, "
                 "available %#llx) for %u vCPUs", h.nr_vcpus, (unsigned long long)h.down,
                 (unsigned long long)h.available, nr_vcpus);
        return -1;
    }
    size_t at = sizeof(h);
    for (unsigned i = 0; i < nr_vcpus; i++)
        if (get_list(p, len, &at, &out->hard[i]) < 0 || get_list(p, len, &at, &out->soft[i]) < 0) {
            snprintf(err, errlen, "corrupt: vCPU %u's affinity in the VCPU_SCHED record", i);
            return -1;
        }
    if (at != len) {
        snprintf(err, errlen, "corrupt: %zu bytes after the VCPU_SCHED record's lists", len - at);
        return -1;
    }
    out->down = h.down;
    out->available = h.available;
    return 0;
}

void snapvcpu_apply_ctl(const struct snap_vcpu_sched *s, struct vcpu_ctl *c)
{
    c->online = s->available;
    for (unsigned i = 0; i < c->nr && i < VM_MAX_VCPUS; i++)
        for (int soft = 0; soft < 2; soft++) {
            const char *list = soft ? s->soft[i] : s->hard[i];
            char arg[600], err[512];
            if (!list)
                continue;
            snprintf(arg, sizeof(arg), "%u=%s", i, list);
            if (vcpu_ctl_arg(c, soft, arg, err, sizeof(err)) < 0)
                log_warn("vcpu %u: the saved %s affinity does not fit this host (%s); "
                         "the config's stands", i, soft ? "soft" : "hard", err);
        }
}
