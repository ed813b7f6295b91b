/* libvirt domain XML for the devices beyond disks and NICs: controllers,
 * character devices and channels, inputs, graphics, sound, video and host
 * devices, as libvirt's Xen driver shows them for an xl/xm config. */
#include "config/chardev.h"
#include "config/domxml_priv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool hvm(const struct domcfg *dc) { return dc->type == DOMCFG_HVM; }

/* The disk index of an emulated disk name ("hdc" -> 2, "sdb" -> 1), or -1. */
static int emulated_index(const char *vdev, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(vdev, prefix, n))
        return -1;
    int idx = 0;
    const char *p = vdev + n;
    if (*p < 'a' || *p > 'z')
        return -1;
    for (; *p >= 'a' && *p <= 'z'; p++)
        idx = idx * 26 + (*p - 'a') + (p > vdev + n ? 26 : 0);
    return idx;
}

void domxml_write_disk_address(struct strbuf *b, const struct domcfg *dc, const char *vdev)
{
    int i;
    if (!hvm(dc))
        return;
    if ((i = emulated_index(vdev, "hd")) >= 0)
        sb_printf(b, "      <address type='drive' controller='0' bus='%d' target='0' unit='%d'/>\n",
                  i / 2, i % 2);
    else if ((i = emulated_index(vdev, "sd")) >= 0)
        sb_printf(b, "      <address type='drive' controller='%d' bus='0' target='0' unit='%d'/>\n",
                  i / 7, i % 7);
}

/* The value of key in a "k=v,k=v" spec (malloc'd), first or last match. */
static char *spec_value(const char *spec, const char *key, bool last)
{
    char *found = NULL;
    size_t kl = strlen(key);
    for (const char *p = spec; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            if (found && !last) 
                return found;
            free(found);
            found = strndup(p + kl + 1, n - kl - 1);
        }
        p += n;
    }
    return found;
}

/* Every item of the spec has an '=' (libvirt drops entries that do not). */
static bool all_keyed(const char *spec)
{
    for (const char *p = spec; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        if (n && !memchr(p, '=', n))
            return false;
        p += n;
    }
    return true;
}

static long hex_value(const char *spec, const char *key, long def, bool *ok)
{
    char *v = spec_value(spec, key, false), *e;
    if (!v)
        return def;
    long r = strtol(v, &e, 16);
    *ok &= e != v && !*e;
    free(v);
    return r;
}

/* usbctrl = [ "type=qusb,version=2,ports=8" ]: entries of another type
 * (pv, devicemodel) or malformed ones are not shown, as in libvirt. */
static bool usbctrl_entry(const char *spec, int *version, long *ports)
{
    char *type = spec_value(spec, "type", false);
    bool ok = all_keyed(spec) && (!type || !strncmp(type, "qusb", 4));
    free(type);
    *version = (int)hex_value(spec, "version", 2, &ok);
    *ports = hex_value(spec, "ports", 8, &ok);
    return ok;
}

static bool has_emulated(const struct domcfg *dc, const char *prefix, int *max_index)
{
    bool any = false;
    *max_index = -1;
    for (size_t i = 0; hvm(dc) && i < dc->ndisks; i++) {
        int idx = emulated_index(dc->disks[i].spec.vdev, prefix);
        if (idx >= 0) {
            any = true;
            if (idx > *max_index)
                *max_index = idx;
        }
    }
    return any;
}

void domxml_write_controllers(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt)
{
    sb_add(b, "    <controller type='xenbus' index='0'");
    if (fmt == NATIVE_XL && dc->max_grant_frames)
        sb_printf(b, " maxGrantFrames='%u'", dc->max_grant_frames);
    if (fmt == NATIVE_XL && dc->max_event_channels)
        sb_printf(b, " maxEventChannels='%u'", dc->max_event_channels);
    sb_add(b, "/>\n");
    int index = 0, version, max;
    long ports;
    for (size_t i = 0; fmt == NATIVE_XL && i < dc->hw.usbctrl.n; i++)
        if (usbctrl_entry(dc->hw.usbctrl.v[i], &version, &ports))
            sb_printf(b, "    <controller type='usb' index='%d' model='qusb%d' ports='%ld'/>\n",
                      index++, version == 1 ? 1 : 2, ports);
    if (has_emulated(dc, "hd", &max))
        sb_add(b, "    <controller type='ide' index='0'/>\n");
    if (has_emulated(dc, "sd", &max))
        for (int c = 0; c <= max / 7; c++)
            sb_printf(b, "    <controller type='scsi' index='%d'/>\n", c);
}

