/* Network interface specifications, xl-network-configuration(5):
 * comma-separated KEY=VALUE pairs (mac, bridge, ip, type, model, vifname,
 * script, backend, rate, mtu, devid, gatewaydev/netdev) and the flags
 * trusted / untrusted. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vif_spec {
    bool mac_set;
    uint8_t mac[6];
    char *bridge, *ip, *type, *model, *vifname, *script, *backend, *rate, *gatewaydev;
    uint64_t rate_bytes_per_s;  /* from rate, 0 when unset */
    uint32_t rate_interval_us;  /* from rate (default 50000) */
    unsigned mtu;               /* 0 unset */
    int devid;                  /* -1 unset */
    bool untrusted;
    bool accel_ignored;         /* an xm-only key was dropped */
};

/* Parses spec into v (zeroed first). Returns 0, or -1 with err set.
 * Unknown keys are errors; warn (when not NULL, at least 256 bytes) gets
 * the text of a non-fatal remark, or "" when none. */
int vif_parse(struct vif_spec *v, const char *spec, char *err, size_t errlen, char *warn);
/* Parses "00:16:3e:12:34:56" (':' or '-' separated). 0, or -1. */
int mac_parse(const char *s, uint8_t mac[6]);
/* "00:16:3e:12:34:56" into buf (18 bytes). */
void mac_format(const uint8_t mac[6], char buf[18]);
/* A stable MAC in Xen's 00:16:3e range for device index of a domain: derived
 * from the uuid when the domain has one, else from the name. */
void vif_default_mac(const uint8_t *uuid /* 16 bytes or NULL */, const char *name,
                     unsigned index, uint8_t mac[6]);
/* rate "10MB/s", "1Mb/s@20ms": bytes/s and interval. 0, or -1. */
int vif_rate_parse(const char *s, uint64_t *bytes_per_s, uint32_t *interval_us);
/* The spec in xl form ("mac=...,bridge=...,..."); malloc'd or NULL. */
char *vif_to_xl(const struct vif_spec *v);
void vif_spec_free(struct vif_spec *v);
