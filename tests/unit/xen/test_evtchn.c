/* Event channels, the guest's EVTCHNOP_* view: every op, its error codes and
 * the 2-level delivery bits. Expectations follow Xen 4.17's
 * xen/common/event_channel.c and event_2l.c (function names cited below). */
#include "evtchn_fixture.h"

/* ---- port 0, allocation ---- */

TEST(evtchn_port0_is_reserved_closed_and_not_closable)
{
    struct fx *f = fx_new();
    struct evtchn_status st;
    CHECK_EQ(fx_status(f, 0, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);   /* ECS_RESERVED reports closed */
    CHECK_EQ(fx_close(f, 0), -EINVAL);
    fx_free(f);
}

TEST(evtchn_alloc_unbound_self_resolves_domid_self)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_alloc_unbound(f, DOMID_SELF, &p), 0);
    CHECK_EQ(p, 1);                         /* lowest free port */
    struct evtchn_status st;
    CHECK_EQ(fx_status(f, p, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    /* evtchn_alloc_unbound: remote DOMID_SELF is stored as the caller's id */
    CHECK_EQ(st.u.unbound.dom, FX_DOMID);
    CHECK_EQ(st.vcpu, 0);
    fx_free(f);
}

TEST(evtchn_alloc_unbound_remote_dom0)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_alloc_unbound(f, 0, &p), 0);
    struct evtchn_status st;
    CHECK_EQ(fx_status(f, p, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, 0);
    fx_free(f);
}

TEST(evtchn_alloc_unbound_in_other_domain_eperm)
{
    struct fx *f = fx_new();
    struct evtchn_alloc_unbound a = { .dom = 0, .remote_dom = DOMID_SELF };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_alloc_unbound, &a, 0), -EPERM);
    /* ...but naming itself by number is fine */
    a.dom = FX_DOMID;
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_alloc_unbound, &a, 0), 0);
    CHECK_EQ(a.port, 1);
    fx_free(f);
}

TEST(evtchn_alloc_reuses_lowest_closed_port)
{
    struct fx *f = fx_new();
    evtchn_port_t p1, p2, p3, again;
    fx_alloc_unbound(f, 0, &p1);
    fx_alloc_unbound(f, 0, &p2);
    fx_alloc_unbound(f, 0, &p3);
    CHECK_EQ(p3, 3);
    CHECK_EQ(fx_close(f, p2), 0);
    CHECK_EQ(fx_alloc_unbound(f, 0, &again), 0);
    CHECK_EQ(again, p2);
    fx_free(f);
}

TEST(evtchn_port_exhaustion_enospc_then_reuse)
{
    struct fx *f = fx_new();
    evtchn_port_t p = 0;
    unsigned n = 0;
    while (fx_alloc_unbound(f, 0, &p) == 0)
        n++;
    CHECK_EQ(n, EVTCHN_NR_PORTS - 1);     /* every port but the reserved 0 */
    CHECK_EQ(fx_alloc_unbound(f, 0, &p), -ENOSPC);
    evtchn_port_t ipi;
    CHECK_EQ(fx_bind_ipi(f, 0, &ipi), -ENOSPC);
    CHECK_EQ(fx_close(f, 1234), 0);
    CHECK_EQ(fx_bind_ipi(f, 0, &ipi), 0);
    CHECK_EQ(ipi, 1234);
    fx_free(f);
}

/* ---- bind_interdomain within the domain (loop-back) ---- */

TEST(evtchn_loopback_bind_connects_both_ends)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &b), 0);
    CHECK(b != a);
    struct evtchn_status st;
    fx_status(f, a, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, FX_DOMID);
    CHECK_EQ(st.u.interdomain.port, b);
    fx_status(f, b, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
    CHECK_EQ(st.u.interdomain.dom, FX_DOMID);
    CHECK_EQ(st.u.interdomain.port, a);
    fx_free(f);
}

