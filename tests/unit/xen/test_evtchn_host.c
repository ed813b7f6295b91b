/* Event channels, the host ("dom0") side that backends use: a host port is
 * the dom0 end of an interdomain channel, so the guest sees what it would see
 * with a real dom0 at the other end. */
#include "evtchn_fixture.h"

static void on_send(void *opaque, evtchn_port_t guest_port)
{
    struct fx *f = *(struct fx **)opaque;
    f->cb_calls++;
    f->cb_port = guest_port;
    f->cb_opaque = opaque;
}

/* The callback's opaque pointer: a cell holding the fixture. */
static struct fx *cell;

TEST(evtchn_host_bind_connects_guest_port_unbound_to_dom0)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t g;
    fx_alloc_unbound(f, 0, &g);
    int h = evtchn_host_bind(f->e, g, on_send, &cell);
    CHECK(h > 0);
    CHECK(h < EVTCHN_HOST_PORTS);
    struct evtchn_status st;
    fx_status(f, g, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 0);
    CHECK_EQ(st.u.interdomain.port, h);
    /* dom0 binding raises dom0's own new port, not the guest's */
    CHECK(!fx_pending(f, g));
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

TEST(evtchn_host_bind_guest_send_runs_callback)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t g;
    fx_alloc_unbound(f, 0, &g);
    evtchn_host_bind(f->e, g, on_send, &cell);
    CHECK_EQ(fx_send(f, g), 0);
    CHECK_EQ(f->cb_calls, 1);
    CHECK_EQ(f->cb_port, g);
    CHECK(f->cb_opaque == &cell);
    CHECK(!fx_pending(f, g));               /* nothing raised in the guest */
    fx_free(f);
}

TEST(evtchn_host_notify_raises_guest_port)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t g;
    fx_alloc_unbound(f, 0, &g);
    int h = evtchn_host_bind(f->e, g, on_send, &cell);
    CHECK_EQ(evtchn_host_notify(f->e, h), 0);
    CHECK(fx_pending(f, g));
    CHECK_EQ(fx_upcall(f, 0), 1);
    CHECK_EQ(f->kicks[0], 1);
    CHECK_EQ(f->cb_calls, 0);
    fx_free(f);
}

TEST(evtchn_host_notify_follows_bind_vcpu)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t g;
    fx_alloc_unbound(f, 0, &g);
    int h = evtchn_host_bind(f->e, g, on_send, &cell);
    CHECK_EQ(fx_bind_vcpu(f, g, 3), 0);
    evtchn_host_notify(f->e, h);
    CHECK_EQ(fx_upcall(f, 3), 1);
    CHECK_EQ(f->kicks[3], 1);
    CHECK_EQ(fx_upcall(f, 0), 0);
    fx_free(f);
}

TEST(evtchn_host_bind_refuses_ports_not_unbound_to_dom0)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t self_port, ipi;
    fx_alloc_unbound(f, DOMID_SELF, &self_port);
    fx_bind_ipi(f, 0, &ipi);
    CHECK_EQ(evtchn_host_bind(f->e, self_port, on_send, &cell), -EINVAL);
    CHECK_EQ(evtchn_host_bind(f->e, ipi, on_send, &cell), -EINVAL);
    CHECK_EQ(evtchn_host_bind(f->e, 0, on_send, &cell), -EINVAL);
    CHECK_EQ(evtchn_host_bind(f->e, 50, on_send, &cell), -EINVAL);
    CHECK_EQ(evtchn_host_bind(f->e, EVTCHN_NR_PORTS, on_send, &cell), -EINVAL);
    fx_free(f);
}

TEST(evtchn_host_bind_twice_einval)
{
    struct fx *f = cell = fx_new();
    evtchn_port_t g;
    fx_alloc_unbound(f, 0, &g);
    CHECK(evtchn_host_bind(f->e, g, on_send, &cell) > 0);
    CHECK_EQ(evtchn_host_bind(f->e, g, on_send, &cell), -EINVAL);
    fx_free(f);
}

TEST(evtchn_host_alloc_bound_gives_connected_guest_port)
{
    struct fx *f = cell = fx_new();
    int g = evtchn_host_alloc_bound(f->e, on_send, &cell);
    CHECK(g > 0);
    struct evtchn_status st;
    fx_status(f, g, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 0);
    int h = st.u.interdomain.port;
    CHECK(h > 0);
    fx_send(f, g);
    CHECK_EQ(f->cb_calls, 1);
    CHECK_EQ(f->cb_port, g);
    CHECK_EQ(evtchn_host_notify(f->e, h), 0);
    CHECK(fx_pending(f, g));
    fx_free(f);
}

TEST(evtchn_host_send_without_callback_is_dropped)
{
    struct fx *f = cell = fx_new();
    int g = evtchn_host_alloc_bound(f->e, NULL, NULL);
    CHECK(g > 0);
    CHECK_EQ(fx_send(f, g), 0);
    CHECK(!fx_pending(f, g));
    fx_free(f);
}

TEST(evtchn_host_alloc_unbound_then_guest_binds_to_dom0)
{
    struct fx *f = cell = fx_new();
    int h = evtchn_host_alloc_unbound(f->e, on_send, &cell);
    CHECK(h > 0);
    evtchn_port_t g;
    CHECK_EQ(fx_bind_interdomain(f, 0, h, &g), 0);
    /* as for any bind_interdomain, the new local port is raised */
    CHECK(fx_pending(f, g));
    CHECK_EQ(f->kicks[0], 1);
    struct evtchn_status st;
    fx_status(f, g, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, 0);
    CHECK_EQ(st.u.interdomain.port, h);
    fx_send(f, g);
    CHECK_EQ(f->cb_calls, 1);
    CHECK_EQ(f->cb_port, g);
    fx_guest_ack_all(f);
    evtchn_host_notify(f->e, h);
    CHECK(fx_pending(f, g));
    fx_free(f);
}

