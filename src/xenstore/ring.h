/* The guest side of a xenstore connection: the ring page. The domain process
 * calls these to move bytes between the page (shared with a hostile guest)
 * and its relay socket. Indices are read once, checked, and the data copied
 * with acquire/release ordering so the guest cannot change what was checked. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <xen/io/xs_wire.h>

/* Copies up to max bytes of requests the guest produced into buf and consumes
 * them (req_cons). Returns the count (0: nothing new), or -1 if the guest's
 * indices are impossible (more than a ring's worth outstanding): disconnect,
 * and set intf->error = XENSTORE_ERROR_RINGIDX. */
ssize_t xs_ring_read_req(struct xenstore_domain_interface *intf, void *buf, size_t max);

/* Copies up to len bytes of responses into the rsp ring as space allows and
 * publishes them (rsp_prod). Returns the count written (0: ring full), or -1
 * on impossible indices (as above). Notify the guest's event channel after
 * a nonzero count, and after xs_ring_read_req freed space. */
ssize_t xs_ring_write_rsp(struct xenstore_domain_interface *intf, const void *buf, size_t len);

/* Bytes of free room in the rsp ring (0 also for bad indices). */
size_t xs_ring_rsp_room(const struct xenstore_domain_interface *intf);
