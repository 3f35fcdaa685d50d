/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * VXLAN (RFC 7348) over IPv4 in BPF, without the VXLAN device on the fast
 * path, for packets one at a time (UDP, ICMP, anything but TCP):
 *   - out: bpf_skb_adjust_room() opens 50 bytes after the frame's Ethernet
 *     header (outer IPv4, UDP, VXLAN, then the inner Ethernet header, a copy
 *     of the frame's), and bpf_redirect_neigh() sends it out of the
 *     underlay interface with the next hop's MAC. That skips the device's
 *     transmit: its route lookup, its socket and a second pass through the
 *     stack.
 *   - in: at tc ingress of the underlay interface (overlay.bpf.c), such a
 *     VXLAN packet to this host's underlay address has its outer headers
 *     taken off and is delivered as the device's program would deliver it,
 *     skipping the stack's UDP receive and the device's GRO cells.
 * TCP stays on the VXLAN device both ways, as do GSO packets: the device
 * segments after encapsulation and its socket's GRO merges before
 * decapsulation, and on the way in the kernel also clears the tunnel's
 * offload state (skb->encapsulation, SKB_GSO_UDP_TUNNEL), which BPF cannot
 * (no adjust_room flag for it in this kernel): a decapsulated GSO packet
 * forwarded out of an uplink would be segmented as a tunnel packet. One flow
 * keeps one path, so its segments are never reordered between the two.
 * The device also takes what this path cannot: no underlay interface known,
 * a packet too big for the underlay (no DF: the device fragments the outer
 * packet), an outer fragment or IP options, a non-zero outer UDP checksum
 * (the kernel checks it), VXLAN flags other than I.
 */
#ifndef BPFNET_LIB_VXLAN_H
#define BPFNET_LIB_VXLAN_H

#include "lib/csum.h"
#include "lib/frag.h"
#include "lib/l4.h"
#include "lib/maps.h"
#include "lib/results.h"

#ifndef AF_INET
#define AF_INET 2
#endif

#define BPFNET_VXLAN_PORT 4789
#define BPFNET_VXLAN_FLAG_VNI 0x08000000 /* the I flag: the VNI is valid */
/* Outer UDP source ports: the dynamic range RFC 7348 recommends, spread by
 * the inner flow's hash so the underlay's ECMP and RSS spread flows. */
#define BPFNET_VXLAN_SPORT_MIN 49152
#define BPFNET_VXLAN_SPORT_RANGE 16384
/* Outer TTL: the underlay is routed like any host traffic. */
#define BPFNET_TUNNEL_TTL 64

struct vxlanhdr_raw {
	__be32 flags;
	__be32 vni; /* VNI << 8 */
};

/* What goes between the outer Ethernet header and the inner IPv4 header. */
struct vxlan_encap {
	struct iphdr ip;
	struct udphdr udp;
	struct vxlanhdr_raw vx;
	struct ethhdr inner_eth;
} __attribute__((packed));

#define BPFNET_VXLAN_ENCAP_LEN ((int)sizeof(struct vxlan_encap))
_Static_assert(sizeof(struct vxlan_encap) == 50, "outer IPv4 + UDP + VXLAN + inner Ethernet");
_Static_assert(sizeof(struct bpf_redir_neigh) <= sizeof(struct vxlan_encap), "fits in its place");

/* tunnel_encap() left the packet to the VXLAN device (the caller sets the
 * tunnel key): not a verdict, not a drop. */
#define TUNNEL_VIA_DEVICE 0

/* RFC 6040 normal mode, as the kernel's tunnels: the outer ECN field copies
 * the inner one, CE becoming ECT(0) (the inner CE reaches the receiver). */
static __always_inline __u8 vxlan_outer_tos(__u8 inner_tos)
{
	__u8 ecn = inner_tos & 3;

	return ecn == 3 ? 2 : ecn;
}

/* The inner flow's hash, for the outer source port: addresses, protocol and
 * (when the packet has them: not a later fragment) the ports. Computed
 * here from what is parsed already: bpf_get_hash_recalc() would run the
 * flow dissector on every packet, as the VXLAN device does. */
static __always_inline __u32 vxlan_flow_hash(const struct iphdr *ip, void *data_end)
{
	__u32 h = ip->saddr * 0x9e3779b1u ^ ip->daddr;

	h = (h ^ ip->protocol) * 0x85ebca6bu;
	const __be32 *ports = (const void *)(ip + 1);
	if (ip->ihl == 5 && !(ip->frag_off & bpf_htons(IP_OFFSET_MASK)) &&
	    (void *)(ports + 1) <= data_end &&
	    (ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_SCTP ||
	     ip->protocol == IPPROTO_UDPLITE))
		h ^= *ports;
	/* murmur3's finaliser: every input bit reaches the top bits, which
	 * pick the port. */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static __always_inline __sum16 ipv4_header_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	return (__sum16)~csum_fold32(sum);
}

/*
 * Encapsulates @skb for @vni to the host at underlay address @host and sends
 * it out of the underlay: TC_ACT_REDIRECT. TUNNEL_VIA_DEVICE when the VXLAN
 * device has to carry it (see above), the packet untouched; a drop when the
 * packet was changed and could not be finished.
 */
BPF_SUBPROG int tunnel_encap(struct __sk_buff *skb, __be32 host, __u32 vni)
{
	__u32 zero = 0;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	if (!cfg || !cfg->underlay_ifindex || !cfg->underlay)
		return TUNNEL_VIA_DEVICE;
	__u32 ul_ifindex = cfg->underlay_ifindex;
	__be32 ul_addr = cfg->underlay;
	__be32 ul_mask = cfg->underlay_mask;

	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *inner = (void *)(eth + 1);
	if ((void *)(inner + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TUNNEL_VIA_DEVICE;
	if (inner->protocol == IPPROTO_TCP || skb->gso_size)
		return TUNNEL_VIA_DEVICE;
	/* The packet must fit the underlay once wrapped; a bigger one is only
	 * sent here without DF, and the device fragments the outer packet. */
	__u32 mtu_len = 0;
	if (bpf_check_mtu(skb, ul_ifindex, &mtu_len, BPFNET_VXLAN_ENCAP_LEN, 0) !=
	    BPF_MTU_CHK_RET_SUCCESS)
		return TUNNEL_VIA_DEVICE;
	__u32 hash = vxlan_flow_hash(inner, data_end);
	__u16 outer_len = (__u16)(skb->len - sizeof(*eth) + BPFNET_VXLAN_ENCAP_LEN);

	struct vxlan_encap h = {};
	/* Through void *: h is packed (50 bytes), its IPv4 header at offset 0
	 * of an 8-byte aligned stack slot. */
	struct iphdr *ip = (void *)&h.ip;
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = vxlan_outer_tos(inner->tos);
	ip->tot_len = bpf_htons(outer_len);
	/* No DF, as the VXLAN device sends by default: ids must differ. */
	ip->id = (__be16)bpf_get_prandom_u32();
	ip->ttl = BPFNET_TUNNEL_TTL;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = ul_addr;
	ip->daddr = host;
	ip->check = ipv4_header_csum(ip);
	__builtin_memcpy((void *)&h.inner_eth, eth, sizeof(*eth));

	h.udp.source = bpf_htons(BPFNET_VXLAN_SPORT_MIN +
				 (__u16)(((__u64)hash * BPFNET_VXLAN_SPORT_RANGE) >> 32));
	h.udp.dest = bpf_htons(BPFNET_VXLAN_PORT);
	h.udp.len = bpf_htons(outer_len - sizeof(struct iphdr));
	/* Zero outer UDP checksum (RFC 7348 allows it over IPv4; the VXLAN
	 * path sets BPF_F_ZERO_CSUM_TX): the inner packet carries its own. */
	h.udp.check = 0;
	h.vx.flags = bpf_htonl(BPFNET_VXLAN_FLAG_VNI);
	h.vx.vni = bpf_htonl(vni << 8);

	/* No ENCAP flags: they are for GSO, which stays on the device, and
	 * would mark the skb encapsulated for the receiving host's kernel (a
	 * veth underlay keeps the mark), which BPF there cannot clear. An
	 * inner CHECKSUM_PARTIAL stays as it is: csum_start is an offset from
	 * the buffer's head, which the inner packet keeps. */
	if (bpf_skb_adjust_room(skb, BPFNET_VXLAN_ENCAP_LEN, BPF_ADJ_ROOM_MAC, 0) < 0)
		return TUNNEL_VIA_DEVICE;
	if (bpf_skb_store_bytes(skb, sizeof(struct ethhdr), &h, sizeof(h), 0) < 0)
		return DROP_ERR(BPFNET_DROP_NO_VXLAN);

	/* A host in the underlay's subnet is the next hop itself (no route
	 * lookup per packet); beyond it, the kernel's FIB picks one. The
	 * outer MACs come from the neighbour table either way. */
	if (ul_mask && !((host ^ ul_addr) & ul_mask)) {
		/* In h's place, written out already: the stack this global
		 * function adds to its callers' stays small. */
		struct bpf_redir_neigh *nh = (void *)&h;
		__builtin_memset(nh, 0, sizeof(*nh));
		nh->nh_family = AF_INET;
		nh->ipv4_nh = host;
		return bpf_redirect_neigh(ul_ifindex, nh, sizeof(*nh), 0);
	}
	return bpf_redirect_neigh(ul_ifindex, NULL, 0, 0);
}

/*
 * A VXLAN packet to this host's underlay address at @skb (tc ingress of the
 * underlay): its outer headers taken off, @key filled as the VXLAN device
 * would have left it (outer source, VNI): CONTINUE_NO_NAT. CONTINUE_PASS
 * when it is not one this path takes (the stack and the device get it
 * unchanged); a drop for what no host sends.
 */
static __always_inline int vxlan_decap(struct __sk_buff *skb, struct bpf_tunnel_key *key)
{
	skb_pull_headers(skb,
			 sizeof(struct ethhdr) + BPFNET_VXLAN_ENCAP_LEN + sizeof(struct iphdr));
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct vxlan_encap *h = (void *)(eth + 1);
	if ((void *)(h + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return CONTINUE_PASS;
	if (h->ip.version != 4 || h->ip.ihl != 5 || h->ip.protocol != IPPROTO_UDP ||
	    h->udp.dest != bpf_htons(BPFNET_VXLAN_PORT))
		return CONTINUE_PASS;
	/* Fragments are reassembled by the stack first; a checksum is checked
	 * by it; flags other than I are the device's to judge. */
	if ((h->ip.frag_off & bpf_htons(IP_MF | IP_OFFSET_MASK)) || h->udp.check ||
	    h->vx.flags != bpf_htonl(BPFNET_VXLAN_FLAG_VNI))
		return CONTINUE_PASS;
	__u32 zero = 0;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	if (!cfg || !cfg->underlay || h->ip.daddr != cfg->underlay)
		return CONTINUE_PASS;

	/* Hosts answer ARP for remote endpoints themselves: only IPv4 crosses
	 * (decapsulated, the outer Ethernet header would call anything IPv4). */
	if (h->inner_eth.h_proto != bpf_htons(ETH_P_IP))
		return DROP_ERR(BPFNET_DROP_UNSUPPORTED_L3);
	struct iphdr *inner = (void *)(h + 1);
	if ((void *)(inner + 1) > data_end || inner->protocol == IPPROTO_TCP || skb->gso_size)
		return CONTINUE_PASS;
	key->remote_ipv4 = bpf_ntohl(h->ip.saddr);
	key->tunnel_id = bpf_ntohl(h->vx.vni) >> 8;
	struct ethhdr inner_eth;
	__builtin_memcpy(&inner_eth, (void *)&h->inner_eth, sizeof(inner_eth));
	if (bpf_skb_adjust_room(skb, -BPFNET_VXLAN_ENCAP_LEN, BPF_ADJ_ROOM_MAC, 0) < 0)
		return CONTINUE_PASS;
	/* The inner frame's own Ethernet header in front, as the VXLAN device
	 * leaves it: what follows (an ICMP error's reversed MACs) sees the
	 * same frame either way. */
	if (bpf_skb_store_bytes(skb, 0, &inner_eth, sizeof(inner_eth), 0) < 0)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	return CONTINUE_NO_NAT;
}

#endif
