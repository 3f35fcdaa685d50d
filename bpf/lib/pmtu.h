/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A routed hop: what the host does to a packet it forwards between an uplink
 * and a container, or out of the host (not between containers of one
 * network: that is bridging). As Linux's ip_forward, in this order: a packet
 * whose TTL runs out is answered with ICMP time exceeded; one too big for
 * the next hop with DF set, with ICMP fragmentation needed and that hop's
 * MTU (BPF cannot fragment, so without DF it is dropped); the rest go on
 * with their TTL decremented. Each refused packet is a drop with its reason.
 * XDP answers nothing: it hands such packets to tc (hop_xdp_needs_tc).
 */
#ifndef BPFNET_LIB_PMTU_H
#define BPFNET_LIB_PMTU_H

#include "lib/csum.h"
#include "lib/icmp_reply.h"

#ifndef IP_DF
#define IP_DF 0x4000
#endif

/* TTL - 1, the IP checksum updated for it (the TTL shares a word with the
 * protocol). @ip is bounds-checked by the caller. */
static __always_inline void ip_decrease_ttl(struct iphdr *ip)
{
	__be16 *word = (__be16 *)&ip->ttl;
	__be16 old = *word;

	ip->ttl--;
	csum_replace2(&ip->check, old, *word);
}

/* @skb's IP header, or NULL. */
static __always_inline struct iphdr *skb_iphdr(struct __sk_buff *skb)
{
	struct iphdr *ip = skb_data(skb) + ETH_HLEN;

	if ((void *)(ip + 1) > skb_data_end(skb))
		return 0;
	return ip;
}

/*
 * tc: the hop of @skb (a packet of @orig) to @out_ifindex, whose MTU
 * bpf_check_mtu() checks unless @fib_rc already did (BPF_FIB_LKUP_RET_*
 * with @fib_mtu, or -1; tunnel_mtu_rc() for the tunnel, lib/tunnel.h).
 * Returns 0 with the TTL decremented, or the packet's answer
 * (CONTINUE_ANSWERED) or drop. Both answers go through one
 * icmp_reply_skb(): inlined once per hop, not once per kind of answer.
 */
static __always_inline int hop_skb(struct __sk_buff *skb, const struct pkt4 *orig,
				   __u32 out_ifindex, int fib_rc, __u32 fib_mtu)
{
	struct iphdr *ip = skb_iphdr(skb);
	if (!ip)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	__u8 type = ICMP_TIME_EXCEEDED, code = ICMP_EXC_TTL, reason = BPFNET_DROP_TTL_EXCEEDED;
	__u32 mtu = 0;

	if (ip->ttl > 1) {
		if (fib_rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			mtu = fib_mtu;
		/* Errors (no such device: a test's fake ifindex) check nothing. */
		else if (fib_rc >= 0 || bpf_check_mtu(skb, out_ifindex, &mtu, 0, 0) !=
					    BPF_MTU_CHK_RET_FRAG_NEEDED) {
			ip = skb_iphdr(skb);
			if (!ip)
				return DROP_ERR(BPFNET_DROP_MALFORMED);
			ip_decrease_ttl(ip);
			return 0;
		}
		/* Too big: BPF cannot fragment, so without DF it is a drop. */
		ip = skb_iphdr(skb);
		if (!ip || !(ip->frag_off & bpf_htons(IP_DF)))
			return DROP_ERR(BPFNET_DROP_FRAG_NEEDED);
		type = ICMP_DEST_UNREACH;
		code = ICMP_FRAG_NEEDED;
		reason = BPFNET_DROP_FRAG_NEEDED;
	}
	return icmp_reply_skb(skb, orig, type, code, mtu, reason);
}

/* XDP: whether the hop to @out_ifindex needs an answer (TTL out, too big),
 * which only tc gives: the packet is passed up untouched. */
static __always_inline int hop_xdp_needs_tc(struct xdp_md *ctx, __u32 out_ifindex)
{
	struct iphdr *ip = (void *)(long)ctx->data + ETH_HLEN;
	__u32 mtu = 0;

	if ((void *)(ip + 1) > (void *)(long)ctx->data_end)
		return 1;
	if (ip->ttl <= 1)
		return 1;
	return bpf_check_mtu(ctx, out_ifindex, &mtu, 0, 0) == BPF_MTU_CHK_RET_FRAG_NEEDED;
}

/* XDP: the TTL decrement of a hop hop_xdp_needs_tc() let through. */
static __always_inline int hop_xdp(void *data, void *data_end)
{
	struct iphdr *ip = data + ETH_HLEN;

	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	ip_decrease_ttl(ip);
	return 0;
}

#endif
