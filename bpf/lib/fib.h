/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a (translated) packet out of the host: FIB lookup, MACs, redirect. */
#ifndef BPFNET_LIB_FIB_H
#define BPFNET_LIB_FIB_H

#include "lib/results.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Route lookup for the packet's current addresses, as the host would do it. */
static __always_inline int fib_lookup4(void *ctx, __u32 ifindex, __be32 saddr, __be32 daddr,
				       struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->ifindex = ifindex;
	fib->ipv4_src = saddr;
	fib->ipv4_dst = daddr;
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/*
 * tc: out of the interface the FIB chose, with its MACs; when the neighbour
 * is not resolved yet, let the kernel resolve it (bpf_redirect_neigh).
 */
static __always_inline int fib_redirect_skb(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
					    int rc)
{
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return bpf_redirect_neigh(fib->ifindex, 0, 0, 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return DROP_ERR(BPFNET_DROP_FIB);
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	mac_copy(eth->h_dest, fib->dmac);
	mac_copy(eth->h_source, fib->smac);
	return bpf_redirect(fib->ifindex, 0);
}

#endif
