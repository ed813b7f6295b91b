/* vif specifications, MACs and rates. */
#include "unit.h"
#include "config/vif.h"
#include <stdlib.h>

static struct vif_spec V;
static char E[256], W[256];

static int parse(const char *spec)
{
    vif_spec_free(&V);
    E[0] = 0;
    return vif_parse(&V, spec, E, sizeof(E), W);
}

TEST(vif_all_keys)
{
    CHECK_EQ(parse("mac=00:16:3E:74:3d:76, model=rtl8139,bridge=xenbr0,ip=10.0.0.1,type=vif,"
                   "vifname=web0,script=vif-route,backend=0,rate=10Mb/s,mtu=9000,devid=3,"
                   "gatewaydev=eth0,untrusted"), 0);
    CHECK(V.mac_set);
    CHECK_EQ(V.mac[2], 0x3e);
    CHECK_EQ(V.mac[5], 0x76);
    CHECK_STR(V.model, "rtl8139");
    CHECK_STR(V.bridge, "xenbr0");
    CHECK_STR(V.ip, "10.0.0.1");
    CHECK_STR(V.type, "vif");
    CHECK_STR(V.vifname, "web0");
    CHECK_STR(V.script, "vif-route");
    CHECK_STR(V.backend, "0");
    CHECK_EQ(V.rate_bytes_per_s, 1250000);
    CHECK_EQ(V.mtu, 9000);
    CHECK_EQ(V.devid, 3);
    CHECK_STR(V.gatewaydev, "eth0");
    CHECK(V.untrusted);
    char *s = vif_to_xl(&V);
    CHECK_STR(s, "mac=00:16:3e:74:3d:76,bridge=xenbr0,ip=10.0.0.1,script=vif-route,model=rtl8139,"
                 "type=vif,vifname=web0,backend=0,gatewaydev=eth0,rate=10Mb/s,mtu=9000,devid=3,untrusted");
    free(s);
}

TEST(vif_empty_spec)
{
    CHECK_EQ(parse(""), 0);
    CHECK(!V.mac_set && !V.bridge);
    CHECK_EQ(V.devid, -1);
    CHECK_EQ(parse(" , ,"), 0);
    char *s = vif_to_xl(&V);
    CHECK_STR(s, "");
    free(s);
}

TEST(vif_obsolete_key_warns)
{
    CHECK_EQ(parse("bridge=br0,accel=x"), 0);
    CHECK(strstr(W, "'accel' is obsolete"));
    CHECK_EQ(parse("netdev=eth1"), 0);
    CHECK_STR(V.gatewaydev, "eth1");
}

TEST(vif_errors)
{
    struct { const char *spec, *err; } cases[] = {
        { "mac=00:16:3e:00:00", "invalid MAC address" },
        { "mac=00:16:3e:00:00:0g", "invalid MAC address" },
        { "mac=00:16:3e:00:00:00:00", "invalid MAC address" },
        { "mac=00-16:3e:00:00:01", "invalid MAC address" },
        { "mac=01:16:3e:00:00:01", "multicast" },
        { "rate=fast", "invalid rate 'fast'" },
        { "rate=10MB", "invalid rate" },
        { "rate=10MB/s@", "invalid rate" },
        { "rate=0B/s", "invalid rate" },
        { "mtu=40", "invalid mtu" },
        { "mtu=1500x", "invalid mtu" },
        { "devid=-1", "invalid devid" },
        { "type=e1000", "invalid type" },
        { "bridge", "'bridge' is not a KEY=VALUE pair" },
        { "colour=blue", "unknown parameter 'colour'" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
        if (parse(cases[i].spec) != -1 || !strstr(E, cases[i].err))
            unit_fail(__FILE__, __LINE__, "'%s': got '%s', expected '%s'", cases[i].spec, E, cases[i].err);
}

TEST(vif_rates)
{
    uint64_t b;
    uint32_t us;
    CHECK_EQ(vif_rate_parse("250KB/s", &b, &us), 0);
    CHECK_EQ(b, 250000);
    CHECK_EQ(us, 50000);
    CHECK_EQ(vif_rate_parse("1MB/s@20ms", &b, &us), 0);
    CHECK_EQ(b, 1000000);
    CHECK_EQ(us, 20000);
    CHECK_EQ(vif_rate_parse("8b/s@1s", &b, &us), 0);
    CHECK_EQ(b, 1);
    CHECK_EQ(us, 1000000);
    CHECK_EQ(vif_rate_parse("1GB/s@100us", &b, &us), 0);
    CHECK_EQ(us, 100);
    CHECK_EQ(vif_rate_parse("99999999999999999999GB/s", &b, &us), -1);
    CHECK_EQ(vif_rate_parse("1MB/s@5h", &b, &us), -1);
}

TEST(vif_default_mac_stable)
{
    uint8_t a[6], b[6], c[6], u[16] = { 1, 2, 3 };
    vif_default_mac(u, "x", 0, a);
    vif_default_mac(u, "y", 0, b);
    CHECK(!memcmp(a, b, 6));                 /* the uuid decides when present */
    CHECK_EQ(a[0], 0x00);
    CHECK_EQ(a[1], 0x16);
    CHECK_EQ(a[2], 0x3e);
    CHECK(!(a[3] & 0x80));
    vif_default_mac(u, "x", 1, c);
    CHECK(memcmp(a, c, 6));                  /* differs per device */
    vif_default_mac(NULL, "web", 0, a);
    vif_default_mac(NULL, "web", 0, b);
    CHECK(!memcmp(a, b, 6));
    vif_default_mac(NULL, "db", 0, c);
    CHECK(memcmp(a, c, 6));
    char s[18];
    mac_format(a, s);
    CHECK(!strncmp(s, "00:16:3e:", 9));
    uint8_t m[6];
    CHECK_EQ(mac_parse(s, m), 0);
    CHECK(!memcmp(m, a, 6));
    vif_spec_free(&V);
}
