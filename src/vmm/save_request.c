/* xenkvm save, inside the domain process (save_request.h). */
#include "vmm/save_request.h"
#include "vmm/snapshot_state.h"
#include "vmm/snapshot_devices.h"
#include "vmm/snapshot_xenstore.h"
#include "vmm/dump_core.h"
#include "backend/xenstore_relay.h"
#include "backend/devices.h"
#include "common/log.h"
#include "toolstack/jsonline.h"
#include "xen/domain.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint8_t *save_xenstore_part(struct domain *d, struct xs_relay *relay, const char *xenstore,
                            size_t *len, char *err, size_t errlen)
{
    int rc = xs_relay_quiesce(relay, QUIESCE_TIMEOUT_MS);
    if (rc < 0) {
        snprintf(err, errlen, "the guest's xenstore connection %s",
                 rc == -EBUSY ? "has a request half-written: try again" :
                 rc == -EPIPE ? "is broken" : "has requests the daemon does not answer");
        return NULL;
    }
    return snapxs_collect(xenstore, d->domid, relay, len, err, errlen);
}

int save_devices_part(struct domain *d, struct domain_devices *devs, struct xs_relay *relay,
                      struct snap_devs *sd, char *err, size_t errlen)
{
    struct dev_saved *saved = NULL;
    unsigned n = 0;
    *sd = (struct snap_devs){ .visible_domid = relay ? xs_relay_visible_domid(relay) : d->domid };
    if (devs && devices_pause(devs, &saved, &n, err, errlen) < 0)
        return -1;
    sd->devs = saved;
    sd->n = n;
    uint8_t *data = NULL;
    if (devs && devices_saved_data(devs, &data, &sd->data_len) < 0) {
        snprintf(err, errlen, "out of memory");
        devices_resume(devs);
        free(saved);
        sd->devs = NULL;
        return -1;
    }
    sd->data = data;
    return 0;
}

struct json_object *save_request(struct domain *d, struct domain_devices *devs,
                                 struct xs_relay *relay, const char *xenstore,
                                 const struct vcpu_ctl *vcpus, struct json_object *req,
                                 bool *ended)
{
    *ended = false;
    const char *file = jl_str(req, "file", "");
    struct json_object *cfg;
    if (!file[0] || file[0] != '/')
        return jl_error("save: the file must be an absolute path");
    if (!json_object_object_get_ex(req, "config", &cfg) || !json_object_is_type(cfg, json_type_object))
        return jl_error("save: no domain config");
    bool keep = jl_bool(req, "keep", false), leave_paused = jl_bool(req, "paused", false);
    char err[512];
    if (devs && devices_check_saveable(devs, err, sizeof(err)) < 0)
        return jl_error("domain %u cannot be saved: %s", d->domid, err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bool was_paused = vm_is_paused(&d->vm);
    int rc = domain_quiesce(d, QUIESCE_TIMEOUT_MS);
    bool stopped = rc == 0;        /* every vCPU parked: their time may stop */
    uint64_t tsc_stop = vm_guest_tsc(&d->vm);
    bool drained = false;
    struct snap_devs sd = { 0 };
    if (rc < 0)
        snprintf(err, sizeof(err), "cannot stop the vCPUs: %s",
                 rc == -ESRCH ? "the domain is shutting down" : strerror(-rc));
    else {
        size_t xlen = 0;
        uint8_t *xs = NULL;
        if (xenstore && relay && !(xs = save_xenstore_part(d, relay, xenstore, &xlen, err, sizeof(err))))
            rc = -1;
        else if (save_devices_part(d, devs, relay, &sd, err, sizeof(err)) < 0)
            rc = -1;
        else {
            drained = devs != NULL;
            rc = snapshot_save(d, file, json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN),
                               xs, xlen, &sd, vcpus, err, sizeof(err));
        }
        free(xs);
        free((void *)sd.devs);
        free((void *)sd.data);
    }
    /* A domain that goes on has its devices back before its vCPUs. */
    if (drained && (rc < 0 || keep))
        devices_resume(devs);
    /* A domain that goes on does not see the time its save took. */
    if (stopped && !was_paused && (rc < 0 || keep)) {
        pthread_mutex_lock(&d->lock);
        domain_time_skip(d, tsc_stop);
        pthread_mutex_unlock(&d->lock);
    }
    domain_unquiesce(d);
    if (rc < 0) {
        if (!was_paused)
            vm_unpause(&d->vm);
        log_warn("domain %u: save to %s failed: %s; the domain goes on", d->domid, file, err);
        return jl_error("%s", err);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    log_info("domain %u: saved to %s in %ld ms%s", d->domid, file, ms,
             keep ? "" : "; the domain ends");
    if (!keep)
        *ended = true;
    else if (!was_paused && !leave_paused)
        vm_unpause(&d->vm);
    struct json_object *rep = jl_ok();
    json_object_object_add(rep, "ms", json_object_new_int64(ms));
    return rep;
}

struct json_object *dump_core_request(struct domain *d, struct json_object *req)
{
    const char *file = jl_str(req, "file", "");
    if (file[0] != '/')
        return jl_error("dump-core: the file must be an absolute path");
    bool was_paused = vm_is_paused(&d->vm);
    char err[512];
    int rc = domain_quiesce(d, QUIESCE_TIMEOUT_MS);
    bool stopped = rc == 0;
    uint64_t tsc_stop = vm_guest_tsc(&d->vm);
    if (rc < 0)
        snprintf(err, sizeof(err), "cannot stop the vCPUs: %s",
                 rc == -ESRCH ? "the domain is shutting down" : strerror(-rc));
    else
        rc = dump_core(d, file, err, sizeof(err));
    if (stopped && !was_paused) {
        pthread_mutex_lock(&d->lock);
        domain_time_skip(d, tsc_stop);
        pthread_mutex_unlock(&d->lock);
    }
    domain_unquiesce(d);
    if (!was_paused)
        vm_unpause(&d->vm);
    if (rc < 0)
        return jl_error("%s", err);
    log_info("domain %u: core dumped to %s", d->domid, file);
    return jl_ok();
}