/* <source>s and <protocol> of a character device. */
static void chr_source(struct strbuf *b, const struct chardev *c)
{
    switch (c->type) {
    case CHR_DEV:
    case CHR_FILE:
    case CHR_PIPE:
        xw_start(b, 6, "source");
        xw_attr(b, "path", c->path);
        sb_add(b, "/>\n");
        break;
    case CHR_TCP:
        xw_start(b, 6, "source");
        xw_attr(b, "mode", c->listen ? "bind" : "connect");
        xw_attr(b, "host", c->host);
        xw_attr(b, "service", c->service);
        sb_printf(b, "/>\n      <protocol type='%s'/>\n", c->telnet ? "telnet" : "raw");
        break;
    case CHR_UDP:
        if (c->host || c->service) {
            xw_start(b, 6, "source");
            xw_attr(b, "mode", "connect");
            xw_attr(b, "host", c->host);
            xw_attr(b, "service", c->service);
            sb_add(b, "/>\n");
        }
        if (c->bind_host || c->bind_service) {
            xw_start(b, 6, "source");
            xw_attr(b, "mode", "bind");
            xw_attr(b, "host", c->bind_host);
            xw_attr(b, "service", c->bind_service);
            sb_add(b, "/>\n");
        }
        break;
    case CHR_UNIX:
        xw_start(b, 6, "source");
        xw_attr(b, "mode", c->listen ? "bind" : "connect");
        xw_attr(b, "path", c->path);
        sb_add(b, "/>\n");
        break;
    default:
        break;
    }
}

static void chr_element(struct strbuf *b, const char *elem, const struct chardev *c,
                        const char *target_type, int port)
{
    sb_printf(b, "    <%s type='%s'>\n", elem, chardev_type_name(c->type));
    chr_source(b, c);
    sb_add(b, "      <target");
    xw_attr(b, "type", target_type);
    sb_printf(b, " port='%d'/>\n    </%s>\n", port, elem);
}

/* channel = [ "connection=pty|socket,path=P,name=N" ]. */
static void write_channels(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                           struct cfg_diag *d)
{
    for (size_t i = 0; fmt == NATIVE_XL && i < dc->hw.channel.n; i++) {
        const char *spec = dc->hw.channel.v[i];
        if (!all_keyed(spec))
            continue;
        char *conn = spec_value(spec, "connection", true), *name = spec_value(spec, "name", false),
             *path = spec_value(spec, "path", false);
        bool sock = conn && !strncmp(conn, "socket", 6), pty = conn && !strncmp(conn, "pty", 3);
        if (!sock && !pty) {
            diag_error(d, (struct cfg_loc){ dc->file, 0 }, "channel '%s': connection must be "
                       "pty or socket", spec);
        } else {
            sb_printf(b, "    <channel type='%s'>\n", sock ? "unix" : "pty");
            if (sock) {
                sb_add(b, "      <source mode='bind'");
                xw_attr(b, "path", path);
                sb_add(b, "/>\n");
            }
            sb_add(b, "      <target type='xen'");
            xw_attr(b, "name", name);
            sb_add(b, "/>\n    </channel>\n");
        }
        free(conn);
        free(name);
        free(path);
    }
}

