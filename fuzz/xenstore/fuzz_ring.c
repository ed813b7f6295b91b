/* libFuzzer target: the ring relay. The guest controls the whole ring page
 * (indices and bytes); the "domain process" moves what xs_ring_read_req gives
 * into a guest connection and its replies back with xs_ring_write_rsp, as the
 * real relay does, checking the helpers never exceed the ring. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore/ring.h"
#include "xenstore/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct xenstore_domain_interface intf;
    struct xs_server s;
    xs_server_init(&s, NULL);
    struct xs_conn *c = xs_conn_new(&s, -1);
    static const char hs[] = "xenkvm-relay\0" "7";
    struct xsd_sockmsg h = { .type = XS_CONTROL, .len = sizeof(hs) };
    xs_conn_input(c, &h, sizeof(h));
    xs_conn_input(c, hs, sizeof(hs));
    uint8_t junk[64];
    xs_conn_pop(c, junk, sizeof(junk));

    memset(&intf, 0, sizeof(intf));
    uint8_t pending[XS_HDR_SIZE + XENSTORE_PAYLOAD_MAX];
    size_t off = 0;
    while (off + 8 <= size) {
        /* the guest's move: new indices and some request bytes */
        uint32_t prod_adv, cons_set;
        memcpy(&prod_adv, data + off, 4);
        memcpy(&cons_set, data + off + 4, 4);
        off += 8;
        size_t n = (prod_adv & 0x7ff) < size - off ? (prod_adv & 0x7ff) : size - off;
        for (size_t i = 0; i < n; i++)
            intf.req[MASK_XENSTORE_IDX(intf.req_prod + (uint32_t)i)] = (char)data[off + i];
        off += n;
        if (prod_adv & 0x80000000u)
            intf.req_prod = prod_adv;          /* garbage index */
        else
            intf.req_prod += (uint32_t)n;
        if (cons_set & 0x80000000u)
            intf.rsp_cons = cons_set;          /* garbage index */
        else
            intf.rsp_cons = intf.rsp_prod - (cons_set & 0x3ff);

        /* the domain process's move */
        uint8_t buf[XENSTORE_RING_SIZE];
        uint32_t before = intf.req_cons;
        ssize_t got = xs_ring_read_req(&intf, buf, (cons_set >> 12) & 0x7ff);
        if (got < 0) {
            if (intf.req_prod - intf.req_cons <= XENSTORE_RING_SIZE)
                abort();
            intf.req_prod = intf.req_cons;     /* "reconnect" */
            continue;
        }
        if ((size_t)got > XENSTORE_RING_SIZE || intf.req_cons != before + (uint32_t)got)
            abort();
        xs_conn_input(c, buf, (size_t)got);
        long m;
        while ((m = xs_conn_pop(c, pending, sizeof(pending))) > 0) {
            uint32_t p0 = intf.rsp_prod;
            ssize_t w = xs_ring_write_rsp(&intf, pending, (size_t)m);
            if (w < 0) {
                if (intf.rsp_prod - intf.rsp_cons <= XENSTORE_RING_SIZE)
                    abort();
                intf.rsp_cons = intf.rsp_prod;
                break;
            }
            if (intf.rsp_prod - p0 != (uint32_t)w || intf.rsp_prod - intf.rsp_cons > XENSTORE_RING_SIZE)
                abort();
            intf.rsp_cons = intf.rsp_prod;     /* the guest reads everything */
        }
        if (c->dead)
            break;
    }
    xs_server_free(&s);
    return 0;
}