TEST(evtchn_loopback_bind_by_own_domid_number)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    fx_alloc_unbound(f, FX_DOMID, &a);
    CHECK_EQ(fx_bind_interdomain(f, FX_DOMID, a, &b), 0);
    fx_free(f);
}

/* evtchn_bind_interdomain: "conservatively always setting a notification on
 * the local port" in case the remote end sent while unbound. */
TEST(evtchn_loopback_bind_raises_new_local_port)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    CHECK(fx_pending(f, b));
    CHECK(!fx_pending(f, a));
    CHECK_EQ(fx_upcall(f, 0), 1);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(evtchn_bind_interdomain_needs_port_unbound_to_us)
{
    struct fx *f = fx_new();
    evtchn_port_t to_dom0, ipi, out;
    fx_alloc_unbound(f, 0, &to_dom0);
    fx_bind_ipi(f, 0, &ipi);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, to_dom0, &out), -EINVAL);  /* remote_domid != us */
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, ipi, &out), -EINVAL);      /* not ECS_UNBOUND */
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, 100, &out), -EINVAL);      /* free */
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, 0, &out), -EINVAL);        /* reserved */
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, EVTCHN_NR_PORTS, &out), -EINVAL);
    /* a failed bind leaves no port behind */
    evtchn_port_t next;
    fx_alloc_unbound(f, 0, &next);
    CHECK_EQ(next, 3);
    fx_free(f);
}

TEST(evtchn_bind_interdomain_already_bound_port_einval)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b, c;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &c), -EINVAL);
    fx_free(f);
}

TEST(evtchn_bind_interdomain_unknown_domain_esrch)
{
    struct fx *f = fx_new();
    evtchn_port_t out;
    /* rcu_lock_domain_by_id fails: only this domain and dom0 exist here */
    CHECK_EQ(fx_bind_interdomain(f, 9, 1, &out), -ESRCH);
    fx_free(f);
}

/* ---- send ---- */

TEST(evtchn_send_loopback_raises_the_other_end_both_ways)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    fx_guest_ack_all(f);
    CHECK_EQ(fx_send(f, b), 0);
    CHECK(fx_pending(f, a));
    CHECK(!fx_pending(f, b));
    fx_guest_ack_all(f);
    CHECK_EQ(fx_send(f, a), 0);
    CHECK(fx_pending(f, b));
    CHECK(!fx_pending(f, a));
    fx_free(f);
}

/* evtchn_send: case ECS_UNBOUND: "silently drop the notification" */
TEST(evtchn_send_on_unbound_port_is_silently_dropped)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_alloc_unbound(f, 0, &p);
    CHECK_EQ(fx_send(f, p), 0);
    CHECK(!fx_pending(f, p));
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

/* evtchn_send: any state other than interdomain/IPI/unbound is -EINVAL */
TEST(evtchn_send_on_virq_port_einval)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 0, &p), 0);
    CHECK_EQ(fx_send(f, p), -EINVAL);
    CHECK(!fx_pending(f, p));
    fx_free(f);
}

TEST(evtchn_send_on_free_reserved_or_out_of_range_port_einval)
{
    struct fx *f = fx_new();
    CHECK_EQ(fx_send(f, 0), -EINVAL);
    CHECK_EQ(fx_send(f, 5), -EINVAL);
    CHECK_EQ(fx_send(f, EVTCHN_NR_PORTS), -EINVAL);
    CHECK_EQ(fx_send(f, 0xffffffffu), -EINVAL);
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

TEST(evtchn_send_ipi_raises_it_on_its_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_bind_ipi(f, 2, &p), 0);
    CHECK_EQ(fx_send(f, p), 0);
    CHECK(fx_pending(f, p));
    CHECK_EQ(fx_sel(f, 2), (xen_ulong_t)1 << (p / FX_BITS));
    CHECK_EQ(fx_upcall(f, 2), 1);
    CHECK_EQ(f->kicks[2], 1);
    CHECK_EQ(fx_sel(f, 0), 0);
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(f->kicks[0], 0);
    fx_free(f);
}

