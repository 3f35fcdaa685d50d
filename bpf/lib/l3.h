/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 from a container: anti-spoofing, Docker's isolation rules, and L3
 * forwarding straight into the destination container's namespace.
 */
#ifndef BPFNET_LIB_L3_H
#define BPFNET_LIB_L3_H

#include "lib/maps.h"

struct fwd_result {
	__u32 peer_ifindex; /* host veth of the destination endpoint, 0 if none */
};

static __always_inline int in_subnet(const struct bpfnet_network *net, __be32 addr)
{
	return (addr & net->mask) == net->subnet;
}

/*
 * Where a packet to @daddr that is not for a local endpoint may go:
 * TC_ACT_OK (host stack) or a negative drop reason.
 */
static __always_inline int ipv4_policy_non_endpoint(const struct bpfnet_endpoint *src,
						    const struct bpfnet_network *net,
						    __be32 daddr)
{
	int internal = net->flags & BPFNET_NET_F_INTERNAL;

	if (daddr == net->gateway)
		return TC_ACT_OK;
	if (in_subnet(net, daddr))
		return -BPFNET_DROP_NO_ENDPOINT;

	struct bpfnet_subnet_key key = {.prefixlen = 32, .addr = daddr};
	const __u32 *other = bpf_map_lookup_elem(&bpfnet_subnets, &key);
	if (other && *other != src->network) {
		const struct bpfnet_network *onet = bpf_map_lookup_elem(&bpfnet_nets, other);
		/* Another network's gateway is a host address; the rest of it is not ours. */
		if (onet && daddr == onet->gateway && !internal)
			return TC_ACT_OK;
		return -BPFNET_DROP_ISOLATION;
	}
	/* Beyond every bpfnet network: the host, or the world through it. */
	return internal ? -BPFNET_DROP_INTERNAL : TC_ACT_OK;
}

static __always_inline int ipv4_from_container(struct __sk_buff *skb,
					       const struct bpfnet_endpoint *src,
					       struct fwd_result *fwd)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end)
		return -BPFNET_DROP_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return -BPFNET_DROP_MALFORMED;
	if (ip->saddr != src->ip)
		return -BPFNET_DROP_INVALID_SIP;

	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &src->network);
	if (!net)
		return -BPFNET_DROP_NO_NETWORK;

	__be32 daddr = ip->daddr;
	const struct bpfnet_endpoint *dst = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);
	if (!dst)
		return ipv4_policy_non_endpoint(src, net, daddr);
	if (dst->network != src->network)
		return -BPFNET_DROP_ISOLATION;
	if (!(net->flags & BPFNET_NET_F_ICC))
		return -BPFNET_DROP_ICC;

	/*
	 * Same network: deliver as a bridge would (TTL untouched, so peers stay
	 * one hop apart), with the MACs the destination expects: its own, and
	 * its gateway's as the sender it resolved by ARP.
	 */
	mac_copy(eth->h_dest, dst->mac);
	mac_copy(eth->h_source, dst->gw_mac);
	fwd->peer_ifindex = dst->ifindex;
	return bpf_redirect_peer(dst->ifindex, 0);
}

#endif
