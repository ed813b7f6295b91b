#include "vmm/vcpu_ctl.h"
#include "xenstore/client.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A NUMA node's CPUs, from sysfs. */
static int node_cpus(unsigned node, struct cpumap *out, void *opaque)
{
    (void)opaque;
    char path[96], buf[4096], err[64];
    snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", node);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    bool ok = fgets(buf, sizeof(buf), f) != NULL;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return ok && cpumap_parse(buf, out, CPUMAP_MAX, NULL, NULL, err, sizeof(err)) == 0 ? 0 : -1;
}

static void all_cpus(const struct vcpu_ctl *c, struct cpumap *m)
{
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < c->host_cpus && i < CPUMAP_MAX; i++)
        cpumap_set(m, i);
}

void vcpu_ctl_init(struct vcpu_ctl *c, unsigned nr, unsigned online)
{
    memset(c, 0, sizeof(*c));
    c->nr = nr;
    c->online = online >= 64 ? ~0ull : (1ull << online) - 1;
    long n = sysconf(_SC_NPROCESSORS_CONF);
    c->host_cpus = n > 0 ? (unsigned)n : 1;
    for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
        all_cpus(c, &c->hard[i]);
        all_cpus(c, &c->soft[i]);
    }
}

static int parse(struct vcpu_ctl *c, const char *list, struct cpumap *m, char *err, size_t errlen)
{
    char why[200];
    if (cpumap_parse(list, m, c->host_cpus, node_cpus, NULL, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "'%s': %s", list, why);
        return -1;
    }
    bool any = false;
    for (unsigned i = 0; i < c->host_cpus && !any; i++)
        any = cpumap_test(m, i);
    if (!any) {
        snprintf(err, errlen, "'%s' has no CPU of this host (0 to %u)", list, c->host_cpus - 1);
        return -1;
    }
    return 0;
}

int vcpu_ctl_arg(struct vcpu_ctl *c, bool soft, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    struct cpumap m;
    struct cpumap *set = soft ? c->soft : c->hard;
    if (!eq) {
        if (parse(c, arg, &m, err, errlen) < 0)
            return -1;
        for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
            set[i] = m;
        return 0;
    }
    char *e;
    unsigned long v = strtoul(arg, &e, 10);
    if (e != eq || v >= c->nr) {
        snprintf(err, errlen, "'%s': not VCPU=LIST with a vCPU below %u", arg, c->nr);
        return -1;
    }
    if (parse(c, eq + 1, &m, err, errlen) < 0)
        return -1;
    set[v] = m;
    return 0;
}

int vcpu_ctl_apply(struct vcpu_ctl *c, struct vm *vm, unsigned vcpu, char *err, size_t errlen)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    unsigned both = 0, hard = 0;
    for (unsigned i = 0; i < c->host_cpus && i < CPU_SETSIZE; i++)
        both += cpumap_test(&c->hard[vcpu], i) && cpumap_test(&c->soft[vcpu], i);
    for (unsigned i = 0; i < c->host_cpus && i < CPU_SETSIZE; i++)
        if (cpumap_test(&c->hard[vcpu], i) && (!both || cpumap_test(&c->soft[vcpu], i))) {
            CPU_SET(i, &s);
            hard++;
        }
    bool everywhere = hard == c->host_cpus;
    int rc = vcpu_set_affinity(&vm->vcpus[vcpu], everywhere ? NULL : &s);
    if (rc < 0)
        snprintf(err, errlen, "vcpu %u: sched_setaffinity: %s", vcpu, strerror(-rc));
    return rc;
}

int vcpu_ctl_pin(struct vcpu_ctl *c, struct vm *vm, int vcpu, const char *hard, const char *soft,
                 char *err, size_t errlen)
{
    if (vcpu >= (int)c->nr) {
        snprintf(err, errlen, "vcpu %d: the domain has %u vCPUs", vcpu, c->nr);
        return -ENOENT;
    }
    struct cpumap h, s;
    bool set_h = hard && strcmp(hard, "-"), set_s = soft && strcmp(soft, "-");
    if ((set_h && parse(c, hard, &h, err, errlen) < 0) ||
        (set_s && parse(c, soft, &s, err, errlen) < 0))
        return -EINVAL;
    for (unsigned i = vcpu < 0 ? 0 : (unsigned)vcpu; i < c->nr; i++) {
        if (set_h)
            c->hard[i] = h;
        if (set_s)
            c->soft[i] = s;
        int rc = vcpu_ctl_apply(c, vm, i, err, errlen);
        if (rc < 0)
            return rc;
        if (vcpu >= 0)
            break;
    }
    return 0;
}

int vcpu_ctl_set_online(struct vcpu_ctl *c, const char *socket, unsigned domid, unsigned n,
                        char *err, size_t errlen)
{
    if (n < 1 || n > c->nr) {
        snprintf(err, errlen, "Requested %u VCPUs, however maxcpus is %u!", n, c->nr);
        return -EINVAL;
    }
    struct xs_client *xs = socket ? xs_open(socket) : NULL;
    if (!xs) {
        snprintf(err, errlen, "vcpu-set: no xenstore: %s", strerror(errno));
        return -EIO;
    }
    int rc = 0;
    for (unsigned i = 0; i < c->nr && !rc; i++) {
        char path[96];
        snprintf(path, sizeof(path), "/local/domain/%u/cpu/%u/availability", domid, i);
        rc = xs_write_str(xs, 0, path, i < n ? "online" : "offline");
    }
    xs_close(xs);
    if (rc) {
        snprintf(err, errlen, "vcpu-set: xenstore: %s", strerror(-rc));
        return rc;
    }
    c->online = n >= 64 ? ~0ull : (1ull << n) - 1;
    return 0;
}

void vcpu_ctl_describe(const struct vcpu_ctl *c, unsigned vcpu, struct json_object *o)
{
    char buf[512];
    cpumap_format(&c->hard[vcpu], c->host_cpus, true, buf, sizeof(buf));
    json_object_object_add(o, "hard", json_object_new_string(buf));
    cpumap_format(&c->soft[vcpu], c->host_cpus, true, buf, sizeof(buf));
    json_object_object_add(o, "soft", json_object_new_string(buf));
    json_object_object_add(o, "available",
                           json_object_new_boolean(vcpu < 64 && (c->online >> vcpu) & 1));
}
