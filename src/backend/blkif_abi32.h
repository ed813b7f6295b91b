/* blkif's "x86_32-abi" protocol: the ring of a frontend running in 32-bit
 * mode (GRUB's i386 PVH image, a 32-bit Linux). Its requests and responses are
 * blkif's structures laid out by the i386 ABI: a uint64_t is 4-byte aligned,
 * so ids and sector numbers move and ring slots are 108 bytes, not 112. The
 * backend copies a request out of the ring and turns it into the native one
 * (as Linux's blkback does), and writes responses in this layout. */
#pragma once
#include "backend/blkif_ring.h"
#include <xen/io/protocols.h>

typedef uint64_t blkif32_u64 __attribute__((aligned(4)));

struct blkif_x86_32_request {
    uint8_t operation;
    uint8_t nr_segments;
    blkif_vdev_t handle;
    blkif32_u64 id;
    blkif32_u64 sector_number;
    struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

struct blkif_x86_32_request_discard {
    uint8_t operation;
    uint8_t flag;
    blkif_vdev_t handle;
    blkif32_u64 id;
    blkif32_u64 sector_number;
    blkif32_u64 nr_sectors;
};

struct blkif_x86_32_request_indirect {
    uint8_t operation;
    uint8_t indirect_op;
    uint16_t nr_segments;
    blkif32_u64 id;
    blkif32_u64 sector_number;
    blkif_vdev_t handle;
    grant_ref_t indirect_grefs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    blkif32_u64 pad;
};

struct blkif_x86_32_response {
    blkif32_u64 id;
    uint8_t operation;
    int16_t status;
};

DEFINE_RING_TYPES(blkif_x86_32, struct blkif_x86_32_request, struct blkif_x86_32_response);

_Static_assert(sizeof(struct blkif_x86_32_request) == 108, "i386 blkif_request");
_Static_assert(sizeof(struct blkif_x86_32_request_discard) == 28, "i386 blkif_request_discard");
_Static_assert(sizeof(struct blkif_x86_32_request_indirect) == 64, "i386 blkif_request_indirect");
_Static_assert(sizeof(struct blkif_x86_32_response) == 12, "i386 blkif_response");
_Static_assert(sizeof(union blkif_x86_32_sring_entry) == 108, "i386 ring slot");

/* The native request for a 32-bit one already copied out of the ring. An
 * operation it does not know keeps only its id, so that it can be answered. */
void blkif_x86_32_get_req(blkif_request_t *dst, const struct blkif_x86_32_request *src);
