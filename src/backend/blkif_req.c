/* blkif request checks: every field the guest controls is validated here. */
#include "backend/blkif_req.h"
#include <string.h>

static bool range_ok(uint64_t sector, uint64_t n, uint64_t disk)
{
    return sector <= disk && n <= disk - sector;
}

int16_t blk_check_segs(struct blk_plan *p, const struct blkif_request_segment *seg, unsigned n,
                       const struct blk_limits *lim)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < n; i++) {
        if (seg[i].last_sect < seg[i].first_sect || seg[i].last_sect >= BLK_SECTORS_PER_PAGE)
            return BLKIF_RSP_ERROR;
        total += seg[i].last_sect - seg[i].first_sect + 1u;
    }
    if (!range_ok(p->sector, total, lim->sectors))
        return BLKIF_RSP_ERROR;
    p->nr_sectors = total;
    return BLKIF_RSP_OKAY;
}

static int16_t parse_indirect(const blkif_request_t *req, const struct blk_limits *lim,
                              struct blk_plan *p)
{
    struct blkif_request_indirect ind;
    memcpy(&ind, req, sizeof(ind));
    p->id = ind.id;
    p->rsp_op = ind.indirect_op;
    if (ind.indirect_op != BLKIF_OP_READ && ind.indirect_op != BLKIF_OP_WRITE)
        return BLKIF_RSP_ERROR;
    if (!lim->max_indirect)
        return BLKIF_RSP_EOPNOTSUPP;
    if (ind.nr_segments == 0 || ind.nr_segments > lim->max_indirect)
        return BLKIF_RSP_ERROR;
    p->read = ind.indirect_op == BLKIF_OP_READ;
    p->write = !p->read;
    if (p->write && lim->readonly)
        return BLKIF_RSP_ERROR;
    p->sector = ind.sector_number;
    p->nr_segs = ind.nr_segments;
    p->nr_indirect = (ind.nr_segments + BLK_SEGS_PER_INDIRECT_PAGE - 1) / BLK_SEGS_PER_INDIRECT_PAGE;
    memcpy(p->indirect, ind.indirect_grefs, p->nr_indirect * sizeof(grant_ref_t));
    return BLKIF_RSP_OKAY;
}

static int16_t parse_discard(const blkif_request_t *req, const struct blk_limits *lim,
                             struct blk_plan *p)
{
    struct blkif_request_discard dis;
    memcpy(&dis, req, sizeof(dis));
    if (!lim->discard)
        return BLKIF_RSP_EOPNOTSUPP;
    if (lim->readonly || !range_ok(dis.sector_number, dis.nr_sectors, lim->sectors))
        return BLKIF_RSP_ERROR;
    p->discard = true;
    p->sector = dis.sector_number;
    p->nr_sectors = dis.nr_sectors;
    return BLKIF_RSP_OKAY;
}

int16_t blk_parse(const blkif_request_t *req, const struct blk_limits *lim, struct blk_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->id = req->id;
    p->rsp_op = req->operation;
    switch (req->operation) {
    case BLKIF_OP_INDIRECT:
        return parse_indirect(req, lim, p);
    case BLKIF_OP_DISCARD:
        return parse_discard(req, lim, p);
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
        if (req->nr_segments == 0)
            return BLKIF_RSP_ERROR;
        break;
    case BLKIF_OP_WRITE_BARRIER:
        p->drain = true;
        /* fall through */
    case BLKIF_OP_FLUSH_DISKCACHE:
        p->flush = true;          /* with data: a FUA write */
        break;
    default:
        return BLKIF_RSP_EOPNOTSUPP;
    }
    if (req->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return BLKIF_RSP_ERROR;
    p->read = req->operation == BLKIF_OP_READ;
    p->write = !p->read && req->nr_segments > 0;
    if (!p->read && !p->write)
        return BLKIF_RSP_OKAY;    /* a bare flush/barrier: no sector range */
    if (p->write && lim->readonly)
        return BLKIF_RSP_ERROR;
    p->sector = req->sector_number;
    p->nr_segs = req->nr_segments;
    memcpy(p->seg, req->seg, p->nr_segs * sizeof(p->seg[0]));
    return blk_check_segs(p, p->seg, p->nr_segs, lim);
}