TEST(evtchn_bind_ipi_vcpu_out_of_range_enoent)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_bind_ipi(f, FX_VCPUS, &p), -ENOENT);
    CHECK_EQ(fx_bind_ipi(f, FX_VCPUS - 1, &p), 0);
    fx_free(f);
}

/* ---- VIRQs ---- */

TEST(evtchn_bind_virq_timer_is_per_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t t0, t1;
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 0, &t0), 0);
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 1, &t1), 0);
    CHECK(t0 != t1);
    evtchn_send_virq(f->e, VIRQ_TIMER, 1);
    CHECK(fx_pending(f, t1));
    CHECK(!fx_pending(f, t0));
    CHECK_EQ(fx_upcall(f, 1), 1);
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(f->kicks[1], 1);
    struct evtchn_status st;
    fx_status(f, t1, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.u.virq, VIRQ_TIMER);
    CHECK_EQ(st.vcpu, 1);
    fx_free(f);
}

TEST(evtchn_bind_virq_twice_on_same_vcpu_eexist)
{
    struct fx *f = fx_new();
    evtchn_port_t p, q;
    CHECK_EQ(fx_bind_virq(f, VIRQ_DEBUG, 3, &p), 0);
    CHECK_EQ(fx_bind_virq(f, VIRQ_DEBUG, 3, &q), -EEXIST);
    CHECK_EQ(fx_bind_virq(f, VIRQ_CONSOLE, 0, &p), 0);
    CHECK_EQ(fx_bind_virq(f, VIRQ_CONSOLE, 0, &q), -EEXIST);
    fx_free(f);
}

/* evtchn_bind_virq: global VIRQ on vcpu != 0 is -EINVAL (checked before the
 * vCPU range, which is -ENOENT); virq >= NR_VIRQS is -EINVAL. */
TEST(evtchn_bind_virq_argument_errors)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_bind_virq(f, VIRQ_CONSOLE, 1, &p), -EINVAL);
    CHECK_EQ(fx_bind_virq(f, VIRQ_DOM_EXC, 99, &p), -EINVAL);
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, FX_VCPUS, &p), -ENOENT);
    CHECK_EQ(fx_bind_virq(f, NR_VIRQS, 0, &p), -EINVAL);
    CHECK_EQ(fx_bind_virq(f, 0xffffffffu, 0, &p), -EINVAL);
    /* nothing was allocated by the failures */
    evtchn_port_t first;
    fx_alloc_unbound(f, 0, &first);
    CHECK_EQ(first, 1);
    fx_free(f);
}

/* send_guest_global_virq: a global VIRQ is looked up on vCPU 0 whatever
 * vCPU the sender names. */
TEST(evtchn_send_global_virq_uses_vcpu0_binding)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_virq(f, VIRQ_CONSOLE, 0, &p);
    evtchn_send_virq(f->e, VIRQ_CONSOLE, 3);
    CHECK(fx_pending(f, p));
    CHECK_EQ(fx_upcall(f, 0), 1);
    CHECK_EQ(fx_upcall(f, 3), 0);
    fx_free(f);
}

TEST(evtchn_send_unbound_or_bad_virq_does_nothing)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_virq(f, VIRQ_TIMER, 0, &p);
    evtchn_send_virq(f->e, VIRQ_TIMER, 1);          /* bound on vCPU 0 only */
    evtchn_send_virq(f->e, VIRQ_CONSOLE, 0);        /* not bound */
    evtchn_send_virq(f->e, NR_VIRQS, 0);
    evtchn_send_virq(f->e, VIRQ_TIMER, FX_VCPUS);
    CHECK(!fx_pending(f, p));
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

