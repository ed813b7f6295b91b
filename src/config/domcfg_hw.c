/* xl.cfg keys beyond what a domain needs to boot: the HVM machine and its
 * emulated devices, graphics, passthrough (kept for libvirt conversion; see
 * struct domcfg_hw) and the vCPU placement and scheduling keys. */
#include "config/cpumap.h"
#include "config/domcfg_build.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { const char *key; size_t off; } bool_keys[] = {
#define B(k) { #k, offsetof(struct domcfg_hw, k) }
    B(pae), B(acpi), B(apic), B(hap), B(viridian), B(hpet), B(nestedhvm), B(e820_host), B(usb),
    B(vnc), B(sdl), B(vncunused), B(spice), B(spicedisable_ticketing), B(spiceagent_mouse),
    B(spicevdagent), B(spice_clipboard_sharing),
#undef B
};

static const struct { const char *key; size_t off; } num_keys[] = {
    { "vncdisplay", offsetof(struct domcfg_hw, vncdisplay) },
    { "spiceport", offsetof(struct domcfg_hw, spiceport) },
    { "spicetls_port", offsetof(struct domcfg_hw, spicetls_port) },
};

static const struct { const char *key; size_t off; } str_keys[] = {
#define S(k) { #k, offsetof(struct domcfg_hw, k) }
    S(boot), S(bios), S(bios_path_override), S(acpi_firmware), S(tsc_mode), S(passthrough),
    S(parallel), S(soundhw), S(vnclisten), S(vncpasswd), S(keymap), S(display), S(xauthority),
    S(spicehost), S(spicepasswd),
#undef S
};

static const struct { const char *key; size_t off; } list_keys[] = {
    { "vfb", offsetof(struct domcfg_hw, vfb) },
    { "pci", offsetof(struct domcfg_hw, pci) },
    { "usbctrl", offsetof(struct domcfg_hw, usbctrl) },
    { "usbdev", offsetof(struct domcfg_hw, usbdev) },
    { "channel", offsetof(struct domcfg_hw, channel) },
    { "device_model_args", offsetof(struct domcfg_hw, dm_args) },
};

/* Read here but not listed above. */
static const char *const other_keys[] = {
    "rtc_timeoffset", "device_model_override", "device_model", "cpuid", "serial", "usbdevice",
    "cpus", "cpus_soft", "cpu_weight", "cap", "max_grant_frames", "max_event_channels",
};

#define N(a) (sizeof(a) / sizeof(*(a)))

bool domcfg_hw_key(const char *key)
{
    for (size_t i = 0; i < N(bool_keys); i++)
        if (!strcmp(key, bool_keys[i].key))
            return true;
    for (size_t i = 0; i < N(num_keys); i++)
        if (!strcmp(key, num_keys[i].key))
            return true;
    for (size_t i = 0; i < N(str_keys); i++)
        if (!strcmp(key, str_keys[i].key))
            return true;
    for (size_t i = 0; i < N(list_keys); i++)
        if (!strcmp(key, list_keys[i].key))
            return true;
    for (size_t i = 0; i < N(other_keys); i++)
        if (!strcmp(key, other_keys[i]))
            return true;
    return false;
}

void domcfg_hw_init(struct domcfg_hw *hw)
{
    memset(hw, 0, sizeof(*hw));
    for (size_t i = 0; i < N(bool_keys); i++)
        *(int *)((char *)hw + bool_keys[i].off) = -1;
    for (size_t i = 0; i < N(num_keys); i++)
        *(int *)((char *)hw + num_keys[i].off) = -1;
}

void domcfg_hw_free(struct domcfg_hw *hw)
{
    for (size_t i = 0; i < N(str_keys); i++)
        free(*(char **)((char *)hw + str_keys[i].off));
    for (size_t i = 0; i < N(list_keys); i++)
        strlist_free((struct strlist *)((char *)hw + list_keys[i].off));
    strlist_free(&hw->serial);
    strlist_free(&hw->usbdevice);
    free(hw->loader);
    free(hw->device_model);
    free(hw->cpuid);
    domcfg_hw_init(hw);
}

static struct strlist *cur_list;

static void add_item(struct build *b, const struct xlset *s, const struct xlv *it)
{
    if (strlist_add(cur_list, it->str))
        xb_bad(b, s, "out of memory");
}

static void read_list(struct build *b, const char *key, struct strlist *l)
{
    cur_list = l;
    xb_each(b, key, add_item);
}

/* A key that may be one string or a list of them (serial, usbdevice, cpus). */
static void string_or_list(struct build *b, const char *key, struct strlist *l, bool *is_list)
{
    const struct xlset *s = xlcfg_find(b->cfg, key);
    if (!s)
        return;
    *is_list = s->val->kind == XLV_LIST;
    if (*is_list) {
        read_list(b, key, l);
        return;
    }
    const char *v = xb_str(b, key, NULL);
    if (v && strlist_add(l, v))
        xb_bad(b, s, "out of memory");
}

/* cpus / cpus_soft: each a CPU list in xl's syntax (checked here; NUMA nodes
 * are resolved on the host that runs the domain). */
