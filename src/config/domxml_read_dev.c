/* libvirt domain XML -> the device keys of struct domcfg_hw: controllers,
 * character devices, channels, inputs, graphics, sound, host devices, the
 * device model's arguments. As libvirt's Xen driver writes them. */
#include "config/chardev.h"
#define DOMXML_READER
#include "config/domxml_priv.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool hvm(struct rd *r) { return r->dc->type == DOMCFG_HVM; }

static void add(struct rd *r, xmlNodePtr n, struct strlist *l, char *s)
{
    if (!s || strlist_add(l, s) < 0)
        diag_error(r->d, loc(r, n), "out of memory");
    free(s);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, f);
    if (vasprintf(&s, f, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void read_controller(struct rd *r, xmlNodePtr n)
{
    long long v;
    if (prop_is(n, "type", "xenbus")) {
        if (r->fmt != NATIVE_XL)
            return;
        if (xr_int_prop(r, n, "maxGrantFrames", 1, INT_MAX, &v))
            r->dc->max_grant_frames = (unsigned)v;
        if (xr_int_prop(r, n, "maxEventChannels", 1, INT_MAX, &v))
            r->dc->max_event_channels = (unsigned)v;
        return;
    }
    if (!prop_is(n, "type", "usb") || r->fmt != NATIVE_XL)
        return;
    char *model = prop(n, "model");
    struct strbuf b = { 0 };
    if (model && strcmp(model, "qusb1") && strcmp(model, "qusb2")) {
        diag_error(r->d, loc(r, n), "<controller type='usb' model='%s'>: only qusb1 and qusb2 "
                   "convert (usbctrl)", model);
        free(model);
        return;
    }
    if (model)
        sb_printf(&b, "type=qusb,version=%c,", model[4]);
    if (xr_int_prop(r, n, "ports", 1, 255, &v))
        sb_printf(&b, "ports=%llx", v);
    free(model);
    add(r, n, &r->dc->hw.usbctrl, sb_take(&b));
}

/* A <serial>/<parallel>/<channel>'s source as a chardev. 0, or -1. */
static int chr_from_xml(struct rd *r, xmlNodePtr n, struct chardev *c)
{
    memset(c, 0, sizeof(*c));
    char *type = prop(n, "type");
    if (!type || chardev_type_parse(type, &c->type) < 0) {
        diag_error(r->d, loc(r, n), "<%s type='%s'>: not a character device type xl knows",
                   (const char *)n->name, type ? type : "");
        free(type);
        return -1;
    }
    free(type);
    for (xmlNodePtr s = n->children; s; s = s->next) {
        if (!is(s, "source"))
            continue;
        bool bind = prop_is(s, "mode", "bind");
        if (c->type == CHR_UDP && bind) {
            c->bind_host = prop(s, "host");
            c->bind_service = prop(s, "service");
        } else if (c->type == CHR_UDP || c->type == CHR_TCP) {
            c->host = prop(s, "host");
            c->service = prop(s, "service");
            c->listen = bind;
        } else {
            c->path = prop(s, "path");
            c->listen = bind;
        }
    }
    c->telnet = c->type == CHR_TCP && prop_is(child(n, "protocol"), "type", "telnet");
    return 0;
}

static void read_chr(struct rd *r, xmlNodePtr n, bool serial)
{
    struct chardev c;
    if (!hvm(r) || chr_from_xml(r, n, &c) < 0)
        return;
    char *spec = chardev_format(&c);
    chardev_free(&c);
    if (!serial) {
        if (!r->dc->hw.parallel)
            r->dc->hw.parallel = spec;
        else
            free(spec);
        return;
    }
    long long port = (long long)r->nserials;
    xr_int_prop(r, child(n, "target"), "port", 0, 15, &port);
    if (r->nserials == sizeof(r->serials) / sizeof(*r->serials) || !spec) {
        diag_error(r->d, loc(r, n), "<serial>: at most 16 serial ports");
        free(spec);
        return;
    }
    r->serials[r->nserials].port = (int)port;
    r->serials[r->nserials++].spec = spec;
}

static void read_channel(struct rd *r, xmlNodePtr n)
{
    xmlNodePtr t = child(n, "target");
    if (r->fmt != NATIVE_XL || !prop_is(t, "type", "xen"))
        return;
    char *type = prop(n, "type"), *name = prop(t, "name");
    char *path = prop(child(n, "source"), "path");
    struct strbuf b = { 0 };
    if (type && !strcmp(type, "pty")) {
        sb_add(&b, "connection=pty,");
    } else if (type && !strcmp(type, "unix")) {
        sb_add(&b, "connection=socket,");
        if (path)
            sb_printf(&b, "path=%s,", path);
    } else {
        diag_error(r->d, loc(r, n), "<channel type='%s'>: only pty and unix convert",
                   type ? type : "");
        sb_free(&b);
        goto out;
    }
    sb_printf(&b, "name=%s", name ? name : "");
    add(r, n, &r->dc->hw.channel, sb_take(&b));
out:
    free(type);
    free(name);
    free(path);
}

static void read_input(struct rd *r, xmlNodePtr n)
{
    struct domcfg_hw *hw = &r->dc->hw;
    char *type = prop(n, "type");
    if (hvm(r) && prop_is(n, "bus", "usb") && type &&
        (!strcmp(type, "mouse") || !strcmp(type, "tablet") || !strcmp(type, "keyboard")) &&
        (r->fmt == NATIVE_XL || !hw->usbdevice.n)) {
        hw->usb = 1;
        add(r, n, &hw->usbdevice, strdup(type));
    }
    free(type);
}

static void read_sound(struct rd *r, xmlNodePtr n)
{
    struct domcfg_hw *hw = &r->dc->hw;
    char *model = prop(n, "model");
    if (hvm(r) && model) {
        char *j = hw->soundhw ? fmt("%s,%s", hw->soundhw, model) : strdup(model);
        free(hw->soundhw);
        hw->soundhw = j;
    }
    free(model);
}

static void read_hostdev(struct rd *r, xmlNodePtr n)
{
    xmlNodePtr src = child(n, "source"), a = child(src, "address");
    long long v[4] = { 0, 0, 0, 0 };
    if (!prop_is(n, "mode", "subsystem"))
        return;
    if (prop_is(n, "type", "pci")) {
        static const char *const k[] = { "domain", "bus", "slot", "function" };
        for (int i = 0; i < 4; i++) {
            char *s = prop(a, k[i]), *e;
            if (s)
                v[i] = strtoll(s, &e, 0);
            if (!s || e == s || *e || v[i] < 0 || v[i] > 0xffff) {
                diag_error(r->d, loc(r, a ? a : n), "<hostdev type='pci'>: bad or missing "
                           "address %s", k[i]);
                free(s);
                return;
            }
            free(s);
        }
        const char *perm = prop_is(src, "writeFiltering", "yes") ? ",permissive=0"
                         : prop_is(src, "writeFiltering", "no") ? ",permissive=1" : "";
        add(r, n, &r->dc->hw.pci, fmt("%04llx:%02llx:%02llx.%llx%s", v[0], v[1], v[2], v[3],
                                      perm));
    } else if (prop_is(n, "type", "usb") && r->fmt == NATIVE_XL) {
        if (xr_int_prop(r, a, "bus", 0, 65535, &v[0]) && xr_int_prop(r, a, "device", 0, 65535, &v[1]))
            add(r, n, &r->dc->hw.usbdev, fmt("hostbus=%llx,hostaddr=%llx", v[0], v[1]));
        else
            diag_error(r->d, loc(r, n), "<hostdev type='usb'>: needs <address bus= device=>");
    }
}

bool domxml_read_device(struct rd *r, xmlNodePtr n)
{
    if (is(n, "emulator")) {
        free(r->dc->hw.device_model);
        r->dc->hw.device_model = text(n);
    } else if (is(n, "controller")) {
        read_controller(r, n);
    } else if (is(n, "serial") || is(n, "parallel")) {
        read_chr(r, n, is(n, "serial"));
    } else if (is(n, "channel")) {
        read_channel(r, n);
    } else if (is(n, "input")) {
        read_input(r, n);
    } else if (is(n, "graphics")) {
        if (!r->ngraphics++)
            r->graphics = n;
    } else if (is(n, "sound")) {
        read_sound(r, n);
    } else if (is(n, "hostdev")) {
        read_hostdev(r, n);
    } else if (!is(n, "console") && !is(n, "video") && !is(n, "memballoon")) {
        diag_warn(r->d, loc(r, n), "<%s>: not converted", (const char *)n->name);
        return false;
    }
    return true;
}

/* The first <listen> address, or the listen attribute. */
static char *listen_addr(xmlNodePtr g)
{
    char *a = prop(child(g, "listen"), "address");
    return a ? a : prop(g, "listen");
}

static void read_spice(struct rd *r, xmlNodePtr g)
{
    struct domcfg_hw *hw = &r->dc->hw;
    long long v;
    hw->sdl = hw->vnc = 0;
    hw->spice = 1;
    hw->spicehost = listen_addr(g);
    hw->spiceport = xr_int_prop(r, g, "port", 0, 65535, &v) ? (int)v : 0;
    hw->spicetls_port = xr_int_prop(r, g, "tlsPort", 0, 65535, &v) ? (int)v : 0;
    hw->spicepasswd = prop(g, "passwd");
    hw->spicedisable_ticketing = !hw->spicepasswd;
    if (prop_is(child(g, "mouse"), "mode", "server"))
        hw->spiceagent_mouse = 0;
    else if (prop_is(child(g, "mouse"), "mode", "client"))
        hw->spiceagent_mouse = hw->spicevdagent = 1;
    if (prop_is(child(g, "clipboard"), "copypaste", "yes"))
        hw->spice_clipboard_sharing = hw->spicevdagent = 1;
}

static void read_graphics(struct rd *r, xmlNodePtr g)
{
    struct domcfg_hw *hw = &r->dc->hw;
    char *type = prop(g, "type");
    long long port = 0;
    bool autoport = prop_is(g, "autoport", "yes");
    if (type && !strcmp(type, "spice") && hvm(r) && r->fmt == NATIVE_XL) {
        read_spice(r, g);
    } else if (r->ngraphics != 1 || !type || (strcmp(type, "vnc") && strcmp(type, "sdl"))) {
        diag_warn(r->d, loc(r, g), "<graphics>: only one VNC or SDL display converts");
    } else if (!strcmp(type, "sdl")) {
        char *d = prop(g, "display"), *x = prop(g, "xauth");
        if (hvm(r)) {
            hw->sdl = 1, hw->vnc = 0;
            hw->display = d, hw->xauthority = x;
            d = x = NULL;
        } else {
            struct strbuf b = { 0 };
            sb_add(&b, "type=sdl");
            if (d)
                sb_printf(&b, ",display=%s", d);
            if (x)
                sb_printf(&b, ",xauthority=%s", x);
            add(r, g, &hw->vfb, sb_take(&b));
        }
        free(d);
        free(x);
    } else {
        xr_int_prop(r, g, "port", -1, 65535, &port);
        autoport |= port == -1;
        char *listen = listen_addr(g), *pw = prop(g, "passwd"), *km = prop(g, "keymap");
        if (hvm(r)) {
            hw->sdl = 0, hw->vnc = 1;
            hw->vncunused = autoport;
            if (!autoport)
                hw->vncdisplay = (int)port - 5900;
            hw->vnclisten = listen, hw->vncpasswd = pw, hw->keymap = km;
        } else {
            struct strbuf b = { 0 };
            sb_printf(&b, "type=vnc,vncunused=%d", autoport);
            if (!autoport)
                sb_printf(&b, ",vncdisplay=%lld", port - 5900);
            if (listen)
                sb_printf(&b, ",vnclisten=%s", listen);
            if (pw)
                sb_printf(&b, ",vncpasswd=%s", pw);
            if (km)
                sb_printf(&b, ",keymap=%s", km);
            add(r, g, &hw->vfb, sb_take(&b));
            free(listen);
            free(pw);
            free(km);
        }
    }
    free(type);
}

void domxml_read_devices_done(struct rd *r)
{
    struct domcfg_hw *hw = &r->dc->hw;
    int max = -1;
    for (size_t i = 0; i < r->nserials; i++)
        if (r->serials[i].port > max)
            max = r->serials[i].port;
    if (r->nserials == 1 && max == 0) {
        add(r, NULL, &hw->serial, r->serials[0].spec);
        r->serials[0].spec = NULL;
    } else if (r->nserials) {
        if (r->fmt == NATIVE_XM)
            diag_error(r->d, (struct cfg_loc){ r->file, 0 }, "<serial>: multiple serial devices "
                       "are not supported by xen-xm");
        hw->serial_list = true;
        for (int p = 0; p <= max; p++) {
            const char *spec = "none";
            for (size_t i = 0; i < r->nserials; i++)
                if (r->serials[i].port == p)
                    spec = r->serials[i].spec;
            add(r, NULL, &hw->serial, strdup(spec));
        }
    }
    for (size_t i = 0; i < r->nserials; i++)
        free(r->serials[i].spec);
    r->nserials = 0;
    if (r->graphics)
        read_graphics(r, r->graphics);
}

void domxml_read_commandline(struct rd *r, xmlNodePtr dom)
{
    for (xmlNodePtr c = dom->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "commandline") ||
            !c->ns || !c->ns->href || strcmp((const char *)c->ns->href, LIBVIRT_XEN_NS))
            continue;
        for (xmlNodePtr a = c->children; a; a = a->next)
            if (a->type == XML_ELEMENT_NODE && !strcmp((const char *)a->name, "arg"))
                add(r, a, &r->dc->hw.dm_args, prop(a, "value"));
    }
}
