// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc programs on the host side of every container veth.
 *   bpfnet_from_container: ingress, i.e. what the container sends.
 *   bpfnet_to_container:   egress, i.e. what the host stack sends it.
 * Entry points stay thin: the logic lives in lib/ (arp.h, from_container.h),
 * results come back as lib/results.h describes and tc_verdict() turns them
 * into the action and the counters.
 */
#include "lib/arp.h"
#include "lib/common.h"
#include "lib/from_container.h"
#include "lib/metrics.h"
#include "lib/verdict.h"

static __always_inline int from_container(struct __sk_buff *skb, __u32 ifindex,
					  struct fwd_result *fwd)
{
	/* Make sure the headers we parse are in the linear area. */
	skb_pull_headers(skb, sizeof(struct ethhdr) + sizeof(struct iphdr));
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);

	const struct bpfnet_endpoint *src = bpf_map_lookup_elem(&bpfnet_ep_if, &ifindex);
	if (!src)
		return DROP_ERR(BPFNET_DROP_UNKNOWN_ENDPOINT);
	if (!mac_equal(eth->h_source, src->mac))
		return DROP_ERR(BPFNET_DROP_INVALID_SMAC);

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_ARP):
		return arp_from_container(skb, ifindex, src);
	case bpf_htons(ETH_P_IP):
		return ipv4_from_container(skb, ifindex, src, fwd);
	default:
		return DROP_ERR(BPFNET_DROP_UNSUPPORTED_L3);
	}
}

SEC("tc")
int bpfnet_from_container(struct __sk_buff *skb)
{
	struct fwd_result fwd = {};
	/* Read once: the verifier rejects a derived pointer into the context. */
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	int ret = from_container(skb, ifindex, &fwd);

	return tc_verdict(skb, ret, ifindex, BPFNET_DIR_FROM_CONTAINER, fwd.peer_ifindex, len);
}

SEC("tc")
int bpfnet_to_container(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	__u32 in = skb->ingress_ifindex;

	/*
	 * Docker drops `-d CONTAINER ! -i BRIDGE`: the host itself may reach a
	 * container (no ingress interface), and so may its own veth (our ARP
	 * replies), but nothing the kernel routes in from another interface.
	 * bpfnet's own deliveries (bpf_redirect_peer, XDP) never pass here.
	 */
	if (in && in != ifindex)
		return tc_verdict(skb, DROP_ERR(BPFNET_DROP_DIRECT_ACCESS), ifindex,
				  BPFNET_DIR_TO_CONTAINER, 0, skb->len);
	metrics_count(ifindex, BPFNET_OK, BPFNET_DIR_TO_CONTAINER, skb->len);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
