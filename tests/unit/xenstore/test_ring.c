/* The ring helpers: wrap-around, partial copies, bad indices. */
#include "unit.h"

#include "xenstore/ring.h"

TEST(ring_read_wraps)
{
    static struct xenstore_domain_interface intf;
    memset(&intf, 0, sizeof(intf));
    intf.req_cons = intf.req_prod = 0xfffffffeu - 5;   /* near the index wrap */
    for (int i = 0; i < 10; i++)
        intf.req[MASK_XENSTORE_IDX(intf.req_prod + (uint32_t)i)] = (char)('a' + i);
    intf.req_prod += 10;
    char buf[16];
    CHECK_EQ(xs_ring_read_req(&intf, buf, 4), 4);
    CHECK(!memcmp(buf, "abcd", 4));
    CHECK_EQ(xs_ring_read_req(&intf, buf, sizeof(buf)), 6);
    CHECK(!memcmp(buf, "efghij", 6));
    CHECK_EQ(xs_ring_read_req(&intf, buf, sizeof(buf)), 0);
    CHECK_EQ(intf.req_cons, intf.req_prod);
}

TEST(ring_bad_indices)
{
    static struct xenstore_domain_interface intf;
    memset(&intf, 0, sizeof(intf));
    char buf[2048];
    intf.req_prod = XENSTORE_RING_SIZE + 1;
    CHECK_EQ(xs_ring_read_req(&intf, buf, sizeof(buf)), -1);
    intf.req_prod = XENSTORE_RING_SIZE;
    CHECK_EQ(xs_ring_read_req(&intf, buf, sizeof(buf)), XENSTORE_RING_SIZE);
    intf.rsp_prod = 5;
    intf.rsp_cons = 10;   /* consumer ahead of producer */
    CHECK_EQ(xs_ring_write_rsp(&intf, "x", 1), -1);
    CHECK_EQ(xs_ring_rsp_room(&intf), 0);
}

TEST(ring_write_fills_and_wraps)
{
    static struct xenstore_domain_interface intf;
    memset(&intf, 0, sizeof(intf));
    intf.rsp_prod = intf.rsp_cons = 1000;
    char data[1500];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)i;
    CHECK_EQ(xs_ring_rsp_room(&intf), XENSTORE_RING_SIZE);
    CHECK_EQ(xs_ring_write_rsp(&intf, data, sizeof(data)), XENSTORE_RING_SIZE);
    CHECK_EQ(xs_ring_write_rsp(&intf, data, sizeof(data)), 0);
    CHECK_EQ(intf.rsp[MASK_XENSTORE_IDX(1000)], data[0]);
    CHECK_EQ(intf.rsp[MASK_XENSTORE_IDX(1000 + 1023)], data[1023]);
    intf.rsp_cons += 100;
    CHECK_EQ(xs_ring_write_rsp(&intf, data + 1024, 476), 100);
    CHECK_EQ(intf.rsp[MASK_XENSTORE_IDX(1000 + 1024)], data[1024]);
}
