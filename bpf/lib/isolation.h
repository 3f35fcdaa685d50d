/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Docker's isolation rules for what a container sends: which destinations
 * its network lets it reach (enable_icc, --internal, other networks).
 */
#ifndef BPFNET_LIB_ISOLATION_H
#define BPFNET_LIB_ISOLATION_H

#include "lib/maps.h"
#include "lib/results.h"

static __always_inline int in_subnet(const struct bpfnet_network *net, __be32 addr)
{
	return (addr & net->mask) == net->subnet;
}

/* To another container @dst: 0 if allowed, else a drop. */
static __always_inline int policy_to_endpoint(const struct bpfnet_endpoint *src,
					      const struct bpfnet_network *net,
					      const struct bpfnet_endpoint *dst)
{
	if (dst->network != src->network)
		return DROP_ERR(BPFNET_DROP_ISOLATION);
	if (!(net->flags & BPFNET_NET_F_ICC))
		return DROP_ERR(BPFNET_DROP_ICC);
	return 0;
}

/*
 * To @daddr, which is no endpoint's: TC_ACT_OK (a host address: the host
 * stack), CONTINUE_BEYOND_NETWORKS, or a drop.
 */
static __always_inline int policy_to_non_endpoint(const struct bpfnet_endpoint *src,
						  const struct bpfnet_network *net, __be32 daddr)
{
	int internal = net->flags & BPFNET_NET_F_INTERNAL;

	if (daddr == net->gateway)
		return TC_ACT_OK;
	if (in_subnet(net, daddr))
		return DROP_ERR(BPFNET_DROP_NO_ENDPOINT);

	struct bpfnet_subnet_key key = {.prefixlen = 32, .addr = daddr};
	const __u32 *other = bpf_map_lookup_elem(&bpfnet_subnets, &key);
	if (other && *other != src->network) {
		const struct bpfnet_network *onet = bpf_map_lookup_elem(&bpfnet_nets, other);
		/* Another network's gateway is a host address; the rest of it is not ours. */
		if (onet && daddr == onet->gateway && !internal)
			return TC_ACT_OK;
		return DROP_ERR(BPFNET_DROP_ISOLATION);
	}
	/* Beyond every bpfnet network: the host, or the world through it. */
	return internal ? DROP_ERR(BPFNET_DROP_INTERNAL) : CONTINUE_BEYOND_NETWORKS;
}

#endif
