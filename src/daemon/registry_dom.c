/* The registry's domain table and its record files. */
#include "daemon/registry.h"
#include "xenstore/client.h"
#include "toolstack/jsonline.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xen/xen.h>

#define DOMID_MAX (DOMID_FIRST_RESERVED - 1)

char *reg_path(struct registry *r, char *buf, size_t size, unsigned domid, const char *what)
{
    int n;
    if (!strcmp(what, "sock"))
        n = snprintf(buf, size, "%s/dom-%u.sock", r->o.rundir, domid);
    else
        n = snprintf(buf, size, "%s/domains/%u.%s", r->o.rundir, domid, what);
    return n > 0 && (size_t)n < size ? buf : NULL;
}

struct dom *reg_find_id(struct registry *r, unsigned domid)
{
    for (struct dom *d = r->doms; d; d = d->next)
        if (d->domid == domid)
            return d;
    return NULL;
}

struct dom *reg_find_name(struct registry *r, const char *name)
{
    for (struct dom *d = r->doms; d; d = d->next)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

struct dom *reg_find(struct registry *r, const char *what)
{
    char *end;
    errno = 0;
    unsigned long id = strtoul(what, &end, 10);
    if (*what && !*end && !errno && isdigit((unsigned char)what[0]))
        return reg_find_id(r, id);
    return reg_find_name(r, what);
}

const char *reg_check_name(const char *name)
{
    size_t n = strlen(name);
    if (!n)
        return "is empty";
    if (n > 63)
        return "is longer than 63 characters";
    bool digits = true;
    for (const char *p = name; *p; p++) {
        if (!isgraph((unsigned char)*p) || *p == '/' || *p == '\\' || *p == '"')
            return "may hold only visible characters other than / \\ \"";
        digits &= isdigit((unsigned char)*p) != 0;
    }
    if (digits)
        return "is all digits (it would read as a domain id)";
    if (name[0] == '-')
        return "starts with '-'";
    if (!strcmp(name, "Domain-0") || !strcmp(name, "xenkvmd"))
        return "is reserved";
    return NULL;
}

unsigned reg_alloc_domid(struct registry *r)
{
    /* Like Xen: the next id after the last one handed out, wrapping. An id
     * that a domain outside the registry serves (`xenkvm run --domid`) is
     * skipped; whatever a dead domain left under one is scrubbed first. */
    unsigned id = r->last_domid;
    for (unsigned i = 0; i < DOMID_MAX; i++) {
        id = id >= DOMID_MAX ? 1 : id + 1;
        if (reg_find_id(r, id))
            continue;
        struct xs_client *xs = reg_xs(r);
        if (xs && xs_scrub(xs, id) == -EBUSY)
            continue;
        r->last_domid = id;
        return id;
    }
    return 0;
}

static const char *state_name(enum dom_state s)
{
    return s == DOM_RUNNING ? "running" : s == DOM_SHUTDOWN ? "shutdown" : "dying";
}

void reg_save(struct registry *r, struct dom *d)
{
    char path[512], tmp[520];
    if (!reg_path(r, path, sizeof(path), d->domid, "json"))
        return;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "domid", json_object_new_int(d->domid));
    json_object_object_add(o, "name", json_object_new_string(d->name));
    json_object_object_add(o, "uuid", json_object_new_string(d->uuid));
    json_object_object_add(o, "pid", json_object_new_int(d->pid));
    json_object_object_add(o, "pid_start", json_object_new_int64(d->pid_start));
    json_object_object_add(o, "start_time", json_object_new_int64(d->start_time));
    json_object_object_add(o, "state", json_object_new_string(state_name(d->state)));
    json_object_object_add(o, "reason", json_object_new_int(d->reason));
    json_object_object_add(o, "target_kib", json_object_new_int64(d->target_kib));
    json_object_object_add(o, "maxmem_kib", json_object_new_int64(d->maxmem_kib));
    json_object_object_add(o, "weight", json_object_new_int(d->weight));
    json_object_object_add(o, "cap", json_object_new_int(d->cap));
    json_object_object_add(o, "cgroup", json_object_new_string(d->cgroup));
    json_object_object_add(o, "cgroup_systemd", json_object_new_boolean(d->cgroup_systemd));
    json_object_object_add(o, "config", json_object_get(d->config));
    if (json_object_to_file_ext(tmp, o, JSON_C_TO_STRING_PRETTY) < 0 || rename(tmp, path) < 0)
        reg_log("cannot write %s: %s", path, strerror(errno));
    json_object_put(o);
}

