/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where a (translated) packet goes next: straight into a container's
 * namespace when its destination is an endpoint, to its host through the
 * tunnel when it is an overlay endpoint on another host, else out of the
 * host by FIB lookup. Which one is a struct bpfnet_ct_dest: looked up in
 * bpfnet_ep_ip, or read from the conntrack entry of the packet's flow, which
 * caches it (one map lookup per packet of an established flow, not two).
 */
#ifndef BPFNET_LIB_DELIVER_H
#define BPFNET_LIB_DELIVER_H

#include "lib/fib.h"
#include "lib/maps.h"
#include "lib/tunnel.h"

struct fwd_result {
	__u32 peer_ifindex; /* host veth of the destination endpoint, 0 if none */
};

/* bpfnet_ep_gen[0] as a bpfnet_ct_dest.gen; 0 (never valid) if unreadable. */
static __always_inline __u32 ep_generation(void)
{
	__u32 zero = 0;
	const __u32 *gen = bpf_map_lookup_elem(&bpfnet_ep_gen, &zero);
	return gen ? *gen + 1 : 0;
}

/* Where packets to @daddr go, from bpfnet_ep_ip, marked with @gen. */
static __always_inline void dest_lookup(__be32 daddr, __u32 gen, struct bpfnet_ct_dest *d)
{
	const struct bpfnet_endpoint *ep = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);

	d->gen = gen;
	d->ifindex = ep ? ep->ifindex : 0;
	if (ep) {
		mac_copy(d->mac, ep->mac);
		mac_copy(d->gw_mac, ep->gw_mac);
	}
}

/*
 * The same for a flow's packets, through its conntrack entry's cache
 * @cache: read while bpfnet_ep_ip has not changed since it was filled, else
 * looked up and written back (once per flow and change of endpoints).
 */
static __always_inline void dest_of(__be32 daddr, struct bpfnet_ct_dest *cache,
				    struct bpfnet_ct_dest *d)
{
	__u32 gen = ep_generation();

	if (gen && cache->gen == gen) {
		*d = *cache;
		return;
	}
	dest_lookup(daddr, gen, d);
	if (gen)
		*cache = *d;
}

/* Rewrites the Ethernet header for delivery to the endpoint of @d. */
static __always_inline int set_endpoint_macs(void *data, void *data_end,
					     const struct bpfnet_ct_dest *d)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	mac_copy(eth->h_dest, d->mac);
	mac_copy(eth->h_source, d->gw_mac);
	return 0;
}

/* Delivers @skb (a packet of @orig, translated to @saddr -> @daddr): a
 * routed hop (lib/pmtu.h) to the endpoint of @d, into the tunnel to its host,
 * or out by FIB. */
static __always_inline int deliver_skb(struct __sk_buff *skb, __u32 in_ifindex, __be32 saddr,
				       __be32 daddr, const struct bpfnet_ct_dest *d,
				       const struct pkt4 *orig, struct fwd_result *fwd)
{
	if (d->ifindex) {
		int err = hop_skb(skb, orig, d->ifindex, -1, 0);
		if (err)
			return err;
		err = set_endpoint_macs((void *)(long)skb->data, (void *)(long)skb->data_end, d);
		if (err)
			return err;
		fwd->peer_ifindex = d->ifindex;
		return bpf_redirect_peer(d->ifindex, 0);
	}
	/* A translated flow's destination on another host (a service backend
	 * there): a routed hop through the tunnel. The caller's source is one
	 * that host accepts (a local endpoint's, or this host's lb address). */
	const struct bpfnet_tunnel *remote = bpf_map_lookup_elem(&bpfnet_tunnels, &daddr);
	if (remote)
		return tunnel_hop_redirect(skb, orig, remote);
	struct bpf_fib_lookup *fib;
	int rc = fib_lookup4(skb, in_ifindex, saddr, daddr, &fib);
	if (!fib)
		return DROP_ERR(BPFNET_DROP_FIB);
	return fib_redirect_skb(skb, fib, rc, orig);
}

/* deliver_skb() to wherever @daddr is now (no flow to read it from). */
static __always_inline int deliver_skb_to(struct __sk_buff *skb, __u32 in_ifindex, __be32 saddr,
					  __be32 daddr, const struct pkt4 *orig,
					  struct fwd_result *fwd)
{
	struct bpfnet_ct_dest d = {};

	dest_lookup(daddr, 0, &d);
	return deliver_skb(skb, in_ifindex, saddr, daddr, &d, orig, fwd);
}

#endif