TEST(evtchn_close_virq_unbinds_it_and_allows_rebind)
{
    struct fx *f = fx_new();
    evtchn_port_t p, q;
    fx_bind_virq(f, VIRQ_TIMER, 2, &p);
    CHECK_EQ(fx_close(f, p), 0);
    evtchn_send_virq(f->e, VIRQ_TIMER, 2);
    CHECK(!fx_pending(f, p));
    CHECK_EQ(fx_total_kicks(f), 0);
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 2, &q), 0);
    fx_free(f);
}

/* ---- close ---- */

/* evtchn_close, ECS_INTERDOMAIN: the remote end becomes ECS_UNBOUND with
 * remote_domid = the closer's id. */
TEST(evtchn_close_loopback_reverts_remote_to_unbound)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b, c;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    CHECK_EQ(fx_close(f, b), 0);
    struct evtchn_status st;
    fx_status(f, b, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    fx_status(f, a, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    CHECK_EQ(st.u.unbound.dom, FX_DOMID);
    fx_guest_ack_all(f);
    CHECK_EQ(fx_send(f, a), 0);              /* unbound now: dropped */
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(fx_bind_interdomain(f, DOMID_SELF, a, &c), 0);   /* and bindable again */
    fx_free(f);
}

/* evtchn_free: "Clear pending event to avoid unexpected behavior on re-bind" */
TEST(evtchn_close_clears_pending_bit)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 0, &p);
    fx_send(f, p);
    CHECK(fx_pending(f, p));
    CHECK_EQ(fx_close(f, p), 0);
    CHECK(!fx_pending(f, p));
    CHECK(!evtchn_port_pending(f->e, p));
    fx_free(f);
}

/* evtchn_free also resets notify_vcpu_id to 0. */
TEST(evtchn_close_resets_notify_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t p, q;
    fx_bind_ipi(f, 3, &p);
    fx_close(f, p);
    fx_alloc_unbound(f, 0, &q);
    CHECK_EQ(q, p);
    struct evtchn_status st;
    fx_status(f, q, &st);
    CHECK_EQ(st.vcpu, 0);
    fx_free(f);
}

TEST(evtchn_close_free_or_out_of_range_einval)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    CHECK_EQ(fx_close(f, 1), -EINVAL);
    CHECK_EQ(fx_close(f, EVTCHN_NR_PORTS), -EINVAL);
    fx_alloc_unbound(f, 0, &p);
    CHECK_EQ(fx_close(f, p), 0);
    CHECK_EQ(fx_close(f, p), -EINVAL);       /* twice */
    fx_free(f);
}

/* ---- status ---- */

TEST(evtchn_status_of_ipi_reports_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 3, &p);
    struct evtchn_status st;
    CHECK_EQ(fx_status(f, p, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_ipi);
    CHECK_EQ(st.vcpu, 3);
    fx_free(f);
}

TEST(evtchn_status_of_free_port_closed)
{
    struct fx *f = fx_new();
    struct evtchn_status st;
    CHECK_EQ(fx_status(f, 77, &st), 0);
    CHECK_EQ(st.status, EVTCHNSTAT_closed);
    fx_free(f);
}

TEST(evtchn_status_other_domain_eperm_and_bad_port_einval)
{
    struct fx *f = fx_new();
    struct evtchn_status st = { .dom = 0, .port = 1 };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_status, &st, 0), -EPERM);
    st.dom = FX_DOMID;
    st.port = EVTCHN_NR_PORTS;
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_status, &st, 0), -EINVAL);
    st.port = 0;
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_status, &st, 0), 0);
    fx_free(f);
}

/* ---- bind_vcpu ---- */

TEST(evtchn_bind_vcpu_moves_interdomain_delivery)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    fx_guest_ack_all(f);
    memset(f->kicks, 0, sizeof(f->kicks));
    CHECK_EQ(fx_bind_vcpu(f, a, 2), 0);
    fx_send(f, b);
    CHECK(fx_pending(f, a));
    CHECK_EQ(fx_upcall(f, 2), 1);
    CHECK_EQ(f->kicks[2], 1);
    CHECK_EQ(fx_upcall(f, 0), 0);
    struct evtchn_status st;
    fx_status(f, a, &st);
    CHECK_EQ(st.vcpu, 2);
    fx_free(f);
}