void reg_forget(struct registry *r, struct dom *d)
{
    char path[512];
    if (d->pidfd >= 0) {
        epoll_ctl(r->epfd, EPOLL_CTL_DEL, d->pidfd, NULL);
        close(d->pidfd);
    }
    static const char *const files[] = { "json", "status", "sock" };
    for (unsigned i = 0; i < 3; i++)
        if (reg_path(r, path, sizeof(path), d->domid, files[i]))
            unlink(path);
    for (struct dom **p = &r->doms; *p; p = &(*p)->next)
        if (*p == d) {
            *p = d->next;
            break;
        }
    json_object_put(d->config);
    free(d);
}

unsigned long long reg_pid_start(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    /* Field 22 (starttime), counted after the ")" that ends the name. */
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

int reg_watch_pid(struct registry *r, struct dom *d)
{
    d->pidfd = (int)syscall(SYS_pidfd_open, d->pid, 0);
    if (d->pidfd < 0)
        return -errno;
    fcntl(d->pidfd, F_SETFD, FD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = d };
    if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, d->pidfd, &ev) < 0) {
        int e = -errno;
        close(d->pidfd);
        d->pidfd = -1;
        return e;
    }
    return 0;
}

struct xs_client *reg_xs(struct registry *r)
{
    if (!r->xs)
        r->xs = xs_open(r->o.xs_socket);
    return r->xs;
}

static struct dom *from_record(struct json_object *o)
{
    struct json_object *cfg;
    const char *name = jl_str(o, "name", NULL), *uuid = jl_str(o, "uuid", NULL);
    long long domid = jl_int(o, "domid", -1);
    if (!name || !uuid || domid < 1 || domid > DOMID_MAX || strlen(name) >= 64 ||
        strlen(uuid) != 36 || !json_object_object_get_ex(o, "config", &cfg))
        return NULL;
    struct dom *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->domid = domid;
    strcpy(d->name, name);
    strcpy(d->uuid, uuid);
    d->pid = jl_int(o, "pid", 0);
    d->pid_start = jl_int(o, "pid_start", 0);
    d->pidfd = -1;
    d->start_time = jl_int(o, "start_time", 0);
    const char *st = jl_str(o, "state", "running");
    d->state = !strcmp(st, "shutdown") ? DOM_SHUTDOWN : !strcmp(st, "dying") ? DOM_DYING
             : DOM_RUNNING;
    d->reason = jl_int(o, "reason", 0);
    d->target_kib = jl_int(o, "target_kib", 0);
    d->maxmem_kib = jl_int(o, "maxmem_kib", 0);
    d->weight = (int)jl_int(o, "weight", 0);
    d->cap = (int)jl_int(o, "cap", 0);
    snprintf(d->cgroup, sizeof(d->cgroup), "%s", jl_str(o, "cgroup", ""));
    d->cgroup_systemd = jl_bool(o, "cgroup_systemd", false);
    d->config = json_object_get(cfg);
    return d;
}

void reg_load(struct registry *r)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/domains", r->o.rundir);
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json"))
            continue;
        char path[800];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct json_object *o = json_object_from_file(path);
        struct dom *d = o ? from_record(o) : NULL;
        json_object_put(o);
        if (!d || reg_find_id(r, d->domid)) {
            reg_log("ignoring the unreadable domain record %s", path);
            if (d) {
                json_object_put(d->config);
                free(d);
            }
            continue;
        }
        d->next = r->doms;
        r->doms = d;
        if (d->domid > r->last_domid)
            r->last_domid = d->domid;
        if (d->state != DOM_RUNNING)
            continue;
        /* Still the same process (not a reused pid)? Then watch it again. */
        if (d->pid > 0 && reg_pid_start(d->pid) == d->pid_start && reg_watch_pid(r, d) == 0) {
            reg_log("domain %u (%s): re-adopted process %d", d->domid, d->name, (int)d->pid);
            continue;
        }
        d->pid = 0;   /* ended while we were away: handled below */
    }
    closedir(dh);
    for (struct dom *d = r->doms, *next; d; d = next) {
        next = d->next;
        if (d->state == DOM_RUNNING && d->pidfd < 0)
            reg_exited(r, d);
    }
}