TEST(evtchn_host_notify_before_guest_binds_is_dropped)
{
    struct fx *f = cell = fx_new();
    int h = evtchn_host_alloc_unbound(f->e, on_send, &cell);
    CHECK_EQ(evtchn_host_notify(f->e, h), 0);
    CHECK_EQ(fx_total_kicks(f), 0);
    CHECK_EQ(f->si->evtchn_pending[0], 0);
    fx_free(f);
}

TEST(evtchn_guest_bind_to_bad_host_port_einval)
{
    struct fx *f = cell = fx_new();
    int h = evtchn_host_alloc_unbound(f->e, on_send, &cell);
    evtchn_port_t g;
    CHECK_EQ(fx_bind_interdomain(f, 0, h + 1, &g), -EINVAL);        /* not allocated */
    CHECK_EQ(fx_bind_interdomain(f, 0, EVTCHN_HOST_PORTS, &g), -EINVAL);
    CHECK_EQ(fx_bind_interdomain(f, 0, h, &g), 0);
    CHECK_EQ(fx_bind_interdomain(f, 0, h, &g), -EINVAL);            /* already bound */
    fx_free(f);
}

/* dom0 closing its end: the guest's port reverts to unbound, remote dom 0
 * (evtchn_close, ECS_INTERDOMAIN, seen from the other domain). */
TEST(evtchn_host_close_reverts_guest_port_to_unbound)
{
    struct fx *f = cell = fx_new();
    int g = evtchn_host_alloc_bound(f->e, on_send, &cell);
    struct evtchn_status st;
    fx_status(f, g, &st);
    int h = st.u.interdomain.port;
    evtchn_host_close(f->e, h);
    fx_status(f, g, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 0);
    CHECK_EQ(fx_send(f, g), 0);             /* unbound: dropped */
    CHECK_EQ(f->cb_calls, 0);
    CHECK_EQ(evtchn_host_notify(f->e, h), -EINVAL);
    /* and a backend can take it again */
    CHECK(evtchn_host_bind(f->e, g, on_send, &cell) > 0);
    fx_free(f);
}

TEST(evtchn_guest_close_keeps_host_port_for_rebind)
{
    struct fx *f = cell = fx_new();
    int h = evtchn_host_alloc_unbound(f->e, on_send, &cell);
    evtchn_port_t g, g2;
    fx_bind_interdomain(f, 0, h, &g);
    fx_guest_ack_all(f);
    CHECK_EQ(fx_close(f, g), 0);
    CHECK_EQ(evtchn_host_notify(f->e, h), 0);     /* host port still valid */
    CHECK_EQ(fx_total_kicks(f), 1);               /* only the bind's */
    CHECK_EQ(fx_bind_interdomain(f, 0, h, &g2), 0);
    fx_send(f, g2);
    CHECK_EQ(f->cb_calls, 1);
    CHECK_EQ(f->cb_port, g2);
    fx_free(f);
}

TEST(evtchn_host_notify_bad_host_ports_einval)
{
    struct fx *f = cell = fx_new();
    CHECK_EQ(evtchn_host_notify(f->e, 0), -EINVAL);
    CHECK_EQ(evtchn_host_notify(f->e, -1), -EINVAL);
    CHECK_EQ(evtchn_host_notify(f->e, 1), -EINVAL);
    CHECK_EQ(evtchn_host_notify(f->e, EVTCHN_HOST_PORTS), -EINVAL);
    evtchn_host_close(f->e, 0);              /* ignored */
    evtchn_host_close(f->e, EVTCHN_HOST_PORTS);
    fx_free(f);
}

TEST(evtchn_host_ports_exhaust_enospc)
{
    struct fx *f = cell = fx_new();
    int n = 0;
    while (evtchn_host_alloc_unbound(f->e, on_send, &cell) > 0)
        n++;
    CHECK_EQ(n, EVTCHN_HOST_PORTS - 1);      /* host port 0 is never handed out */
    CHECK_EQ(evtchn_host_alloc_unbound(f->e, on_send, &cell), -ENOSPC);
    /* alloc_bound gives its guest port back when no host port is left */
    CHECK_EQ(evtchn_host_alloc_bound(f->e, on_send, &cell), -ENOSPC);
    evtchn_port_t first;
    fx_alloc_unbound(f, 0, &first);
    CHECK_EQ(first, 1);
    evtchn_host_close(f->e, 5);
    CHECK_EQ(evtchn_host_alloc_unbound(f->e, on_send, &cell), 5);
    fx_free(f);
}

TEST(evtchn_reset_unbinds_host_ports_but_keeps_them)
{
    struct fx *f = cell = fx_new();
    int h = evtchn_host_alloc_unbound(f->e, on_send, &cell);
    evtchn_port_t g;
    fx_bind_interdomain(f, 0, h, &g);
    struct evtchn_reset r = { .dom = DOMID_SELF };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_reset, &r, 0), 0);
    fx_guest_ack_all(f);
    CHECK_EQ(evtchn_host_notify(f->e, h), 0);
    CHECK_EQ(f->si->evtchn_pending[0], 0);
    CHECK_EQ(fx_bind_interdomain(f, 0, h, &g), 0);
    fx_free(f);
}
