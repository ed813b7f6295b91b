/* The xenbus backend framework against a real xenkvmd, with a stand-in
 * device and this test playing the frontend's side in xenstore. */
#include "backend/xenbus_backend.h"
#include "xenstore/client.h"
#include "unit.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define DOMID 5
#define BE "/local/domain/0/backend/vbd/5/51712"
#define FE "/local/domain/5/device/vbd/51712"

struct fake { int connects, disconnects, releases; bool fail; };

static int fake_nodes(struct xenbus_dev *dev, uint32_t tx)
{
    return xenbus_printf(dev, tx, false, "params", "/img");
}
static int fake_init_wait(struct xenbus_dev *dev)
{
    return xenbus_printf(dev, 0, false, "feature-x", "1");
}
static int fake_connect(struct xenbus_dev *dev, char *err, size_t errlen)
{
    struct fake *f = dev->priv;
    unsigned long ref;
    if (f->fail || xenbus_read_fe_uint(dev, "ring-ref", ~0ul, &ref) || ref == ~0ul) {
        snprintf(err, errlen, "no ring-ref");
        return -EINVAL;
    }
    f->connects++;
    return 0;
}
static void fake_disconnect(struct xenbus_dev *dev)
{
    ((struct fake *)dev->priv)->disconnects++;
}
static void fake_release(struct xenbus_dev *dev)
{
    ((struct fake *)dev->priv)->releases++;
}
static const struct xenbus_dev_ops ops = {
    .type = "vbd", .write_nodes = fake_nodes, .init_wait = fake_init_wait,
    .connect = fake_connect, .disconnect = fake_disconnect, .release = fake_release,
};

static pid_t daemon_pid;
static char sock[64];

static struct xs_client *start_daemon(void)
{
    char dir[] = "/tmp/xbtest.XXXXXX";
    CHECK(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/xs.sock", dir);
    daemon_pid = fork();
    if (daemon_pid == 0) {
        execl(XENKVMD_PATH, "xenkvmd", "-f", "-s", sock, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        struct xs_client *c = xs_open(sock);
        if (c)
            return c;
        usleep(10000);
    }
    unit_fail(__FILE__, __LINE__, "xenkvmd did not start");
    return NULL;
}

static void stop_daemon(struct xs_client *c)
{
    xs_close(c);
    kill(daemon_pid, SIGTERM);
    waitpid(daemon_pid, NULL, 0);
    unlink(sock);
}

static char *get(struct xs_client *c, const char *path)
{
    static char buf[256];
    char *v;
    if (xs_read(c, 0, path, &v, NULL))
        return NULL;
    snprintf(buf, sizeof(buf), "%s", v);
    free(v);
    return buf;
}

/* Serves the bus until path reads want (or 2 s pass). */
static bool wait_for(struct xenbus_bus *bus, struct xs_client *c, const char *path, const char *want)
{
    for (int i = 0; i < 200; i++) {
        xenbus_bus_poll(bus);
        const char *v = get(c, path);
        if (want ? v && !strcmp(v, want) : !v)
            return true;
        struct pollfd p = { .fd = xenbus_bus_fd(bus), .events = POLLIN };
        poll(&p, 1, 10);
    }
    return false;
}

static void fe_state(struct xs_client *c, int s)
{
    char v[4];
    snprintf(v, sizeof(v), "%d", s);
    CHECK_EQ(xs_write_str(c, 0, FE "/state", v), 0);
}

TEST(xenbus_nodes_and_permissions)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    CHECK(bus);
    struct fake f = { 0 };
    char err[256];
    struct xenbus_dev *dev = xenbus_dev_create(bus, &ops, 51712, &f, err, sizeof(err));
    CHECK(dev);
    CHECK_STR(get(c, BE "/state"), "2");
    CHECK_STR(get(c, BE "/frontend"), FE);
    CHECK_STR(get(c, BE "/frontend-id"), "5");
    CHECK_STR(get(c, BE "/online"), "1");
    CHECK_STR(get(c, BE "/params"), "/img");
    CHECK_STR(get(c, BE "/feature-x"), "1");
    CHECK_STR(get(c, FE "/state"), "1");
    CHECK_STR(get(c, FE "/backend"), BE);
    CHECK_STR(get(c, FE "/backend-id"), "0");
    struct xs_perm *p;
    unsigned n;
    CHECK_EQ(xs_get_perms(c, 0, BE, &p, &n), 0);
    CHECK(n == 2 && p[0].domid == 0 && p[0].access == XS_PERM_NONE && p[1].domid == DOMID &&
          p[1].access == XS_PERM_READ);
    free(p);
    CHECK_EQ(xs_get_perms(c, 0, FE, &p, &n), 0);
    CHECK(n == 2 && p[0].domid == DOMID && p[0].access == XS_PERM_NONE && p[1].domid == 0 &&
          p[1].access == XS_PERM_READ);
    free(p);
    CHECK_EQ(xs_get_perms(c, 0, FE "/state", &p, &n), 0);   /* inherited: the domain's */
    CHECK(n >= 1 && p[0].domid == DOMID);
    free(p);
    xenbus_bus_close(bus);
    CHECK(!get(c, BE) && !get(c, FE));
    stop_daemon(c);
}

TEST(xenbus_handshake_and_reconnect)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    struct fake f = { 0 };
    char err[256];
    xenbus_dev_create(bus, &ops, 51712, &f, err, sizeof(err));
    xs_write_str(c, 0, FE "/ring-ref", "8");
    fe_state(c, XenbusStateInitialised);
    CHECK(wait_for(bus, c, BE "/state", "4"));
    CHECK_EQ(f.connects, 1);
    fe_state(c, XenbusStateConnected);           /* no second connect */
    xenbus_bus_poll(bus);
    fe_state(c, XenbusStateClosing);
    CHECK(wait_for(bus, c, BE "/state", "5"));
    CHECK_EQ(f.disconnects, 1);
    fe_state(c, XenbusStateClosed);
    CHECK(wait_for(bus, c, BE "/state", "6"));
    CHECK_EQ(f.disconnects, 1);
    fe_state(c, XenbusStateInitialising);        /* the frontend starts over */
    CHECK(wait_for(bus, c, BE "/state", "2"));
    fe_state(c, XenbusStateConnected);
    CHECK(wait_for(bus, c, BE "/state", "4"));
    CHECK_EQ(f.connects, 2);
    /* the frontend vanishes without closing (its directory removed) */
    xs_rm(c, 0, FE "/state");
    CHECK(wait_for(bus, c, BE "/state", "6"));
    CHECK_EQ(f.disconnects, 2);
    xenbus_bus_close(bus);
    stop_daemon(c);
}

