/* Frontend harness: plays a guest's side of blkif rings in host memory and
 * drives the blkback core directly (no KVM, no xenstore). Guest memory is a
 * memfd of frames; a fake grant table hands frames to the backend. With guard
 * on, the backend's view of guest memory is PROT_NONE except granted pages
 * while they are mapped (read-only pages stay read-only), so any access
 * outside a mapped grant faults. */
#pragma once
#include "backend/blkback.h"
#include <pthread.h>

#define HX_MAX_GRANTS 8192
#define HX_FIRST_REF 8           /* 0..7 are the toolstack's, as in Xen */
#define HX_REF_INVALID 0xffffffffu

struct hx_config {
    const char *disk;            /* image path */
    const char *format;          /* NULL: a raw file on io_uring; else a QEMU block
                                  * driver (qcow2, vpc...) through qemu-storage-daemon */
    bool readonly;
    unsigned nr_queues;          /* 1..BLK_MAX_QUEUES */
    unsigned ring_order;         /* pages = 1 << order */
    unsigned frames;             /* guest memory frames (ring pages come first) */
    bool threaded;               /* backend worker threads (else hx_push runs it) */
    bool guard;                  /* fault on any access outside a mapped grant */
    bool scatter_ring;           /* ring pages granted in reverse frame order */
    bool abi32;                  /* a 32-bit frontend: protocol x86_32-abi */
};

struct hx_grant {
    uint32_t frame;
    bool used, ro;
};

struct hx_queue {
    /* Indices are the same in both protocols; with abi32 the slots are
     * front32's and hx_req hands out a native request staged in staged[],
     * which hx_push writes into the ring in the i386 layout. */
    union {
        blkif_front_ring_t front;
        blkif_x86_32_front_ring_t front32;
    };
    blkif_request_t staged[BLK_MAX_RING_PAGES * 32];
    bool raw;                    /* hx_slot wrote the slots themselves */
    grant_ref_t ring_refs[BLK_MAX_RING_PAGES];
    uint8_t *fview;              /* the frontend's contiguous view of the ring */
    int notify_fd;               /* eventfd the backend's notify writes */
    uint64_t notifies;
};

struct hx {
    struct hx_config cfg;
    int memfd;
    uint8_t *mem;                /* the frontend's view */
    uint8_t *bview;              /* the backend's view (guard), else == mem */
    pthread_mutex_t lock;        /* grant table and map counts */
    struct hx_grant gnt[HX_MAX_GRANTS];
    grant_ref_t next_ref;
    uint16_t *map_ro, *map_rw;   /* per frame: live backend mappings */
    grant_ref_t *ref_ro, *ref_rw;/* per frame: a standing grant (hx_frame_ref), 0 = none */
    long live_maps;              /* grant mappings not yet unmapped */
    long ring_maps;
    struct gnt_env env;
    struct blk_disk disk;
    struct blkback be;
    struct hx_queue q[BLK_MAX_QUEUES];
    unsigned first_data_frame;   /* frames below hold the rings */
};

/* Returns 0 or -errno with err set. */
int hx_open(struct hx *h, const struct hx_config *cfg, char *err, size_t errlen);
void hx_close(struct hx *h);

uint8_t *hx_frame(struct hx *h, unsigned frame);          /* the frontend's view */
grant_ref_t hx_grant(struct hx *h, unsigned frame, bool readonly);
void hx_ungrant(struct hx *h, grant_ref_t ref);
/* A standing grant of frame, made on first use and reused (as blkfront's
 * persistent grants); HX_REF_INVALID if out of frames or refs. */
grant_ref_t hx_frame_ref(struct hx *h, unsigned frame, bool readonly);

/* The next free request slot of queue q (zeroed). */
blkif_request_t *hx_req(struct hx *h, unsigned q);
/* The next ring slot itself, for a frontend writing raw bytes (the fuzzer);
 * *len is its size: 112 bytes, or 108 with abi32. Not mixed with hx_req. */
void *hx_slot(struct hx *h, unsigned q, size_t *len);
/* Publishes the requests written so far and kicks the backend when needed;
 * unthreaded, runs the backend until nothing is in flight. */
void hx_push(struct hx *h, unsigned q);
/* Takes one response; waits up to timeout_ms for it. Returns 0 or -ETIMEDOUT. */
int hx_rsp(struct hx *h, unsigned q, blkif_response_t *out, int timeout_ms);

/* A read/write of nsegs whole pages starting at frame, as direct or indirect
 * segments (indirect when nsegs > 11; its segment pages come from ind_frame),
 * through standing grants; returns the request id. */
uint64_t hx_rw(struct hx *h, unsigned q, uint8_t op, uint64_t sector, unsigned frame,
               unsigned nsegs, unsigned ind_frame);
/* Pushes and waits for the one response; returns its status (or 99 on timeout). */
int16_t hx_wait(struct hx *h, unsigned q, uint64_t id);
