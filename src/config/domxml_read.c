/* libvirt domain XML -> struct domcfg (libxml2). Elements xenkvm has no use
 * for (console, input, graphics, ...) are skipped. */
#include "config/domxml.h"
#include "config/domxml_module.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XENKVM_NS "urn:xenkvm:domain:1"

struct rd {
    struct domcfg *dc;
    struct cfg_diag *d;
    const char *file;
    enum native_fmt fmt;
};

static struct cfg_loc loc(struct rd *r, xmlNodePtr n)
{
    return (struct cfg_loc){ r->file, n ? (int)xmlGetLineNo(n) : 0 };
}

static bool is(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name) && !c->ns)
            return c;
    return NULL;
}

/* malloc'd copies (NULL when absent). */
static char *text(xmlNodePtr n)
{
    if (!n)
        return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return s;
}

static char *prop(xmlNodePtr n, const char *name)
{
    xmlChar *t = n ? xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
    char *s = t ? strdup((const char *)t) : NULL;
    xmlFree(t);
    return s;
}

static bool prop_is(xmlNodePtr n, const char *name, const char *v)
{
    char *p = prop(n, name);
    bool r = p && !strcmp(p, v);
    free(p);
    return r;
}

/* <memory unit='...'>N</memory> in MiB, rounded up. */
static bool read_mem(struct rd *r, xmlNodePtr n, uint64_t *mib)
{
    static const struct { const char *u; unsigned long long mul; } units[] = {
        { "b", 1 }, { "bytes", 1 }, { "KB", 1000 }, { "k", 1024 }, { "KiB", 1024 },
        { "MB", 1000000 }, { "M", 1 << 20 }, { "MiB", 1 << 20 }, { "GB", 1000000000 },
        { "G", 1 << 30 }, { "GiB", 1 << 30 }, { "TB", 1000000000000ull },
        { "T", 1ull << 40 }, { "TiB", 1ull << 40 },
    };
    char *u = prop(n, "unit"), *t = text(n), *e = NULL;
    unsigned long long mul = 0, v = t ? strtoull(t, &e, 10) : 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
        if (!strcmp(u ? u : "KiB", units[i].u))
            mul = units[i].mul;
    bool ok = mul && t && e != t && !*e && t[0] != '-' && v <= (DOMCFG_MAX_MEMORY_MIB << 20) / mul;
    if (!ok)
        diag_error(r->d, loc(r, n), "<%s>: invalid amount '%s'%s%s", (const char *)n->name,
                   t ? t : "", u ? " unit " : "", u ? u : "");
    else if ((*mib = (v * mul + (1 << 20) - 1) >> 20) == 0)
        ok = false, diag_error(r->d, loc(r, n), "<%s>: less than 1 MiB", (const char *)n->name);
    free(u);
    free(t);
    return ok;
}