void domxml_write_chardevs(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                           struct cfg_diag *d)
{
    struct cfg_loc at = { dc->file, 0 };
    char err[256];
    if (!hvm(dc)) {
        sb_add(b, "    <console type='pty'>\n      <target type='xen' port='0'/>\n    </console>\n");
        write_channels(b, dc, fmt, d);
        return;
    }
    struct chardev first = { 0 };
    int first_port = -1;
    if (fmt == NATIVE_XM && dc->hw.serial_list && dc->hw.serial.n > 1) {
        diag_error(d, at, "serial: multiple serial devices are not supported by xen-xm");
        return;
    }
    for (size_t i = 0; i < dc->hw.serial.n; i++) {
        const char *s = dc->hw.serial.v[i];
        struct chardev c;
        if (!strcmp(s, "none"))
            continue;
        if (chardev_parse(s, &c, err, sizeof(err)) < 0) {
            diag_error(d, at, "serial '%s': %s", s, err);
            continue;
        }
        chr_element(b, "serial", &c, NULL, (int)i);
        if (first_port < 0) {
            first = c;
            first_port = (int)i;
        } else {
            chardev_free(&c);
        }
    }
    if (dc->hw.parallel && strcmp(dc->hw.parallel, "none")) {
        struct chardev c;
        if (chardev_parse(dc->hw.parallel, &c, err, sizeof(err)) < 0)
            diag_error(d, at, "parallel '%s': %s", dc->hw.parallel, err);
        else
            chr_element(b, "parallel", &c, NULL, 0);
        chardev_free(&c);
    }
    /* libvirt shows the first serial port again as the console. */
    if (first_port >= 0) {
        chr_element(b, "console", &first, "serial", first_port);
        chardev_free(&first);
    }
    write_channels(b, dc, fmt, d);
}

static const char *const sound_models[] = { "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9",
                                            "usb", "ich7", "virtio" };

static void write_sounds(struct strbuf *b, const struct domcfg *dc, struct cfg_diag *d)
{
    const char *hw = dc->hw.soundhw;
    if (!hvm(dc) || !hw)
        return;
    if (!strcmp(hw, "all")) {      /* what Xen's old QEMU had: sb16 and es1370 */
        sb_add(b, "    <sound model='sb16'/>\n    <sound model='es1370'/>\n");
        return;
    }
    for (const char *p = hw; *p;) {
        size_t n = strcspn(p, ",");
        bool known = false;
        for (size_t i = 0; i < sizeof(sound_models) / sizeof(*sound_models); i++)
            known |= strlen(sound_models[i]) == n && !strncmp(p, sound_models[i], n);
        if (known)
            sb_printf(b, "    <sound model='%.*s'/>\n", (int)n, p);
        else
            diag_error(d, (struct cfg_loc){ dc->file, 0 }, "soundhw: unknown sound model '%.*s'",
                       (int)n, p);
        p += n + (p[n] == ',');
    }
}

/* The graphics of dc, whichever way the config gives them. */
struct gfx {
    enum { GFX_NONE, GFX_VNC, GFX_SDL, GFX_SPICE } type;
    bool autoport;
    int port, tls_port;
    char *listen, *passwd, *keymap, *display, *xauth;
};

static void gfx_free(struct gfx *g)
{
    free(g->listen);
    free(g->passwd);
    free(g->keymap);
    free(g->display);
    free(g->xauth);
}

static char *dup0(const char *s) { return s ? strdup(s) : NULL; }

/* A PV guest's first vfb entry, read as libvirt does. */
static void vfb_gfx(const char *spec, struct gfx *g)
{
    g->type = strstr(spec, "type=sdl") ? GFX_SDL : GFX_VNC;
    for (const char *p = spec; *p;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        char *kv = strndup(p, n);
        p += n;
        if (!kv || !strchr(kv, '=')) {
            free(kv);
            break;
        }
        char *v = strchr(kv, '=') + 1;
        if (g->type == GFX_VNC) {
            if (!strncmp(kv, "vncunused=", 10))
                g->autoport = !strcmp(v, "1");
            else if (!strncmp(kv, "vnclisten=", 10))
                free(g->listen), g->listen = strdup(v);
            else if (!strncmp(kv, "vncpasswd=", 10))
                free(g->passwd), g->passwd = strdup(v);
            else if (!strncmp(kv, "keymap=", 7))
                free(g->keymap), g->keymap = strdup(v);
            else if (!strncmp(kv, "vncdisplay=", 11))
                g->port = atoi(v) + 5900;
        } else if (!strncmp(kv, "display=", 8)) {
            free(g->display), g->display = strdup(v);
        } else if (!strncmp(kv, "xauthority=", 11)) {
            free(g->xauth), g->xauth = strdup(v);
        }
        free(kv);
    }
}

