// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What containers on other hosts send to ours, at two hooks:
 *   - tc ingress of the underlay interface (bpfnet_from_underlay): VXLAN
 *     packets to this host's underlay address, decapsulated in BPF; the rest
 *     passes on (TC_ACT_UNSPEC: to the uplink program if the underlay is an
 *     uplink too, then the stack);
 *   - tc ingress of the collect-metadata VXLAN device overlay networks share
 *     (bpfnet_vxlan, bpfnet_from_overlay): what the first passed and the
 *     kernel decapsulated.
 * lib/overlay.h checks the tunnel key against bpfnet_tunnels and delivers
 * into the container. Counted on the interface it arrived on as arriving
 * from outside (BPFNET_DIR_FROM_UPLINK).
 */
#include "lib/overlay.h"
#include "lib/verdict.h"

SEC("tc")
int bpfnet_from_underlay(struct __sk_buff *skb)
{
	struct fwd_result fwd = {};
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	int ret = overlay_from_underlay(skb, &fwd);

	if (ret == CONTINUE_PASS)
		return TC_ACT_UNSPEC;
	return tc_verdict(skb, ret, ifindex, BPFNET_DIR_FROM_UPLINK, fwd.peer_ifindex, len);
}

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