TEST(xenbus_connect_failure)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    struct fake f = { .fail = true };
    char err[256];
    xenbus_dev_create(bus, &ops, 51712, &f, err, sizeof(err));
    fe_state(c, XenbusStateInitialised);
    CHECK(wait_for(bus, c, BE "/state", "5"));
    CHECK_STR(get(c, BE "/error"), "no ring-ref");
    CHECK_EQ(f.connects, 0);
    CHECK_EQ(f.disconnects, 0);
    xenbus_bus_close(bus);
    stop_daemon(c);
}

TEST(xenbus_unplug_connected)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    struct fake f = { 0 };
    char err[256];
    struct xenbus_dev *dev = xenbus_dev_create(bus, &ops, 51712, &f, err, sizeof(err));
    xs_write_str(c, 0, FE "/ring-ref", "8");
    fe_state(c, XenbusStateConnected);
    CHECK(wait_for(bus, c, BE "/state", "4"));
    xenbus_dev_unplug(dev);
    CHECK_STR(get(c, BE "/state"), "5");
    CHECK_STR(get(c, BE "/online"), "0");
    fe_state(c, XenbusStateClosing);             /* as blkfront answers */
    CHECK(wait_for(bus, c, BE "/state", "5"));
    fe_state(c, XenbusStateClosed);
    CHECK(wait_for(bus, c, BE "/state", NULL));  /* removed */
    CHECK(!get(c, FE));
    CHECK_EQ(f.disconnects, 1);
    CHECK_EQ(f.releases, 1);                     /* freed at removal, once */
    xenbus_bus_close(bus);
    CHECK_EQ(f.releases, 1);
    stop_daemon(c);
}

static bool is_devid(struct xenbus_dev *dev, void *arg)
{
    return dev->devid == *(unsigned *)arg;
}

/* xl's -f: the device goes at once while the frontend is still connected;
 * a removed device is no longer found, and its devid can be used again. */
TEST(xenbus_force_remove)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    struct fake f = { 0 }, g = { 0 };
    char err[256];
    unsigned id = 51712;
    struct xenbus_dev *dev = xenbus_dev_create(bus, &ops, id, &f, err, sizeof(err));
    CHECK(xenbus_bus_find(bus, "vbd", is_devid, &id) == dev);
    CHECK(!xenbus_bus_find(bus, "vif", is_devid, &id));
    xs_write_str(c, 0, FE "/ring-ref", "8");
    fe_state(c, XenbusStateConnected);
    CHECK(wait_for(bus, c, BE "/state", "4"));
    xenbus_dev_remove(dev);
    CHECK(!get(c, BE "/state"));
    CHECK(!get(c, FE));
    CHECK_EQ(f.disconnects, 1);
    CHECK_EQ(f.releases, 1);
    CHECK(!xenbus_bus_find(bus, "vbd", is_devid, &id));
    xenbus_dev_remove(dev);                      /* twice: nothing more */
    CHECK_EQ(f.releases, 1);
    CHECK(xenbus_dev_create(bus, &ops, id, &g, err, sizeof(err)));
    CHECK_STR(get(c, BE "/state"), "2");
    xenbus_bus_close(bus);
    CHECK_EQ(g.releases, 1);                     /* the bus releases what is left */
    stop_daemon(c);
}

/* A toolstack writes state Closing into the backend: an unplug; with no
 * frontend connected the device goes at once. */
TEST(xenbus_unplug_by_toolstack)
{
    struct xs_client *c = start_daemon();
    struct xenbus_bus *bus = xenbus_bus_open(sock, DOMID, NULL, NULL);
    struct fake f = { 0 };
    char err[256];
    xenbus_dev_create(bus, &ops, 51712, &f, err, sizeof(err));
    CHECK_EQ(xs_write_str(c, 0, BE "/state", "5"), 0);
    CHECK(wait_for(bus, c, BE "/state", NULL));
    CHECK(!get(c, FE));
    xenbus_bus_close(bus);
    stop_daemon(c);
}
