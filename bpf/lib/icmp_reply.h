/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Answering a packet with an ICMP error, as a router does (tc only): the
 * packet is turned into the error in place (trimmed to the quote, new headers
 * in front) and sent back out of the interface it arrived on, to its source.
 * The quote is the packet as its sender sent it (RFC 792's IP header and
 * first 8 bytes of data): the addresses and ports it had before translation,
 * so the sender's stack matches the error to its socket.
 */
#ifndef BPFNET_LIB_ICMP_REPLY_H
#define BPFNET_LIB_ICMP_REPLY_H

#include "lib/csum.h"
#include "lib/events.h"
#include "lib/l4.h"
#include "lib/maps.h"
#include "lib/metrics.h"
#include "lib/results.h"

#define ICMP_FRAG_NEEDED 4 /* ICMP_DEST_UNREACH code */
#define ICMP_EXC_TTL 0	   /* ICMP_TIME_EXCEEDED code */
#define ICMP_REPLY_QUOTE 28
#define ICMP_REPLY_TTL 64

/* The error after the Ethernet header: 56 bytes, 4-byte aligned fields. */
struct icmp_reply_l3 {
	struct iphdr ip;
	struct icmphdr icmp;
	__u8 quote[ICMP_REPLY_QUOTE];
};

/* The error is built here, not on the stack: its callers' stacks are full. */
struct icmp_reply_buf {
	struct ethhdr eth;
	__u8 mac[ETH_ALEN_BYTES]; /* for the swap */
	struct icmp_reply_l3 l3;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_reply_buf);
} bpfnet_icmp_reply_buf SEC(".maps");

/* The one's complement checksum of @size bytes at @p (a multiple of 4). */
static __always_inline __sum16 csum_of(void *p, __u32 size)
{
	__s64 sum = bpf_csum_diff(0, 0, p, size, 0);
	return (__sum16)~csum_fold32((__u32)sum);
}

/* Who reports: the gateway of the container the packet came from, else the
 * address the packet was for (the host's, to a client on an uplink). */
static __always_inline __be32 icmp_reply_source(__u32 ifindex, const struct pkt4 *orig)
{
	const struct bpfnet_endpoint *ep = bpf_map_lookup_elem(&bpfnet_ep_if, &ifindex);
	if (ep) {
		__u32 index = ep->network;
		const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &index);
		if (net)
			return net->gateway;
	}
	return orig->key.daddr;
}

/* The quote as @orig's sender sent it: addresses and ports (or the echo
 * identifier) back from their translation, with the checksums over them. */
static __always_inline void icmp_reply_restore_quote(struct icmp_reply_l3 *r,
						     const struct pkt4 *orig)
{
	struct iphdr *q = (void *)r->quote;
	__be16 *l4 = (void *)(r->quote + sizeof(struct iphdr));
	__u32 diff = csum_add32(csum_diff32(q->saddr, orig->key.saddr),
				csum_diff32(q->daddr, orig->key.daddr));

	q->saddr = orig->key.saddr;
	q->daddr = orig->key.daddr;
	q->check = 0;
	q->check = csum_of(q, sizeof(*q));
	if (q->protocol == IPPROTO_TCP || q->protocol == IPPROTO_UDP) {
		diff = csum_add32(diff, csum_add32(csum_diff32(l4[0], orig->key.sport),
						   csum_diff32(l4[1], orig->key.dport)));
		l4[0] = orig->key.sport;
		l4[1] = orig->key.dport;
		/* UDP's checksum is quoted (TCP's is past the 8 bytes). */
		if (q->protocol == IPPROTO_UDP && l4[3]) {
			csum_apply((__sum16 *)&l4[3], diff);
			if (!l4[3])
				l4[3] = 0xffff;
		}
	} else if (q->protocol == IPPROTO_ICMP &&
		   (orig->icmp_type == ICMP_ECHO || orig->icmp_type == ICMP_ECHOREPLY)) {
		__be16 want = orig->icmp_type == ICMP_ECHO ? orig->key.sport : orig->key.dport;
		csum_replace2((__sum16 *)&l4[1], l4[2], want);
		l4[2] = want;
	}
}