TEST(evtchn_bind_vcpu_on_unbound_port_ok)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_alloc_unbound(f, 0, &p);
    CHECK_EQ(fx_bind_vcpu(f, p, 1), 0);
    struct evtchn_status st;
    fx_status(f, p, &st);
    CHECK_EQ(st.vcpu, 1);
    fx_free(f);
}

/* evtchn_bind_vcpu: IPIs and per-vCPU VIRQs cannot move (-EINVAL); a vCPU
 * out of range is -ENOENT; free and out-of-range ports -EINVAL. */
TEST(evtchn_bind_vcpu_refuses_ipi_per_vcpu_virq_and_bad_args)
{
    struct fx *f = fx_new();
    evtchn_port_t ipi, timer, un;
    fx_bind_ipi(f, 0, &ipi);
    fx_bind_virq(f, VIRQ_TIMER, 0, &timer);
    fx_alloc_unbound(f, 0, &un);
    CHECK_EQ(fx_bind_vcpu(f, ipi, 1), -EINVAL);
    CHECK_EQ(fx_bind_vcpu(f, timer, 1), -EINVAL);
    CHECK_EQ(fx_bind_vcpu(f, un, FX_VCPUS), -ENOENT);
    CHECK_EQ(fx_bind_vcpu(f, 500, 1), -EINVAL);
    CHECK_EQ(fx_bind_vcpu(f, EVTCHN_NR_PORTS, 1), -EINVAL);
    fx_free(f);
}

TEST(evtchn_bind_vcpu_global_virq_changes_status_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_virq(f, VIRQ_CONSOLE, 0, &p);
    CHECK_EQ(fx_bind_vcpu(f, p, 2), 0);
    struct evtchn_status st;
    fx_status(f, p, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_virq);
    CHECK_EQ(st.vcpu, 2);
    fx_free(f);
}

/* Regression (was a bug):
 * Xen's evtchn_bind_vcpu only changes chn->notify_vcpu_id for a global VIRQ;
 * v->virq_to_evtchn stays on vCPU 0, and send_guest_global_virq looks the
 * port up on vCPU 0 and raises it on chn->notify_vcpu_id. xenkvm moves the
 * binding to virq_port[new vcpu], where evtchn_send_virq never looks for a
 * global VIRQ (it forces vcpu = 0): the event is lost. */
TEST(evtchn_global_virq_still_delivered_after_bind_vcpu)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_virq(f, VIRQ_CONSOLE, 0, &p);
    CHECK_EQ(fx_bind_vcpu(f, p, 2), 0);
    evtchn_send_virq(f->e, VIRQ_CONSOLE, 0);
    CHECK(fx_pending(f, p));
    CHECK_EQ(fx_upcall(f, 2), 1);
    CHECK_EQ(f->kicks[2], 1);
    fx_free(f);
}

/* Regression (was a bug), same cause: in Xen vCPU 0's virq_to_evtchn[VIRQ_CONSOLE] is still
 * set after bind_vcpu, so a second bind_virq(VIRQ_CONSOLE, 0) is -EEXIST;
 * xenkvm cleared virq_port[0] and lets it bind a second port. */
TEST(evtchn_global_virq_rebind_after_bind_vcpu_eexist)
{
    struct fx *f = fx_new();
    evtchn_port_t p, q;
    fx_bind_virq(f, VIRQ_CONSOLE, 0, &p);
    CHECK_EQ(fx_bind_vcpu(f, p, 2), 0);
    CHECK_EQ(fx_bind_virq(f, VIRQ_CONSOLE, 0, &q), -EEXIST);
    fx_free(f);
}

/* ---- delivery bits (evtchn_2l_set_pending / evtchn_2l_unmask) ---- */