static void read_cpus(struct build *b, const char *key, struct strlist *l, bool *is_list)
{
    string_or_list(b, key, l, is_list);
    const struct xlset *s = xlcfg_find(b->cfg, key);
    for (size_t i = 0; s && i < l->n; i++) {
        struct cpumap m;
        char err[200], what[300];
        if (cpumap_parse(l->v[i], &m, CPUMAP_MAX, NULL, NULL, err, sizeof(err)) < 0) {
            snprintf(what, sizeof(what), "'%s': %s", l->v[i], err);
            xb_bad(b, s, what);
        }
    }
    if (*is_list && s && l->n > b->dc->maxvcpus) {
        char what[120];
        snprintf(what, sizeof(what), "%zu CPU lists for %u vCPUs (maxvcpus)", l->n, b->dc->maxvcpus);
        xb_bad(b, s, what);
    }
}

static void read_sched(struct build *b)
{
    struct domcfg *dc = b->dc;
    long long v;
    /* xl's ranges: a credit weight is 1..65535, a cap a percentage of one
     * CPU (0: none) up to all of a domain's vCPUs. */
    if (xb_num(b, "cpu_weight", 1, 65535, &v, NULL))
        dc->cpu_weight = (int)v;
    if (xb_num(b, "cap", 0, 100LL * DOMCFG_MAX_VCPUS, &v, NULL))
        dc->cap = (int)v;
    if (xb_num(b, "max_grant_frames", 1, 1 << 20, &v, NULL))
        dc->max_grant_frames = (unsigned)v;
    if (xb_num(b, "max_event_channels", 1, 1 << 20, &v, NULL))
        dc->max_event_channels = (unsigned)v;
    read_cpus(b, "cpus", &dc->cpus, &dc->cpus_list);
    read_cpus(b, "cpus_soft", &dc->cpus_soft, &dc->cpus_soft_list);
}

/* The line of the first of keys that is set, or 0. */
static int first_line(struct build *b, const char *const *keys)
{
    int line = 0;
    for (; *keys; keys++) {
        const struct xlset *s = xlcfg_find(b->cfg, *keys);
        if (s && (!line || s->line < line))
            line = s->line;
    }
    return line;
}

static void key_lines(struct build *b)
{
    struct domcfg_hw *hw = &b->dc->hw;
    hw->line_type = first_line(b, (const char *[]){ "type", "builder", NULL });
    hw->line_pci = first_line(b, (const char *[]){ "pci", NULL });
    hw->line_usbctrl = first_line(b, (const char *[]){ "usbctrl", NULL });
    hw->line_usbdev = first_line(b, (const char *[]){ "usbdev", NULL });
    hw->line_channel = first_line(b, (const char *[]){ "channel", NULL });
    hw->line_gfx = first_line(b, (const char *[]){ "vfb", "vnc", "sdl", "spice", NULL });
    hw->line_emulated = first_line(b, (const char *[]){ "serial", "parallel", "soundhw",
                                                          "usbdevice", NULL });
    hw->line_e820 = first_line(b, (const char *[]){ "e820_host", NULL });
    hw->line_cpu = first_line(b, (const char *[]){ "cpuid", "tsc_mode", "nestedhvm",
                                                     "device_model_args", NULL });
}

void domcfg_hw_read(struct build *b)
{
    struct domcfg_hw *hw = &b->dc->hw;
    long long v;
    key_lines(b);
    for (size_t i = 0; i < N(bool_keys); i++)
        if (xb_num(b, bool_keys[i].key, LLONG_MIN, LLONG_MAX, &v, NULL))
            *(int *)((char *)hw + bool_keys[i].off) = v != 0;
    for (size_t i = 0; i < N(num_keys); i++)
        if (xb_num(b, num_keys[i].key, 0, 65535, &v, NULL))
            *(int *)((char *)hw + num_keys[i].off) = (int)v;
    for (size_t i = 0; i < N(str_keys); i++)
        xb_dup(b, str_keys[i].key, (char **)((char *)hw + str_keys[i].off));
    for (size_t i = 0; i < N(list_keys); i++)
        read_list(b, list_keys[i].key, (struct strlist *)((char *)hw + list_keys[i].off));
    if (xb_num(b, "rtc_timeoffset", INT_MIN, INT_MAX, &v, NULL)) {
        hw->has_rtc_timeoffset = true;
        hw->rtc_timeoffset = v;
    }
    /* device_model_override is xl's name, device_model xm's (and older libvirt's). */
    xb_dup(b, xlcfg_find(b->cfg, "device_model_override") ? "device_model_override" : "device_model",
           &hw->device_model);
    const struct xlset *s = xlcfg_find(b->cfg, "cpuid");
    if (s && s->val->kind == XLV_LIST)
        diag_warn(b->d, (struct cfg_loc){ s->file, s->line },
                  "cpuid: the list (xend) form is not converted; only \"host,FEATURE=V,...\"");
    else
        xb_dup(b, "cpuid", &hw->cpuid);
    string_or_list(b, "serial", &hw->serial, &hw->serial_list);
    string_or_list(b, "usbdevice", &hw->usbdevice, &hw->usbdevice_list);
    read_sched(b);
}