static bool read_uint(struct rd *r, xmlNodePtr n, const char *what, const char *s, unsigned max,
                      unsigned *out)
{
    char *e;
    unsigned long v = s ? strtoul(s, &e, 10) : 0;
    if (!s || e == s || *e || s[0] == '-' || v < 1 || v > max) {
        diag_error(r->d, loc(r, n), "%s: invalid value '%s' (1 to %u)", what, s ? s : "", max);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

static void read_vcpu(struct rd *r, xmlNodePtr n)
{
    if (!n)
        return;
    char *t = text(n), *cur = prop(n, "current");
    unsigned max = 1, now;
    if (read_uint(r, n, "<vcpu>", t, DOMCFG_MAX_VCPUS, &max))
        r->dc->vcpus = r->dc->maxvcpus = max;
    if (cur && read_uint(r, n, "<vcpu current>", cur, max, &now))
        r->dc->vcpus = now;
    free(t);
    free(cur);
}

static void read_os(struct rd *r, xmlNodePtr os, xmlNodePtr dom)
{
    xmlNodePtr t = child(os, "type");
    if (!t) {
        diag_error(r->d, loc(r, os ? os : dom), "<os><type> is missing");
        return;
    }
    char *ty = text(t);
    if (ty && (!strcmp(ty, "linux") || !strcmp(ty, "xen")))
        r->dc->type = DOMCFG_PV;
    else if (ty && !strcmp(ty, "xenpvh"))
        r->dc->type = DOMCFG_PVH;
    else if (ty && !strcmp(ty, "hvm"))
        diag_error(r->d, loc(r, t), "<os><type>: hvm guests are not supported by xenkvm (linux or xenpvh)");
    else
        diag_error(r->d, loc(r, t), "<os><type>: unknown OS type '%s' (linux or xenpvh)", ty ? ty : "");
    free(ty);
    r->dc->kernel = text(child(os, "kernel"));
    r->dc->ramdisk = text(child(os, "initrd"));
    r->dc->cmdline = text(child(os, "cmdline"));
}

static void read_action(struct rd *r, xmlNodePtr dom, const char *name, enum domcfg_action *a)
{
    xmlNodePtr n = child(dom, name);
    char *t = text(n);
    if (t && domcfg_action_parse(t, a))
        diag_error(r->d, loc(r, n), "<%s>: invalid action '%s'", name, t);
    free(t);
}

static void disk_backend(struct disk_spec *s, const char *driver, bool block, const char *type)
{
    char pre[32];
    const char *p = NULL;
    if (!driver) {
        s->backend = block ? DISK_BK_PHY : DISK_BK_AUTO;
        p = block ? "phy" : "file";
    } else if (!strcmp(driver, "phy")) {
        s->backend = DISK_BK_PHY;
        p = "phy";
    } else if (!strcmp(driver, "qemu")) {
        s->backend = DISK_BK_QDISK;
    } else if (!strcmp(driver, "tap") || !strcmp(driver, "tap2")) {
        s->backend = DISK_BK_TAP;
        snprintf(pre, sizeof(pre), "%s:%s", driver,
                 s->format == DISK_FMT_RAW ? "aio" : disk_format_name(s->format));
        p = pre;
    } else {
        p = "file";
    }
    (void)type;
    s->prefix = p ? strdup(p) : NULL;
}

static void read_disk(struct rd *r, xmlNodePtr n)
{
    struct disk_spec s = { .discard = -1, .devid = -1 };
    char *type = prop(n, "type"), *dev = prop(n, "device");
    xmlNodePtr drv = child(n, "driver"), src = child(n, "source"), tgt = child(n, "target");
    char *dname = prop(drv, "name"), *dtype = prop(drv, "type");
    bool block = type && !strcmp(type, "block");
    if (type && strcmp(type, "file") && !block) {
        diag_error(r->d, loc(r, n), "<disk type='%s'>: only file and block disks are supported", type);
        goto out;
    }
    if (dev && strcmp(dev, "disk") && strcmp(dev, "cdrom")) {
        diag_error(r->d, loc(r, n), "<disk device='%s'>: only disk and cdrom are supported", dev);
        goto out;
    }
    s.cdrom = dev && !strcmp(dev, "cdrom");
    if (dtype && strcmp(dtype, "aio") && disk_format_parse(dtype, &s.format)) {
        diag_error(r->d, loc(r, drv), "<driver type='%s'>: unknown disk format", dtype);
        goto out;
    }
    s.target = prop(src, block ? "dev" : "file");
    if (!s.target)
        s.target = prop(src, block ? "file" : "dev");
    s.vdev = prop(tgt, "dev");
    if (!s.vdev) {
        diag_error(r->d, loc(r, tgt ? tgt : n), "<disk>: <target dev=...> is missing");
        goto out;
    }
    if ((s.devid = disk_vdev_devid(s.vdev)) < 0) {
        diag_error(r->d, loc(r, tgt), "<disk>: invalid target dev '%s'", s.vdev);
        goto out;
    }
    if (!s.target && !s.cdrom) {
        diag_error(r->d, loc(r, n), "<disk>: <source> is missing");
        goto out;
    }
    s.readonly = child(n, "readonly") != NULL;
    disk_backend(&s, dname, block, type);
    struct domcfg *dc = r->dc;
    struct domcfg_disk *nd = realloc(dc->disks, (dc->ndisks + 1) * sizeof(*nd));
    if (!nd) {
        diag_error(r->d, loc(r, n), "out of memory");
        goto out;
    }
    dc->disks = nd;
    nd[dc->ndisks++] = (struct domcfg_disk){ .spec = s, .text = disk_to_xl(&s), .line = loc(r, n).line };
    s = (struct disk_spec){ .discard = -1 };
out:
    disk_spec_free(&s);
    free(type);
    free(dev);
    free(dname);
    free(dtype);
}

static void read_iface(struct rd *r, xmlNodePtr n)
{
    struct vif_spec v = { .devid = -1 };
    char *type = prop(n, "type"), *mac = prop(child(n, "mac"), "address"), *model = NULL;
    if (!type || (strcmp(type, "bridge") && strcmp(type, "ethernet"))) {
        diag_error(r->d, loc(r, n), "<interface type='%s'>: only bridge and ethernet are supported",
                   type ? type : "");
        goto out;
    }
    if (mac) {
        if (mac_parse(mac, v.mac)) {
            diag_error(r->d, loc(r, child(n, "mac")), "<mac>: invalid address '%s'", mac);
            goto out;
        }
        v.mac_set = true;
    }
    v.bridge = prop(child(n, "source"), "bridge");
    size_t iplen = 0;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        char *a = is(c, "ip") ? prop(c, "address") : NULL;
        if (!a)
            continue;
        char *j = realloc(v.ip, iplen + strlen(a) + 2);
        if (j) {
            sprintf(j + iplen, "%s%s", iplen ? " " : "", a);
            iplen = strlen(j);
            v.ip = j;
        }
        free(a);
    }
    char *avg = prop(child(child(n, "bandwidth"), "outbound"), "average");
    if (avg) {
        char *e;
        unsigned long long k = strtoull(avg, &e, 10);
        if (e == avg || *e || avg[0] == '-' || k == 0 ||
            asprintf(&v.rate, "%lluKB/s", k) < 0 || vif_rate_parse(v.rate, &v.rate_bytes_per_s,
                                                                    &v.rate_interval_us)) {
            diag_error(r->d, loc(r, child(n, "bandwidth")), "<outbound>: invalid average '%s'", avg);
            free(avg);
            goto out;
        }
        free(avg);
    }
    v.script = prop(child(n, "script"), "path");
    v.backend = prop(child(n, "backenddomain"), "name");
    v.vifname = prop(child(n, "target"), "dev");
    model = prop(child(n, "model"), "type");
    if (model && !strcmp(model, "netfront"))
        v.type = strdup(r->fmt == NATIVE_XM ? "netfront" : "vif");
    else if (model)
        v.model = strdup(model);
    char *mtu = prop(child(n, "mtu"), "size");
    unsigned m;
    if (mtu && read_uint(r, child(n, "mtu"), "<mtu size>", mtu, 65535, &m))
        v.mtu = m;
    free(mtu);
    struct domcfg *dc = r->dc;
    struct domcfg_vif *nv = realloc(dc->vifs, (dc->nvifs + 1) * sizeof(*nv));
    if (!nv) {
        diag_error(r->d, loc(r, n), "out of memory");
        goto out;
    }
    dc->vifs = nv;
    nv[dc->nvifs++] = (struct domcfg_vif){ .spec = v, .text = vif_to_xl(&v), .line = loc(r, n).line };
    v = (struct vif_spec){ .devid = -1 };
out:
    vif_spec_free(&v);
    free(type);
    free(mac);
    free(model);
}

static void read_metadata(struct rd *r, xmlNodePtr md)
{
    for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next) {
        if (!is(c, "pvshim") || !c->ns || !c->ns->href || strcmp((const char *)c->ns->href, XENKVM_NS))
            continue;
        r->dc->pvshim = true;
        r->dc->pvshim_path = prop(c, "path");
        r->dc->pvshim_cmdline = prop(c, "cmdline");
        r->dc->pvshim_extra = prop(c, "extra");
    }
}

