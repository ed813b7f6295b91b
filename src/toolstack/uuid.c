/* UUID text form and random (version 4) UUIDs. */
#include "toolstack/uuid.h"
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int ts_uuid_parse(const char *s, uint8_t u[16])
{
    if (strlen(s) != 36)
        return -1;
    const char *p = s;
    for (int i = 0; i < 16; i++) {
        if (p - s == 8 || p - s == 13 || p - s == 18 || p - s == 23) {
            if (*p != '-')
                return -1;
            p++;
        }
        int hi = hexval(p[0]), lo = hexval(p[1]);
        if (hi < 0 || lo < 0)
            return -1;
        u[i] = hi << 4 | lo;
        p += 2;
    }
    return 0;
}

void ts_uuid_format(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
             u[12], u[13], u[14], u[15]);
}

void ts_uuid_generate(uint8_t u[16])
{
    if (getrandom(u, 16, 0) != 16) {
        FILE *f = fopen("/dev/urandom", "re");
        if (!f || fread(u, 1, 16, f) != 16)
            memset(u, 0x5a, 16);
        if (f)
            fclose(f);
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
}