static void get_gfx(const struct domcfg *dc, enum native_fmt fmt, struct gfx *g)
{
    const struct domcfg_hw *hw = &dc->hw;
    memset(g, 0, sizeof(*g));
    if (hvm(dc) && fmt == NATIVE_XL && hw->spice > 0) {
        g->type = GFX_SPICE;
        g->listen = dup0(hw->spicehost);
        g->port = hw->spiceport > 0 ? hw->spiceport : 0;
        g->tls_port = hw->spicetls_port > 0 ? hw->spicetls_port : 0;
        g->autoport = !g->port && !g->tls_port;
        if (hw->spicedisable_ticketing <= 0)
            g->passwd = dup0(hw->spicepasswd);
    } else if (hvm(dc) && hw->vnc > 0) {
        g->type = GFX_VNC;
        g->autoport = hw->vncunused != 0;
        if (!g->autoport)
            g->port = (hw->vncdisplay > 0 ? hw->vncdisplay : 0) + 5900;
        g->listen = dup0(hw->vnclisten);
        g->passwd = dup0(hw->vncpasswd);
        g->keymap = dup0(hw->keymap);
    } else if (hvm(dc) && hw->sdl > 0) {
        g->type = GFX_SDL;
        g->display = dup0(hw->display);
        g->xauth = dup0(hw->xauthority);
    } else if (!hvm(dc) && hw->vfb.n) {
        vfb_gfx(hw->vfb.v[0], g);
    }
}

bool domxml_has_graphics(const struct domcfg *dc)
{
    struct gfx g;
    get_gfx(dc, NATIVE_XL, &g);
    gfx_free(&g);
    return g.type != GFX_NONE;
}

static void write_graphics(struct strbuf *b, const struct domcfg *dc, const struct gfx *g)
{
    static const char *const names[] = { "", "vnc", "sdl", "spice" };
    xw_start(b, 4, "graphics");
    xw_attr(b, "type", names[g->type]);
    if (g->type == GFX_SDL) {
        xw_attr(b, "display", g->display);
        xw_attr(b, "xauth", g->xauth);
        sb_add(b, "/>\n");
        return;
    }
    if (g->port)
        sb_printf(b, " port='%d'", g->port);
    else if (g->autoport && g->type == GFX_VNC)
        sb_add(b, " port='-1'");
    if (g->tls_port)
        sb_printf(b, " tlsPort='%d'", g->tls_port);
    sb_printf(b, " autoport='%s'", g->autoport ? "yes" : "no");
    xw_attr(b, "listen", g->listen);
    xw_attr(b, "keymap", g->keymap);
    xw_attr(b, "passwd", g->passwd);
    sb_add(b, ">\n      <listen type='address'");
    xw_attr(b, "address", g->listen);
    sb_add(b, "/>\n");
    if (g->type == GFX_SPICE) {
        sb_printf(b, "      <mouse mode='%s'/>\n",
                  dc->hw.spiceagent_mouse > 0 ? "client" : "server");
        sb_printf(b, "      <clipboard copypaste='%s'/>\n",
                  dc->hw.spice_clipboard_sharing > 0 ? "yes" : "no");
    }
    sb_add(b, "    </graphics>\n");
}

