// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc ingress of the collect-metadata VXLAN device overlay networks share
 * (bpfnet_vxlan): what containers on other hosts send to ours, after the
 * kernel took the outer headers off. lib/overlay.h checks the tunnel key
 * against bpfnet_tunnels and delivers into the container. Counted on the
 * VXLAN device as arriving from outside (BPFNET_DIR_FROM_UPLINK).
 */
#include "lib/overlay.h"
#include "lib/verdict.h"

SEC("tc")
int bpfnet_from_overlay(struct __sk_buff *skb)
{
	struct fwd_result fwd = {};
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	int ret = overlay_from_tunnel(skb, &fwd);

	return tc_verdict(skb, ret, ifindex, BPFNET_DIR_FROM_UPLINK, fwd.peer_ifindex, len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