TEST(evtchn_delivery_sets_word_bit_in_pending_sel)
{
    struct fx *f = fx_new();
    struct evtchn_bind_ipi b = { .vcpu = 1 };
    /* take ports up to 130 so the IPI lands in word 2 */
    evtchn_port_t p;
    for (unsigned i = 1; i < 130; i++)
        fx_alloc_unbound(f, 0, &p);
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_bind_ipi, &b, 0), 0);
    CHECK_EQ(b.port, 130);
    fx_send(f, b.port);
    CHECK_EQ(fx_sel(f, 1), (xen_ulong_t)1 << 2);
    CHECK_EQ(f->si->evtchn_pending[2], (xen_ulong_t)1 << (130 % 64));
    fx_free(f);
}

TEST(evtchn_kick_only_when_upcall_pending_goes_0_to_1)
{
    struct fx *f = fx_new();
    evtchn_port_t p1, p2, p;
    fx_bind_ipi(f, 0, &p1);                  /* port 1, word 0 */
    for (unsigned i = 2; i < 70; i++)
        fx_alloc_unbound(f, 0, &p);
    fx_bind_ipi(f, 0, &p2);                  /* port 70, word 1 */
    CHECK_EQ(p2, 70);
    fx_send(f, p1);
    CHECK_EQ(f->kicks[0], 1);
    fx_send(f, p2);                          /* new sel word, upcall already 1 */
    CHECK_EQ(fx_sel(f, 0), 3);
    CHECK_EQ(f->kicks[0], 1);
    fx_guest_ack_all(f);
    fx_send(f, p2);
    CHECK_EQ(f->kicks[0], 2);
    fx_free(f);
}

/* evtchn_2l_set_pending returns early when the port was already pending. */
TEST(evtchn_already_pending_port_is_not_redelivered)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 0, &p);
    fx_send(f, p);
    /* the guest clears its selector and upcall flag but not the port bit */
    f->si->vcpu_info[0].evtchn_pending_sel = 0;
    f->si->vcpu_info[0].evtchn_upcall_pending = 0;
    fx_send(f, p);
    CHECK_EQ(fx_sel(f, 0), 0);
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(evtchn_set_pending_word_already_selected_does_not_kick)
{
    struct fx *f = fx_new();
    evtchn_port_t p1, p2;
    fx_bind_ipi(f, 0, &p1);
    fx_bind_ipi(f, 0, &p2);
    fx_send(f, p1);
    f->si->vcpu_info[0].evtchn_upcall_pending = 0;   /* sel bit still set */
    fx_send(f, p2);
    CHECK(fx_pending(f, p2));
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(evtchn_masked_port_pends_without_upcall_until_unmask)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 1, &p);
    fx_mask(f, p);
    fx_send(f, p);
    CHECK(fx_pending(f, p));
    CHECK_EQ(fx_sel(f, 1), 0);
    CHECK_EQ(fx_upcall(f, 1), 0);
    CHECK_EQ(f->kicks[1], 0);
    CHECK_EQ(fx_unmask(f, p), 0);
    CHECK(!(f->si->evtchn_mask[0] & ((xen_ulong_t)1 << p)));
    CHECK_EQ(fx_sel(f, 1), 1);
    CHECK_EQ(fx_upcall(f, 1), 1);
    CHECK_EQ(f->kicks[1], 1);
    fx_free(f);
}

TEST(evtchn_unmask_without_pending_event_raises_nothing)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 0, &p);
    fx_mask(f, p);
    CHECK_EQ(fx_unmask(f, p), 0);
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

/* Only a 1 -> 0 mask transition delivers: unmasking a port that was not
 * masked does not re-raise an event the guest already saw. */
