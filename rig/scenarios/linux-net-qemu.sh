# rig: control for linux-net — the same guest and transfers under QEMU microvm (KVM in the
# rig) with virtio-net on a tap in bridge xenbr0, instead of xenkvm's netfront/netback.
# Failures here are the rig's (nested TCG), not xenkvm's. Not in the pytest tier.
# rig: needs qemu
RIG_NET_VMM=qemu
. /scenarios/linux-net.sh