static void read_domain(struct rd *r, xmlNodePtr dom)
{
    struct domcfg *dc = r->dc;
    if (!is(dom, "domain")) {
        diag_error(r->d, loc(r, dom), "the root element is <%s>, not <domain>", (const char *)dom->name);
        return;
    }
    if (!prop_is(dom, "type", "xen"))
        diag_error(r->d, loc(r, dom), "<domain>: type must be 'xen'");
    xmlNodePtr n = child(dom, "name");
    if (!(dc->name = text(n)) || !*dc->name)
        diag_error(r->d, loc(r, n ? n : dom), "<name> is missing or empty");
    if ((n = child(dom, "uuid"))) {
        char *u = text(n);
        if (!u || uuid_parse(u, dc->uuid))
            diag_error(r->d, loc(r, n), "<uuid>: '%s' is not a UUID", u ? u : "");
        else
            dc->has_uuid = true;
        free(u);
    }
    read_metadata(r, child(dom, "metadata"));
    if (!(n = child(dom, "memory")))
        diag_error(r->d, loc(r, dom), "<memory> is missing");
    else if (read_mem(r, n, &dc->maxmem_mib))
        dc->memory_mib = dc->maxmem_mib;
    if ((n = child(dom, "currentMemory")) && read_mem(r, n, &dc->memory_mib) &&
        dc->memory_mib > dc->maxmem_mib)
        diag_error(r->d, loc(r, n), "<currentMemory> is larger than <memory>");
    read_vcpu(r, child(dom, "vcpu"));
    dc->bootloader = text(child(dom, "bootloader"));
    char *args = text(child(dom, "bootloader_args")), *save = NULL;
    for (char *w = args ? strtok_r(args, " \t", &save) : NULL; w; w = strtok_r(NULL, " \t", &save)) {
        char **na = realloc(dc->bootloader_args, (dc->nbootloader_args + 1) * sizeof(*na));
        if (!na)
            break;
        dc->bootloader_args = na;
        if ((na[dc->nbootloader_args] = strdup(w)))
            dc->nbootloader_args++;
    }
    free(args);
    read_os(r, child(dom, "os"), dom);
    dc->localtime = prop_is(child(dom, "clock"), "offset", "localtime");
    read_action(r, dom, "on_poweroff", &dc->on_poweroff);
    read_action(r, dom, "on_reboot", &dc->on_reboot);
    read_action(r, dom, "on_crash", &dc->on_crash);
    for (n = child(dom, "devices") ? child(dom, "devices")->children : NULL; n; n = n->next) {
        if (is(n, "disk"))
            read_disk(r, n);
        else if (is(n, "interface"))
            read_iface(r, n);
    }
}

