/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Sending a (translated) packet out of the host: FIB lookup, MACs, redirect. */
#ifndef BPFNET_LIB_FIB_H
#define BPFNET_LIB_FIB_H

#include "lib/pmtu.h"
#include "lib/results.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* Lookups fill this, not the stack: every caller inlines into programs whose
 * stack is nearly full (programs run to completion on their CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} bpfnet_fib_scratch SEC(".maps");

/* Route lookup for the packet's current addresses, as the host would do it,
 * into *@out (this CPU's scratch); -1 if there is none. */
static __always_inline int fib_lookup4(void *ctx, __u32 ifindex, __be32 saddr, __be32 daddr,
				       struct bpf_fib_lookup **out)
{
	__u32 zero = 0;
	struct bpf_fib_lookup *fib = bpf_map_lookup_elem(&bpfnet_fib_scratch, &zero);

	*out = fib;
	if (!fib)
		return -1;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->ifindex = ifindex;
	fib->ipv4_src = saddr;
	fib->ipv4_dst = daddr;
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/*
 * tc: out of the interface the FIB chose, with its MACs, as the routed hop
 * of @orig's packet (lib/pmtu.h: TTL, the next hop's MTU); when the
 * neighbour is not resolved yet, let the kernel resolve it
 * (bpf_redirect_neigh).
 */
static __always_inline int fib_redirect_skb(struct __sk_buff *skb, struct bpf_fib_lookup *fib,
					    int rc, const struct pkt4 *orig)
{
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH &&
	    rc != BPF_FIB_LKUP_RET_FRAG_NEEDED)
		return DROP_ERR(BPFNET_DROP_FIB);
	/* SUCCESS and FRAG_NEEDED checked the MTU (bpf_fib_lookup's skb check);
	 * NO_NEIGH returns before it. */
	int err = hop_skb(skb, orig, fib->ifindex, rc == BPF_FIB_LKUP_RET_NO_NEIGH ? -1 : rc,
			  fib->mtu_result);
	if (err)
		return err;
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return bpf_redirect_neigh(fib->ifindex, 0, 0, 0);
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
