/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ARP responder for container-facing veths. There is no bridge: every
 * address a container may talk to on its network (the gateway and its peers)
 * is answered with the host-side veth MAC, so all of its traffic reaches our
 * tc hook and is routed by BPF; peers on other hosts (overlay networks) with
 * their own MAC, which the host veth receives just the same.
 */
#ifndef BPFNET_LIB_ARP_H
#define BPFNET_LIB_ARP_H

#include "lib/maps.h"
#include "lib/overlay.h"
#include "lib/results.h"

/* From linux/if_arp.h, which drags in libc headers BPF cannot use. */
#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

struct arp_eth_ipv4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[ETH_ALEN_BYTES];
	__be32 sip;
	__u8 tha[ETH_ALEN_BYTES];
	__be32 tip;
} __attribute__((packed));

/*
 * The MAC to answer an ARP request for @tip with, NULL when the endpoint's
 * network has nobody there it may ARP for: the host veth's for the gateway,
 * local peers and service VIPs (BPF routes all of that), and a remote overlay
 * peer's own MAC (bpfnet_tunnels): answered here, never flooded across hosts.
 */
static __always_inline const __u8 *arp_answer_mac(const struct bpfnet_endpoint *src,
						  const struct bpfnet_network *net, __be32 tip)
{
	if (tip == src->ip) /* its own address: a DAD probe or an announcement */
		return NULL;
	if (tip == net->gateway)
		return src->gw_mac;
	const struct bpfnet_endpoint *peer = bpf_map_lookup_elem(&bpfnet_ep_ip, &tip);
	if (peer)
		return peer->network == src->network ? src->gw_mac : NULL;
	const __u32 *vip_net = bpf_map_lookup_elem(&bpfnet_vips, &tip);
	if (vip_net)
		return *vip_net == src->network ? src->gw_mac : NULL;
	const struct bpfnet_tunnel *remote = overlay_remote_peer(src, net, tip);
	return remote ? remote->mac : NULL;
}

/*
 * Returns TC_ACT_OK to hand an ARP reply from the container to the host
 * stack, TC_ACT_REDIRECT after turning a request into our reply, or a
 * drop (DROP_ERR).
 */
static __always_inline int arp_from_container(struct __sk_buff *skb, __u32 ifindex,
					      const struct bpfnet_endpoint *src)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct arp_eth_ipv4 *arp = (void *)(eth + 1);

	if ((void *)(arp + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	if (arp->hrd != bpf_htons(ARPHRD_ETHER) || arp->pro != bpf_htons(ETH_P_IP) ||
	    arp->hln != ETH_ALEN_BYTES || arp->pln != 4)
		return DROP_ERR(BPFNET_DROP_INVALID_ARP);
	/* Anti-spoofing: sender must be the endpoint (0.0.0.0 is a DAD probe). */
	if (!mac_equal(arp->sha, src->mac) || (arp->sip != src->ip && arp->sip != 0))
		return DROP_ERR(BPFNET_DROP_INVALID_ARP);

	if (arp->op == bpf_htons(ARPOP_REPLY))
		return TC_ACT_OK; /* answering the host's neighbour resolution */
	if (arp->op != bpf_htons(ARPOP_REQUEST))
		return DROP_ERR(BPFNET_DROP_INVALID_ARP);

	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &src->network);
	if (!net)
		return DROP_ERR(BPFNET_DROP_NO_NETWORK);
	__be32 tip = arp->tip;
	const __u8 *answer = arp_answer_mac(src, net, tip);
	if (!answer)
		return DROP_ERR(BPFNET_DROP_ARP_NO_TARGET);

	/* Turn the request into the reply in place. */
	__be32 sip = arp->sip;
	arp->op = bpf_htons(ARPOP_REPLY);
	mac_copy(arp->tha, arp->sha);
	arp->tip = sip;
	mac_copy(arp->sha, answer);
	arp->sip = tip;
	mac_copy(eth->h_dest, src->mac);
	mac_copy(eth->h_source, answer);
	/* Back out of the same veth, i.e. into the container. */
	return bpf_redirect(ifindex, 0);
}

#endif