TEST(evtchn_unmask_of_unmasked_pending_port_raises_nothing)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_bind_ipi(f, 0, &p);
    fx_send(f, p);
    f->si->vcpu_info[0].evtchn_pending_sel = 0;
    f->si->vcpu_info[0].evtchn_upcall_pending = 0;
    CHECK_EQ(fx_unmask(f, p), 0);
    CHECK_EQ(fx_upcall(f, 0), 0);
    CHECK_EQ(f->kicks[0], 1);
    fx_free(f);
}

TEST(evtchn_unmask_out_of_range_einval)
{
    struct fx *f = fx_new();
    CHECK_EQ(fx_unmask(f, EVTCHN_NR_PORTS), -EINVAL);
    fx_free(f);
}

TEST(evtchn_port_pending_out_of_range_false)
{
    struct fx *f = fx_new();
    CHECK(!evtchn_port_pending(f->e, EVTCHN_NR_PORTS));
    evtchn_set_pending(f->e, EVTCHN_NR_PORTS);   /* ignored, no crash */
    CHECK_EQ(fx_total_kicks(f), 0);
    fx_free(f);
}

/* ---- reset ---- */

TEST(evtchn_reset_closes_every_port)
{
    struct fx *f = fx_new();
    evtchn_port_t a, b, v, i, u;
    fx_alloc_unbound(f, DOMID_SELF, &a);
    fx_bind_interdomain(f, DOMID_SELF, a, &b);
    fx_bind_virq(f, VIRQ_TIMER, 1, &v);
    fx_bind_ipi(f, 2, &i);
    fx_alloc_unbound(f, 0, &u);
    struct evtchn_reset r = { .dom = DOMID_SELF };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_reset, &r, 0), 0);
    struct evtchn_status st;
    for (evtchn_port_t p = 0; p <= u; p++) {
        fx_status(f, p, &st);
        CHECK_EQ(st.status, EVTCHNSTAT_closed);
    }
    CHECK(!fx_pending(f, b));
    CHECK_EQ(fx_close(f, 0), -EINVAL);      /* port 0 stays reserved */
    CHECK_EQ(fx_bind_virq(f, VIRQ_TIMER, 1, &v), 0);
    CHECK_EQ(v, 1);
    fx_free(f);
}

TEST(evtchn_reset_other_domain_eperm)
{
    struct fx *f = fx_new();
    evtchn_port_t p;
    fx_alloc_unbound(f, 0, &p);
    struct evtchn_reset r = { .dom = 0 };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_reset, &r, 0), -EPERM);
    struct evtchn_status st;
    fx_status(f, p, &st);
    CHECK_EQ(st.status, EVTCHNSTAT_unbound);
    r.dom = FX_DOMID;
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_reset, &r, 0), 0);
    fx_free(f);
}

/* ---- unsupported ops, sizes (FIFO: test_evtchn_fifo.c) ---- */

TEST(evtchn_unknown_op_enosys_and_pirq_einval)
{
    struct fx *f = fx_new();
    uint8_t junk[64] = { 0 };
    CHECK_EQ(evtchn_op(f->e, 99, junk, 0), -ENOSYS);
    struct evtchn_bind_pirq bp = { .pirq = 1 };
    CHECK_EQ(evtchn_op(f->e, EVTCHNOP_bind_pirq, &bp, 0), -EINVAL);
    fx_free(f);
}

TEST(evtchn_op_size_matches_argument_structs)
{
    CHECK_EQ(evtchn_op_size(EVTCHNOP_bind_interdomain), sizeof(struct evtchn_bind_interdomain));
    CHECK_EQ(evtchn_op_size(EVTCHNOP_alloc_unbound), sizeof(struct evtchn_alloc_unbound));
    CHECK_EQ(evtchn_op_size(EVTCHNOP_status), sizeof(struct evtchn_status));
    CHECK_EQ(evtchn_op_size(EVTCHNOP_send), sizeof(struct evtchn_send));
    CHECK_EQ(evtchn_op_size(EVTCHNOP_init_control), sizeof(struct evtchn_init_control));
    CHECK_EQ(evtchn_op_size(99), 0);
}