/* The first error libxml2 reports (its last error is often a consequence). */
struct first_err {
    int line;
    char msg[256];
};

static void on_xml_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    struct first_err *f = ctxt ? ctxt->_private : NULL;
    if (!f || f->msg[0] || !e || e->level < XML_ERR_ERROR)
        return;
    f->line = e->line;
    snprintf(f->msg, sizeof(f->msg), "%s", e->message ? e->message : "error");
    f->msg[strcspn(f->msg, "\n")] = 0;
}

int domxml_parse(struct domcfg *dc, const char *xml, size_t len, const char *file,
                 enum native_fmt fmt, struct cfg_diag *d)
{
    domcfg_init(dc);
    size_t before = d->errors;
    struct rd r = { .dc = dc, .d = d, .file = file, .fmt = fmt };
    dc->file = strdup(file);
    if (len > INT_MAX) {
        diag_error(d, (struct cfg_loc){ file, 0 }, "XML document too large");
        return -1;
    }
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        diag_error(d, (struct cfg_loc){ file, 0 }, "out of memory");
        return -1;
    }
    struct first_err first = { 0 };
    ctxt->_private = &first;
    ctxt->sax->serror = on_xml_error;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, file, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc || !xmlDocGetRootElement(doc) || first.msg[0]) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        if (!first.msg[0]) {
            snprintf(first.msg, sizeof(first.msg), "%s", e && e->message ? e->message : "no document");
            first.msg[strcspn(first.msg, "\n")] = 0;
            first.line = e ? e->line : 0;
        }
        diag_error(d, (struct cfg_loc){ file, first.line }, "malformed XML: %s", first.msg);
    } else {
        read_domain(&r, xmlDocGetRootElement(doc));
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return d->errors > before ? -1 : 0;
}
