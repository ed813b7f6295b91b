#include "blk_util.h"
#include <stdlib.h>
#include <unistd.h>

void blk_mkdisk(char *buf, size_t len, uint64_t bytes)
{
    snprintf(buf, len, "/tmp/blktest.XXXXXX");
    int fd = mkstemp(buf);
    CHECK(fd >= 0);
    uint8_t chunk[65536];
    for (uint64_t off = 0; off < bytes; off += sizeof(chunk)) {
        size_t n = bytes - off < sizeof(chunk) ? bytes - off : sizeof(chunk);
        for (size_t i = 0; i < n; i++)
            chunk[i] = blk_pat(off + i);
        CHECK(pwrite(fd, chunk, n, off) == (ssize_t)n);
    }
    close(fd);
}

void blk_open(struct hx *h, struct hx_config *cfg, char *path, size_t pathlen, uint64_t bytes)
{
    blk_mkdisk(path, pathlen, bytes);
    cfg->disk = path;
    if (!cfg->nr_queues)
        cfg->nr_queues = 1;
    if (!cfg->frames)
        cfg->frames = 2048;
    char err[256] = "";
    int rc = hx_open(h, cfg, err, sizeof(err));
    if (rc)
        unit_fail(__FILE__, __LINE__, "hx_open: %s", err);
}

void blk_close(struct hx *h, const char *path)
{
    hx_close(h);
    CHECK_EQ(h->live_maps, 0);
    CHECK_EQ(h->ring_maps, 0);
    unlink(path);
}

int16_t blk_do(struct hx *h, unsigned q, uint64_t id)
{
    hx_push(h, q);
    blkif_response_t r;
    if (hx_rsp(h, q, &r, 10000) < 0) {
        unit_fail(__FILE__, __LINE__, "no response");
        return 99;
    }
    CHECK_EQ(r.id, id);
    return r.status;
}