/*
 * The monitor's drop event (@meta) for @skb, answered with the error @r: the
 * packet as it came, but its IP header and first 8 bytes of L4 as its sender
 * sent them (@r's restored quote), so a packet translated before the hop
 * said no is still told with its own addresses and ports. A global
 * function: verified once, not on every path that answers.
 */
BPF_SUBPROG int icmp_reply_event(struct __sk_buff *skb, __u32 ifindex, __u32 meta,
				 const struct icmp_reply_l3 *r BPF_ARG_NONNULL)
{
	__u32 len = skb->len;
	__u64 cap = event_cap_len(len);
	struct bpfnet_event *e = event_reserve(meta, ifindex, 0, len);

	if (!e)
		return 0;
	if (cap && !bpf_skb_load_bytes(skb, 0, e->data, cap)) {
		e->cap_len = cap;
		if (cap >= ETH_HLEN + ICMP_REPLY_QUOTE)
			__builtin_memcpy(e->data + ETH_HLEN, r->quote, ICMP_REPLY_QUOTE);
	}
	bpf_ringbuf_submit(e, 0);
	return 1;
}

/*
 * Turns @skb (a packet of @orig, maybe translated already) into the ICMP
 * error @type/@code (@mtu: the next hop's, for "fragmentation needed") and
 * sends it back where it came from. The packet itself is a drop for @reason,
 * counted here: CONTINUE_ANSWERED, or the drop alone when it cannot be
 * quoted (IP options, too short).
 */
static __always_inline int icmp_reply_skb(struct __sk_buff *skb, const struct pkt4 *orig, __u8 type,
					  __u8 code, __u32 mtu, __u8 reason)
{
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	__u32 zero = 0;

	/* As Linux: never an error about an error, or about a later fragment. */
	if (orig->icmp_error || orig->frag == PKT_FRAG_LATER)
		return DROP_ERR(reason);
	struct icmp_reply_buf *buf = bpf_map_lookup_elem(&bpfnet_icmp_reply_buf, &zero);
	if (!buf)
		return DROP_ERR(reason);
	struct ethhdr *eth = &buf->eth;
	struct icmp_reply_l3 *r = &buf->l3;
	__builtin_memset(r, 0, sizeof(*r));
	if (bpf_skb_load_bytes(skb, 0, eth, sizeof(*eth)) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, r->quote, sizeof(r->quote)))
		return DROP_ERR(reason);
	if (((struct iphdr *)r->quote)->ihl != 5)
		return DROP_ERR(reason);
	icmp_reply_restore_quote(r, orig);

	mac_copy(buf->mac, eth->h_dest);
	mac_copy(eth->h_dest, eth->h_source);
	mac_copy(eth->h_source, buf->mac);
	r->ip.version = 4;
	r->ip.ihl = 5;
	r->ip.tot_len = bpf_htons(sizeof(*r));
	r->ip.ttl = ICMP_REPLY_TTL;
	r->ip.protocol = IPPROTO_ICMP;
	r->ip.saddr = icmp_reply_source(ifindex, orig);
	r->ip.daddr = orig->key.saddr;
	r->ip.check = csum_of(&r->ip, sizeof(r->ip));
	r->icmp.type = type;
	r->icmp.code = code;
	r->icmp.un.echo.sequence = bpf_htons((__u16)mtu); /* RFC 1191's next-hop MTU */
	r->icmp.checksum = csum_of(&r->icmp, sizeof(r->icmp) + sizeof(r->quote));

	/* The drop's event, before the packet becomes the error (the verdict
	 * site sees only CONTINUE_ANSWERED). */
	if (monitor_wants(1))
		icmp_reply_event(skb, ifindex,
				 EVENT_META(BPFNET_EVENT_DROP, reason, BPFNET_DIR_FROM_CONTAINER,
					    BPFNET_HOOK_TC),
				 r);
	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(*r), 0) ||
	    bpf_skb_store_bytes(skb, 0, eth, sizeof(*eth), 0) ||
	    bpf_skb_store_bytes(skb, ETH_HLEN, r, sizeof(*r), BPF_F_RECOMPUTE_CSUM))
		return DROP_ERR(reason);
	metrics_count(ifindex, reason, BPFNET_DIR_FROM_CONTAINER /* = from uplink */, len);
	bpf_redirect(ifindex, 0);
	return CONTINUE_ANSWERED;
}

#endif
