/* gnt_env over a real domain: grants through gnttab_host_map, notifications
 * through evtchn_host_notify, each under the domain lock. */
#pragma once
#include "backend/grant_env.h"

struct domain;

struct domain_env {
    struct domain *d;
    int host_port[GNT_ENV_MAX_PORTS];   /* per notify index, -1 while unbound */
};

/* Fills env to act on de (which must outlive env's use). */
void domain_env_init(struct domain_env *de, struct domain *d, struct gnt_env *env);
