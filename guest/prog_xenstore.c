/* xenstore [NAME]: the guest's xenstore connection end to end, through the
 * ring xenkvm relays to xenkvmd. Expectations follow Xen's docs/misc/
 * xenstore.txt and the tree libxl writes for a domain: its directory and the
 * nodes there belong to dom0 with read access for the domain, "data" (and a
 * few others) belong to the domain; dom0's nodes and /vm are dom0's only.
 * The last check waits for the host to write data/host-key (the line
 * "xenstore: waiting for host write" says when). */
#include "xtest.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"
#include "report.h"
#include "xenbus.h"

#define MS 1000000ULL

static char buf[XENSTORE_PAYLOAD_MAX + 1];

/* Checks that reading path gives want. */
static void expect_read(const char *what, uint32_t tx, const char *path, const char *want)
{
    int rc = xb_read(tx, path, buf, sizeof(buf));
    check(rc == 0 && !strcmp(buf, want), what, "read %s: %s '%s', want '%s'", path,
          xb_errname(rc), rc ? "" : buf, want);
}

/* Checks that a request was refused with the errno name want. */
static void expect_err(const char *what, int rc, const char *want)
{
    check(rc == XB_EXS && !strcmp(xb_errname(rc), want), what, "got %s, want %s",
          xb_errname(rc), want);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static void identity(unsigned domid, const char *name)
{
    char want[64];
    snprintf(want, sizeof(want), "%u", domid);
    expect_read("read domid (relative) matches CPUID", 0, "domid", want);
    if (name)
        expect_read("read name matches the command line", 0, "name", name);

    snprintf(want, sizeof(want), "/local/domain/%u", domid);
    int rc = xb_get_domain_path(domid, buf, sizeof(buf));
    check(rc == 0 && !strcmp(buf, want), "GET_DOMAIN_PATH of our domid", "%s '%s', want '%s'",
          xb_errname(rc), rc ? "" : buf, want);
    char abs[96];
    snprintf(abs, sizeof(abs), "/local/domain/%u/domid", domid);
    snprintf(want, sizeof(want), "%u", domid);
    expect_read("read domid by absolute path", 0, abs, want);

    /* vm -> /vm/<uuid>, readable by us, with our name. */
    char vm[128];
    rc = xb_read(0, "vm", vm, sizeof(vm));
    if (check(rc == 0 && !strncmp(vm, "/vm/", 4) && strlen(vm) > 4, "read vm", "%s '%s'",
              xb_errname(rc), rc ? "" : vm)) {
        char p[160];
        snprintf(p, sizeof(p), "%s/uuid", vm);
        expect_read("our /vm/<uuid>/uuid is readable and matches", 0, p, vm + 4);
        snprintf(p, sizeof(p), "%s/name", vm);
        rc = xb_read(0, p, buf, sizeof(buf));
        check(rc == 0 && (!name || !strcmp(buf, name)), "our /vm/<uuid>/name is readable",
              "%s '%s'", xb_errname(rc), rc ? "" : buf);
    }

    rc = xb_read(0, "memory/target", buf, sizeof(buf));
    check(rc == 0 && all_digits(buf) && buf[0] != '0', "read memory/target", "%s '%s'",
          xb_errname(rc), rc ? "" : buf);
    rc = xb_read(0, "cpu/0/availability", buf, sizeof(buf));
    check(rc == 0 && !strcmp(buf, "online"), "read cpu/0/availability", "%s '%s'",
          xb_errname(rc), rc ? "" : buf);

    /* store/port and store/ring-ref agree with our HVM params. */
    uint64_t pfn = 0;
    hvm_get_param(HVM_PARAM_STORE_PFN, &pfn);
    snprintf(want, sizeof(want), "%u", xb_port());
    expect_read("store/port matches HVM_PARAM_STORE_EVTCHN", 0, "store/port", want);
    snprintf(want, sizeof(want), "%lu", (unsigned long)pfn);
    expect_read("store/ring-ref matches HVM_PARAM_STORE_PFN", 0, "store/ring-ref", want);
}

static void own_subtree(unsigned domid, const char *name)
{
    (void)name;
    int rc = xb_write(0, "data/xtest", "hello");
    check(rc == 0, "write data/xtest", "%s", xb_errname(rc));
    expect_read("read back data/xtest", 0, "data/xtest", "hello");
    rc = xb_write(0, "data/xtest", "");
    check(rc == 0, "overwrite data/xtest with an empty value", "%s", xb_errname(rc));
    expect_read("read back the empty value", 0, "data/xtest", "");
    xb_write(0, "data/xtest", "hello");

    /* What Linux's xen:manage and suspend code write at boot: nodes libxl made
     * the domain's own. */
    static const char *const announce[] = {
        "control/feature-poweroff", "control/feature-reboot", "control/feature-suspend",
        "device/suspend/event-channel",
    };
    unsigned nok = 0;
    for (unsigned i = 0; i < ARRAY_SIZE(announce); i++)
        nok += xb_write(0, announce[i], i < 3 ? "1" : "") == 0;
    check(nok == ARRAY_SIZE(announce),
          "write control/feature-{poweroff,reboot,suspend} and device/suspend/event-channel",
          "%u of %u written", nok, (unsigned)ARRAY_SIZE(announce));

    char abs[96];
    snprintf(abs, sizeof(abs), "/local/domain/%u/data/abs", domid);
    rc = xb_write(0, abs, "absolute");
    check(rc == 0, "write data/abs by absolute path", "%s", xb_errname(rc));
    expect_read("read data/abs by relative path", 0, "data/abs", "absolute");

    /* Messages longer than the 1 KiB rings: both wrap mid-message. Values
     * stay under the per-node quota (Xen's xenstored: 2048 bytes). */
    static char big[3000 + 1];
    for (unsigned i = 0; i < sizeof(big) - 1; i++)
        big[i] = (char)('a' + i % 26);
    big[2000] = '\0';
    rc = xb_write(0, "data/big", big);
    check(rc == 0, "write a 2000-byte value", "%s", xb_errname(rc));
    rc = xb_read(0, "data/big", buf, sizeof(buf));
    check(rc == 0 && !strcmp(buf, big), "read back the 2000-byte value", "%s, %u bytes",
          xb_errname(rc), rc ? 0 : (unsigned)strlen(buf));
    big[2000] = 'a' + 2000 % 26;
    expect_err("a 3000-byte value is over the node quota -> ENOSPC",
               xb_write(0, "data/big", big), "ENOSPC");
    rc = xb_read(0, "data/big", buf, sizeof(buf));
    check(rc == 0 && strlen(buf) == 2000 && !memcmp(buf, big, 2000),
          "the refused write left the old value", "%s, %u bytes", xb_errname(rc),
          rc ? 0 : (unsigned)strlen(buf));
    xb_rm(0, "data/big");

    expect_err("read of a missing node -> ENOENT", xb_read(0, "data/missing", buf, sizeof(buf)),
               "ENOENT");

    rc = xb_mkdir(0, "data/dir");
    check(rc == 0, "mkdir data/dir", "%s", xb_errname(rc));
    expect_read("a new directory reads empty", 0, "data/dir", "");
    rc = xb_mkdir(0, "data/dir");
    check(rc == 0, "mkdir of an existing directory is OK", "%s", xb_errname(rc));
    uint32_t len = 0;
    rc = xb_directory(0, "data/dir", buf, sizeof(buf), &len);
    check(rc == 0 && len == 0, "directory of an empty directory", "%s, %u bytes",
          xb_errname(rc), len);
    xb_write(0, "data/dir/a", "1");
    xb_write(0, "data/dir/b", "2");
    rc = xb_directory(0, "data/dir", buf, sizeof(buf), &len);
    check(rc == 0 && len == 4 && xb_list_has(buf, len, "a") && xb_list_has(buf, len, "b"),
          "directory lists data/dir/a and data/dir/b", "%s, %u bytes", xb_errname(rc), len);
    rc = xb_directory(0, "data", buf, sizeof(buf), &len);
    check(rc == 0 && xb_list_has(buf, len, "xtest") && xb_list_has(buf, len, "abs") &&
              xb_list_has(buf, len, "dir"),
          "directory lists data's children", "%s, %u bytes", xb_errname(rc), len);

    rc = xb_rm(0, "data/dir");
    check(rc == 0, "rm data/dir", "%s", xb_errname(rc));
    expect_err("rm removed the children", xb_read(0, "data/dir/a", buf, sizeof(buf)), "ENOENT");
    rc = xb_directory(0, "data", buf, sizeof(buf), &len);
    check(rc == 0 && !xb_list_has(buf, len, "dir") && xb_list_has(buf, len, "xtest"),
          "directory no longer lists the removed node", "%s", xb_errname(rc));
    rc = xb_rm(0, "data/dir");
    check(rc == 0, "rm of a missing node with a parent is OK", "%s", xb_errname(rc));
    expect_err("rm below a missing parent -> ENOENT", xb_rm(0, "data/nodir/x"), "ENOENT");
}

static void transactions(unsigned domid, const char *name)
{
    (void)domid, (void)name;
    uint32_t tx = 0;
    int rc = xb_txn_start(&tx);
    if (!check(rc == 0 && tx != 0, "TRANSACTION_START", "%s, id %u", xb_errname(rc), tx))
        return;
    rc = xb_write(tx, "data/t1", "one");
    int rc2 = xb_write(tx, "data/t2", "two");
    check(rc == 0 && rc2 == 0, "two writes in the transaction", "%s, %s", xb_errname(rc),
          xb_errname(rc2));
    expect_read("the transaction sees its own write", tx, "data/t1", "one");
    expect_err("the write is not visible outside before commit",
               xb_read(0, "data/t1", buf, sizeof(buf)), "ENOENT");
    rc = xb_txn_end(tx, true);
    check(rc == 0, "TRANSACTION_END commit", "%s", xb_errname(rc));
    expect_read("committed data/t1", 0, "data/t1", "one");
    expect_read("committed data/t2", 0, "data/t2", "two");
    expect_err("the ended transaction is gone", xb_read(tx, "data/t1", buf, sizeof(buf)),
               "ENOENT");

    rc = xb_txn_start(&tx);
    if (!check(rc == 0, "second TRANSACTION_START", "%s", xb_errname(rc)))
        return;
    xb_write(tx, "data/t3", "three");
    rc = xb_txn_end(tx, false);
    check(rc == 0, "TRANSACTION_END abort", "%s", xb_errname(rc));
    expect_err("an aborted write is discarded", xb_read(0, "data/t3", buf, sizeof(buf)),
               "ENOENT");
}

static void refused(unsigned domid, const char *name)
{
    (void)domid;
    expect_err("read /local/domain/0/name -> EACCES",
               xb_read(0, "/local/domain/0/name", buf, sizeof(buf)), "EACCES");
    /* A missing node below an unreadable one does not reveal it is missing. */
    expect_err("read /local/domain/0/no-such-node -> EACCES",
               xb_read(0, "/local/domain/0/no-such-node", buf, sizeof(buf)), "EACCES");
    uint32_t len;
    expect_err("directory /local/domain -> EACCES",
               xb_directory(0, "/local/domain", buf, sizeof(buf), &len), "EACCES");
    expect_err("directory /vm -> EACCES", xb_directory(0, "/vm", buf, sizeof(buf), &len),
               "EACCES");
    expect_err("write /local/domain/0/x -> EACCES", xb_write(0, "/local/domain/0/x", "1"),
               "EACCES");
    expect_err("write /vm/xtest -> EACCES", xb_write(0, "/vm/xtest", "1"), "EACCES");
    expect_err("write our own name -> EACCES", xb_write(0, "name", "evil"), "EACCES");
    expect_err("write a new key in our domain directory -> EACCES", xb_write(0, "newkey", "1"),
               "EACCES");
    expect_err("rm our own domid -> EACCES", xb_rm(0, "domid"), "EACCES");
    expect_err("mkdir memory/xtest -> EACCES", xb_mkdir(0, "memory/xtest"), "EACCES");
    if (name)
        expect_read("name unchanged after the refused write", 0, "name", name);
}

static void watch(unsigned domid, const char *name)
{
    (void)domid, (void)name;
    struct xb_watch_event ev;
    int rc = xb_watch("data/host-key", "tok");
    if (!check(rc == 0, "WATCH data/host-key", "%s", xb_errname(rc)))
        return;
    rc = xb_wait_watch(&ev, 5000 * MS);
    check(rc == 0 && !strcmp(ev.path, "data/host-key") && !strcmp(ev.token, "tok"),
          "watch fires once at registration", "%s, path '%s' token '%s'", xb_errname(rc),
          rc ? "" : ev.path, rc ? "" : ev.token);

    printf("xenstore: waiting for host write\n");
    uint64_t end = xen_time_ns() + 20000 * MS;
    for (;;) {
        uint64_t now = xen_time_ns();
        rc = now < end ? xb_wait_watch(&ev, end - now) : XB_ETIMEOUT;
        if (rc) {
            fail("watch fired", "no event for data/host-key in 20 s: %s", xb_errname(rc));
            break;
        }
        /* Relative watch: relative event path (xenstore.txt, WATCH_EVENT). */
        if (!check(!strcmp(ev.path, "data/host-key") && !strcmp(ev.token, "tok"),
                   "watch event names the relative path and token", "path '%s' token '%s'",
                   ev.path, ev.token))
            break;
        rc = xb_read(0, "data/host-key", buf, sizeof(buf));
        if (rc == XB_EXS && !strcmp(xb_errname(rc), "ENOENT"))
            continue;   /* spurious: nothing written yet */
        if (rc == 0)
            ok("watch fired: %s", buf);
        else
            fail("watch fired", "reading data/host-key: %s", xb_errname(rc));
        break;
    }
    rc = xb_unwatch("data/host-key", "tok");
    check(rc == 0, "UNWATCH data/host-key", "%s", xb_errname(rc));
    check(xb_events_dropped() == 0, "no watch event dropped", "%u dropped", xb_events_dropped());
}

void prog_xenstore(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : NULL;
    uint32_t a, b, c, d;
    cpuid(xen_cpuid_base + 4, 0, &a, &b, &c, &d);
    unsigned domid = c;
    if (!check(a & XEN_HVM_CPUID_DOMID_PRESENT, "CPUID leaf 4 carries our domid",
               "eax 0x%x", a))
        return;

    long rc = xb_init();
    if (!check(rc == 0, "xenstore ring and port from the HVM params", "%s", errname(rc)))
        return;
    volatile struct xenstore_domain_interface *ring = xb_ring();
    printf("  domid %u, ring at 0x%lx, port %u\n", domid, (unsigned long)(uintptr_t)ring,
           xb_port());
    check(ring->connection == XENSTORE_CONNECTED, "ring reads XENSTORE_CONNECTED",
          "connection %u", ring->connection);
    uint32_t hits = evtchn_stat[xb_port()].hits;

    identity(domid, name);
    check(evtchn_stat[xb_port()].hits > hits, "replies are signalled on the store port",
          "no event on port %u", xb_port());
    static void (*const parts[])(unsigned, const char *) = { own_subtree, transactions,
                                                              refused, watch };
    for (unsigned i = 0; i < ARRAY_SIZE(parts); i++) {
        if (xb_broken()) {
            fail("xenstore connection", "given up after an error: later checks skipped");
            return;
        }
        parts[i](domid, name);
    }
}