void domxml_write_inputs_graphics(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                                  struct cfg_diag *d)
{
    const struct domcfg_hw *hw = &dc->hw;
    if (hvm(dc)) {
        /* xm knows one usbdevice string; xl also a list. */
        size_t n = fmt == NATIVE_XM && hw->usbdevice_list ? 0 : hw->usbdevice.n;
        for (size_t i = 0; i < n; i++) {
            const char *u = hw->usbdevice.v[i];
            if (!strcmp(u, "tablet") || !strcmp(u, "mouse") || !strcmp(u, "keyboard"))
                sb_printf(b, "    <input type='%s' bus='usb'/>\n", u);
        }
    }
    const char *bus = hvm(dc) ? "ps2" : "xen";
    sb_printf(b, "    <input type='mouse' bus='%s'/>\n    <input type='keyboard' bus='%s'/>\n",
              bus, bus);
    struct gfx g;
    get_gfx(dc, fmt, &g);
    if (g.type == GFX_SPICE && !g.passwd && hw->spicedisable_ticketing <= 0)
        diag_error(d, (struct cfg_loc){ dc->file, 0 },
                   "spicepasswd: needed unless spicedisable_ticketing = 1");
    if (g.type != GFX_NONE)
        write_graphics(b, dc, &g);
    write_sounds(b, dc, d);
    if (hvm(dc) && g.type != GFX_NONE)
        sb_add(b, "    <video>\n      <model type='cirrus' vram='8192' heads='1' primary='yes'/>\n"
                  "    </video>\n");
    gfx_free(&g);
}

/* pci = [ "[DDDD:]BB:SS.F[,permissive=0|1][,...]" ]. 0, or -1. */
static int pci_parse(const char *spec, unsigned v[4], int *filtered)
{
    char *copy = strdup(spec), *opts = copy ? strchr(copy, ',') : NULL, *e;
    if (!copy)
        return -1;
    if (opts)
        *opts++ = 0;
    *filtered = -1;
    int colons = 0;
    for (char *p = copy; *p; p++)
        colons += *p == ':';
    char *p = copy;
    v[0] = 0;
    int rc = -1;
    for (int i = colons == 2 ? 0 : 1; i < 4; i++) {
        unsigned long x = strtoul(p, &e, 16);
        char want = i < 2 ? ':' : i == 2 ? '.' : 0;
        if (e == p || *e != want || (colons != 2 && colons != 1))
            goto out;
        v[i] = (unsigned)x;
        p = e + (want != 0);
    }
    for (char *o = opts, *save = NULL, *t = o ? strtok_r(o, ",", &save) : NULL; t;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            goto out;
        if (!strncmp(t, "permissive", (size_t)(eq - t)) && eq - t == 10) {
            long pv = strtol(eq + 1, &e, 10);
            if (e == eq + 1 || *e)
                goto out;
            *filtered = pv ? 0 : 1;
        }
    }
    rc = 0;
out:
    free(copy);
    return rc;
}

void domxml_write_hostdevs(struct strbuf *b, const struct domcfg *dc, enum native_fmt fmt,
                           struct cfg_diag *d)
{
    for (size_t i = 0; i < dc->hw.pci.n; i++) {
        unsigned v[4];
        int filtered;
        if (pci_parse(dc->hw.pci.v[i], v, &filtered) < 0) {
            diag_error(d, (struct cfg_loc){ dc->file, 0 }, "pci '%s': expected "
                       "[DOMAIN:]BUS:SLOT.FUNCTION[,KEY=VALUE...]", dc->hw.pci.v[i]);
            continue;
        }
        sb_add(b, "    <hostdev mode='subsystem' type='pci' managed='no'>\n"
                  "      <driver name='xen'/>\n      <source");
        if (filtered >= 0)
            sb_printf(b, " writeFiltering='%s'", filtered ? "yes" : "no");
        sb_printf(b, ">\n        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                  "function='0x%x'/>\n      </source>\n    </hostdev>\n", v[0], v[1], v[2], v[3]);
    }
    for (size_t i = 0; fmt == NATIVE_XL && i < dc->hw.usbdev.n; i++) {
        const char *spec = dc->hw.usbdev.v[i];
        bool ok = all_keyed(spec);
        char *bus = spec_value(spec, "hostbus", false), *addr = spec_value(spec, "hostaddr", false);
        long bv = hex_value(spec, "hostbus", -1, &ok), av = hex_value(spec, "hostaddr", -1, &ok);
        if (ok && bus && addr)
            sb_printf(b, "    <hostdev mode='subsystem' type='usb' managed='no'>\n      <source>\n"
                      "        <address bus='%ld' device='%ld'/>\n      </source>\n    </hostdev>\n",
                      bv, av);
        free(bus);
        free(addr);
    }
}
