/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Which ICMP errors may be translated along the flow they quote. An error is
 * about a packet its sender received, and goes back to that packet's source;
 * the flow it quotes must be one whose packets reach the sender's side. Any
 * other error (addressed elsewhere, or quoting a flow between other
 * endpoints) is not translated: it meets the policy any packet meets
 * (isolation, ICC, internal, no direct access to containers), so a flow of
 * one's own is no pass to the rest of the host.
 */
#ifndef BPFNET_LIB_ICMP_ERROR_H
#define BPFNET_LIB_ICMP_ERROR_H

#include "lib/l4.h"
#include "lib/maps.h"

/* Where the sender of an ICMP error is. */
enum icmp_error_sender {
	ICMP_ERROR_FROM_CONTAINER, /* p's source: the (anti-spoofed) container */
	ICMP_ERROR_FROM_UPLINK,	   /* the outside: the host or a router on the way */
};

/* Whether the ICMP error @p (in [data, data_end)) may be translated. */
static __always_inline int icmp_error_quotes_own_flow(void *data, void *data_end,
						      const struct pkt4 *p,
						      enum icmp_error_sender sender)
{
	__u32 quoted_off = p->l4_off + sizeof(struct icmphdr);
	if (quoted_off > ETH_HLEN + 60 + sizeof(struct icmphdr))
		return 0;
	const struct iphdr *quoted = data + quoted_off;
	if ((void *)(quoted + 1) > data_end)
		return 0;
	/* Back to the source of the packet it is about. */
	if (p->key.daddr != quoted->saddr)
		return 0;
	if (sender == ICMP_ERROR_FROM_CONTAINER)
		return quoted->daddr == p->key.saddr; /* a packet it received itself */
	/* A packet that left through the uplink: to none of our containers. */
	__be32 quoted_daddr = quoted->daddr;
	return !bpf_map_lookup_elem(&bpfnet_ep_ip, &quoted_daddr);
}

#endif
