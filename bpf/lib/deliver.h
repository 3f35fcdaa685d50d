/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where a (translated) packet goes next: straight into a container's
 * namespace when its destination is an endpoint, else out of the host by
 * FIB lookup. tc only (XDP delivers in uplink.bpf.c).
 */
#ifndef BPFNET_LIB_DELIVER_H
#define BPFNET_LIB_DELIVER_H

#include "lib/fib.h"
#include "lib/maps.h"

struct fwd_result {
	__u32 peer_ifindex; /* host veth of the destination endpoint, 0 if none */
};

/* Rewrites the Ethernet header for delivery to @ep. */
static __always_inline int set_endpoint_macs(void *data, void *data_end,
					     const struct bpfnet_endpoint *ep)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	mac_copy(eth->h_dest, ep->mac);
	mac_copy(eth->h_source, ep->gw_mac);
	return 0;
}

static __always_inline int deliver_skb(struct __sk_buff *skb, __u32 in_ifindex, __be32 saddr,
				       __be32 daddr, struct fwd_result *fwd)
{
	const struct bpfnet_endpoint *ep = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);
	if (ep) {
		int err =
		    set_endpoint_macs((void *)(long)skb->data, (void *)(long)skb->data_end, ep);
		if (err)
			return err;
		fwd->peer_ifindex = ep->ifindex;
		return bpf_redirect_peer(ep->ifindex, 0);
	}
	struct bpf_fib_lookup fib;
	int rc = fib_lookup4(skb, in_ifindex, saddr, daddr, &fib);
	return fib_redirect_skb(skb, &fib, rc);
}

#endif
