/* Polling xenstore client. Requests go into req[] and req_prod moves after the
 * bytes (release); replies and watch events come from rsp[] and rsp_cons moves
 * after they are read. The store port is kicked after writing a message and
 * after consuming replies, since the other end only looks when kicked. Waits
 * spin on the ring indices with a deadline, so a lost event costs nothing but
 * a missing reply is reported as a timeout. */
#include "xenbus.h"
#include "events.h"
#include "hypercall.h"
#include "pvclock.h"

#define MS 1000000ULL
#define REQUEST_TIMEOUT (10000 * MS)
#define MSG_TIMEOUT (5000 * MS)    /* for the rest of a message once it began */
#define QUEUE_LEN 8

static volatile struct xenstore_domain_interface *ring;
static evtchn_port_t store_port;
static uint32_t next_req_id = 1;
static bool broken;                /* out of sync with the daemon: give up */
static bool consumed;              /* rsp bytes taken since the last kick */
static char err_name[16];
static char msg[XENSTORE_PAYLOAD_MAX + 1];
static char req_buf[XENSTORE_PAYLOAD_MAX];

static struct xb_watch_event queue[QUEUE_LEN];
static unsigned q_head, q_count, q_dropped;

long xb_init(void)
{
    uint64_t pfn = 0, port = 0;
    long rc = hvm_get_param(HVM_PARAM_STORE_PFN, &pfn);
    if (!rc)
        rc = hvm_get_param(HVM_PARAM_STORE_EVTCHN, &port);
    if (rc)
        return rc;
    /* boot.S identity-maps the low 4 GiB only. */
    if (pfn == 0 || pfn >= (1ULL << (32 - 12)) || port == 0 || port >= NR_EVTCHN)
        return -XEN_ENXIO;
    ring = (volatile struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
    store_port = (evtchn_port_t)port;
    broken = false;
    return 0;
}

evtchn_port_t xb_port(void)
{
    return store_port;
}

bool xb_broken(void)
{
    return broken;
}

volatile struct xenstore_domain_interface *xb_ring(void)
{
    return ring;
}

const char *xb_errname(int rc)
{
    switch (rc) {
    case 0: return "OK";
    case XB_EXS: return err_name;
    case XB_ETIMEOUT: return "timeout";
    case XB_EPROTO: return "protocol error";
    case XB_E2BIG: return "too big";
    case XB_ENOTREADY: return "no xenstore ring";
    case XB_EBROKEN: return "connection given up after an earlier error";
    }
    return "?";
}

static void kick(void)
{
    evtchn_send(store_port);
}

static bool rsp_ready(void)
{
    return ring->rsp_prod != ring->rsp_cons;
}

static bool req_room(void)
{
    return ring->req_prod - ring->req_cons != XENSTORE_RING_SIZE;
}

/* Spins with interrupts on until cond() or the deadline. */
static bool wait_until(bool (*cond)(void), uint64_t deadline)
{
    bool irq = irqs_enabled();
    bool ok;
    irq_enable();
    while (!(ok = cond()) && xen_time_ns() < deadline)
        cpu_relax();
    if (!irq)
        irq_disable();
    return ok;
}

static int ring_put(const void *data, uint32_t n, uint64_t deadline)
{
    const char *p = data;
    while (n) {
        XENSTORE_RING_IDX cons = ring->req_cons, prod = ring->req_prod;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* cons read before the slots are reused */
        if (prod - cons > XENSTORE_RING_SIZE)
            return XB_EPROTO;
        uint32_t k = XENSTORE_RING_SIZE - (prod - cons);
        if (!k) {
            kick();
            if (!wait_until(req_room, deadline))
                return XB_ETIMEOUT;
            continue;
        }
        if (k > n)
            k = n;
        for (uint32_t i = 0; i < k; i++)
            ring->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
        __atomic_thread_fence(__ATOMIC_RELEASE);   /* bytes before the index */
        ring->req_prod = prod + k;
        p += k;
        n -= k;
    }
    return 0;
}

static int ring_get(void *data, uint32_t n, uint64_t deadline)
{
    char *p = data;
    while (n) {
        XENSTORE_RING_IDX cons = ring->rsp_cons, prod = ring->rsp_prod;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);   /* index before the bytes */
        if (prod - cons > XENSTORE_RING_SIZE)
            return XB_EPROTO;
        if (prod == cons) {
            if (consumed) {
                consumed = false;
                kick();
            }
            if (!wait_until(rsp_ready, deadline))
                return XB_ETIMEOUT;
            continue;
        }
        uint32_t k = prod - cons;
        if (k > n)
            k = n;
        for (uint32_t i = 0; i < k; i++)
            p[i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
        __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* bytes read before the space is freed */
        ring->rsp_cons = cons + k;
        consumed = true;
        p += k;
        n -= k;
    }
    return 0;
}

/* Next message into *h and msg[] (NUL-terminated). A timeout before its first
 * byte leaves the connection usable; anything else breaks it. */
static int read_msg(struct xsd_sockmsg *h, uint64_t deadline)
{
    if (!wait_until(rsp_ready, deadline))
        return XB_ETIMEOUT;
    uint64_t end = xen_time_ns() + MSG_TIMEOUT;
    int rc = ring_get(h, sizeof(*h), end);
    if (!rc && h->len > XENSTORE_PAYLOAD_MAX)
        rc = XB_EPROTO;
    if (!rc)
        rc = ring_get(msg, h->len, end);
    if (consumed) {
        consumed = false;
        kick();
    }
    if (rc) {
        broken = true;
        return rc;
    }
    msg[h->len] = '\0';
    return 0;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* msg[] holds "<path>|<token>|": queue it, dropping the oldest if full. */
static int queue_event(const struct xsd_sockmsg *h)
{
    size_t pl = strnlen(msg, h->len);
    if (pl + 1 >= h->len) {
        broken = true;
        return XB_EPROTO;
    }
    if (q_count == QUEUE_LEN) {
        q_head = (q_head + 1) % QUEUE_LEN;
        q_count--;
        q_dropped++;
    }
    struct xb_watch_event *ev = &queue[(q_head + q_count) % QUEUE_LEN];
    copy_str(ev->path, sizeof(ev->path), msg);
    copy_str(ev->token, sizeof(ev->token), msg + pl + 1);
    q_count++;
    return 0;
}

int xb_request(uint32_t type, uint32_t tx, const void *payload, uint32_t len,
               char *reply, uint32_t size, uint32_t *rlen)
{
    if (!ring)
        return XB_ENOTREADY;
    if (broken)
        return XB_EBROKEN;
    if (len > XENSTORE_PAYLOAD_MAX)
        return XB_E2BIG;
    struct xsd_sockmsg h = { .type = type, .req_id = next_req_id++, .tx_id = tx, .len = len };
    uint64_t deadline = xen_time_ns() + REQUEST_TIMEOUT;
    int rc = ring_put(&h, sizeof(h), deadline);
    if (!rc)
        rc = ring_put(payload, len, deadline);
    kick();
    if (rc) {
        broken = true;
        return rc;
    }
    for (;;) {
        struct xsd_sockmsg r;
        if ((rc = read_msg(&r, deadline))) {
            broken = true;   /* a late reply would be taken for the next one's */
            return rc;
        }
        if (r.type == XS_WATCH_EVENT) {
            if ((rc = queue_event(&r)))
                return rc;
            continue;
        }
        if (r.req_id != h.req_id) {
            broken = true;
            return XB_EPROTO;
        }
        if (r.type == XS_ERROR) {
            copy_str(err_name, sizeof(err_name), msg);
            return XB_EXS;
        }
        if (r.type != type)
            return XB_EPROTO;
        if (rlen)
            *rlen = r.len;
        if (reply && size) {
            uint32_t n = r.len < size ? r.len : size - 1;
            memcpy(reply, msg, n);
            reply[n] = '\0';
            if (n < r.len)
                return XB_E2BIG;
        }
        return 0;
    }
}

/* "<a>|<b>" into req_buf, b's NUL included or not; its length via *len. */
static int two_strs(const char *a, const char *b, bool b_nul, uint32_t *len)
{
    size_t la = strlen(a) + 1, lb = b ? strlen(b) + (b_nul ? 1 : 0) : 0;
    if (la + lb > sizeof(req_buf))
        return XB_E2BIG;
    memcpy(req_buf, a, la);
    if (b)
        memcpy(req_buf + la, b, lb);
    *len = (uint32_t)(la + lb);
    return 0;
}

static int simple(uint32_t type, uint32_t tx, const char *a, const char *b, bool b_nul,
                  char *reply, uint32_t size, uint32_t *rlen)
{
    uint32_t len;
    int rc = two_strs(a, b, b_nul, &len);
    return rc ? rc : xb_request(type, tx, req_buf, len, reply, size, rlen);
}

int xb_read(uint32_t tx, const char *path, char *buf, uint32_t size)
{
    return simple(XS_READ, tx, path, NULL, false, buf, size, NULL);
}

int xb_write(uint32_t tx, const char *path, const char *value)
{
    return simple(XS_WRITE, tx, path, value, false, NULL, 0, NULL);
}

int xb_mkdir(uint32_t tx, const char *path)
{
    return simple(XS_MKDIR, tx, path, NULL, false, NULL, 0, NULL);
}

int xb_rm(uint32_t tx, const char *path)
{
    return simple(XS_RM, tx, path, NULL, false, NULL, 0, NULL);
}

int xb_directory(uint32_t tx, const char *path, char *buf, uint32_t size, uint32_t *len)
{
    return simple(XS_DIRECTORY, tx, path, NULL, false, buf, size, len);
}

bool xb_list_has(const char *list, uint32_t len, const char *name)
{
    for (uint32_t off = 0; off < len; off += strnlen(list + off, len - off) + 1)
        if (!strcmp(list + off, name))
            return true;
    return false;
}

int xb_get_domain_path(unsigned domid, char *buf, uint32_t size)
{
    char id[12];
    snprintf(id, sizeof(id), "%u", domid);
    return simple(XS_GET_DOMAIN_PATH, 0, id, NULL, false, buf, size, NULL);
}

int xb_watch(const char *path, const char *token)
{
    return simple(XS_WATCH, 0, path, token, true, NULL, 0, NULL);
}

int xb_unwatch(const char *path, const char *token)
{
    return simple(XS_UNWATCH, 0, path, token, true, NULL, 0, NULL);
}

int xb_txn_start(uint32_t *tx)
{
    char buf[16];
    int rc = simple(XS_TRANSACTION_START, 0, "", NULL, false, buf, sizeof(buf), NULL);
    if (rc)
        return rc;
    uint32_t v = 0;
    const char *s = buf;
    if (!*s)
        return XB_EPROTO;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return XB_EPROTO;
        v = v * 10 + (uint32_t)(*s - '0');
    }
    *tx = v;
    return 0;
}

int xb_txn_end(uint32_t tx, bool commit)
{
    return simple(XS_TRANSACTION_END, tx, commit ? "T" : "F", NULL, false, NULL, 0, NULL);
}

int xb_wait_watch(struct xb_watch_event *ev, uint64_t timeout_ns)
{
    if (!ring)
        return XB_ENOTREADY;
    uint64_t deadline = xen_time_ns() + timeout_ns;
    while (!q_count) {
        if (broken)
            return XB_EBROKEN;
        struct xsd_sockmsg r;
        int rc = read_msg(&r, deadline);
        if (rc)
            return rc;
        if (r.type != XS_WATCH_EVENT) {
            broken = true;   /* a reply with no request in flight */
            return XB_EPROTO;
        }
        if ((rc = queue_event(&r)))
            return rc;
    }
    *ev = queue[q_head];
    q_head = (q_head + 1) % QUEUE_LEN;
    q_count--;
    return 0;
}

unsigned xb_events_dropped(void)
{
    return q_dropped;
}
