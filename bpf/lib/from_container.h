/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * IPv4 from a container: anti-spoofing, Docker's isolation rules, and L3
 * forwarding straight into the destination container's namespace.
 */
#ifndef BPFNET_LIB_L3_H
#define BPFNET_LIB_L3_H

#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/lb.h"
#include "lib/maps.h"
#include "lib/nat.h"
#include "lib/portmap.h"

static __always_inline int in_subnet(const struct bpfnet_network *net, __be32 addr)
{
	return (addr & net->mask) == net->subnet;
}

/* Not a tc verdict: "leaves every bpfnet network" (masquerade candidate). */
#define L3_BEYOND 1000

/*
 * Where a packet to @daddr that is not for a local endpoint may go:
 * TC_ACT_OK (host stack), L3_BEYOND, or a negative drop reason.
 */
static __always_inline int ipv4_policy_non_endpoint(const struct bpfnet_endpoint *src,
						    const struct bpfnet_network *net, __be32 daddr)
{
	int internal = net->flags & BPFNET_NET_F_INTERNAL;

	if (daddr == net->gateway)
		return TC_ACT_OK;
	if (in_subnet(net, daddr))
		return -BPFNET_DROP_NO_ENDPOINT;

	struct bpfnet_subnet_key key = {.prefixlen = 32, .addr = daddr};
	const __u32 *other = bpf_map_lookup_elem(&bpfnet_subnets, &key);
	if (other && *other != src->network) {
		const struct bpfnet_network *onet = bpf_map_lookup_elem(&bpfnet_nets, other);
		/* Another network's gateway is a host address; the rest of it is not ours. */
		if (onet && daddr == onet->gateway && !internal)
			return TC_ACT_OK;
		return -BPFNET_DROP_ISOLATION;
	}
	/* Beyond every bpfnet network: the host, or the world through it. */
	return internal ? -BPFNET_DROP_INTERNAL : L3_BEYOND;
}

/* Not a tc verdict: no translation applies, go on with plain forwarding. */
#define NAT_NONE 2000

static __always_inline void ct_delete_flow(struct bpfnet_ct_value *ct,
					   const struct bpfnet_ct_key *k)
{
	bpf_map_delete_elem(&bpfnet_ct, &ct->peer);
	bpf_map_delete_elem(&bpfnet_ct, k);
}

/*
 * A new flow from a container to @daddr:@dport, which stands for another
 * address: a published port reached through a host address (Docker's
 * hairpin) or a service VIP. The service (if any) picks the backend. The
 * client keeps its address, except when it reaches itself: a packet from its
 * own address would be a martian to it, so that one is sourced from its
 * gateway.
 */
static __always_inline int dnat_from_container(struct __sk_buff *skb, __u32 ifindex,
					       const struct bpfnet_endpoint *src,
					       const struct bpfnet_network *net,
					       const struct pkt4 *p, __be32 daddr, __be16 dport,
					       struct fwd_result *fwd)
{
	struct bpfnet_ct_key xlat = p->key;
	__u8 flags = BPFNET_CT_F_DNAT;
	int err;

	xlat.daddr = daddr;
	xlat.dport = dport;
	err = lb_resolve(&p->key, &xlat, &flags);
	if (err)
		return err;
	if (xlat.daddr == src->ip) {
		xlat.saddr = net->gateway;
		err = ct_create_snat(&p->key, &xlat, flags | BPFNET_CT_F_SNAT, p);
	} else {
		err = ct_create(&p->key, &xlat, flags, p) ? -BPFNET_DROP_CT_INSERT : 0;
	}
	if (err)
		return err;
	err = xlate_skb_to_key(skb, p, &xlat);
	if (err)
		return err;
	return deliver_skb(skb, ifindex, xlat.saddr, xlat.daddr, fwd);
}

/* Containers reaching beyond the host leave with the uplink's address. */
static __always_inline int masquerade(struct __sk_buff *skb, __u32 ifindex, const struct pkt4 *p)
{
	struct bpf_fib_lookup fib;
	int rc = fib_lookup4(skb, ifindex, p->key.saddr, p->key.daddr, &fib);

	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK; /* the host stack decides (and reports) */
	__u32 out = fib.ifindex;
	const struct bpfnet_uplink *up = bpf_map_lookup_elem(&bpfnet_uplinks, &out);
	if (!up)
		return TC_ACT_OK; /* not through an uplink: no masquerade, as routed */

	struct bpfnet_ct_key xlat = p->key;
	xlat.saddr = up->ip;
	int err = ct_create_snat(&p->key, &xlat, BPFNET_CT_F_SNAT, p);
	if (err)
		return err;
	err = xlate_skb_to_key(skb, p, &xlat);
	if (err)
		return err;
	return fib_redirect_skb(skb, &fib, rc);
}

/* Translated flows first: conntrack, then service VIPs, then published
 * ports via host addresses. */
static __always_inline int nat_from_container(struct __sk_buff *skb, __u32 ifindex,
					      const struct bpfnet_endpoint *src,
					      const struct bpfnet_network *net,
					      const struct pkt4 *p, struct fwd_result *fwd)
{
	struct bpfnet_ct_value *ct = ct_lookup(&p->key);
	if (ct) {
		if (!ct_is_stale_for(ct, p)) {
			ct_observe(ct, p);
			struct bpfnet_ct_value to = *ct;
			int err = xlate_skb(skb, p, &to);
			if (err)
				return err;
			return deliver_skb(skb, ifindex, to.saddr, to.daddr, fwd);
		}
		ct_delete_flow(ct, &p->key);
	}
	if (lb_lookup(p->key.daddr, p->key.dport, p->key.proto))
		return dnat_from_container(skb, ifindex, src, net, p, p->key.daddr, p->key.dport,
					   fwd);
	if (is_host_addr(p->key.daddr) && !(net->flags & BPFNET_NET_F_INTERNAL)) {
		const struct bpfnet_portmap_value *pm =
		    portmap_lookup(p->key.daddr, p->key.dport, p->key.proto);
		if (pm)
			return dnat_from_container(skb, ifindex, src, net, p, pm->backend_ip,
						   pm->backend_port, fwd);
	}
	return NAT_NONE;
}

static __always_inline int ipv4_from_container(struct __sk_buff *skb, __u32 ifindex,
					       const struct bpfnet_endpoint *src,
					       struct fwd_result *fwd)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct pkt4 p = {};

	int parsed = parse_pkt4(data, data_end, &p);
	if (parsed < 0)
		return parsed;
	if (p.key.saddr != src->ip)
		return -BPFNET_DROP_INVALID_SIP;

	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &src->network);
	if (!net)
		return -BPFNET_DROP_NO_NETWORK;

	if (parsed == PARSE_OK) {
		int rc = nat_from_container(skb, ifindex, src, net, &p, fwd);
		if (rc != NAT_NONE)
			return rc;
	} else if (p.icmp_error) {
		__be32 saddr, daddr;
		int rc = xlate_icmp_error_skb(skb, &p, &saddr, &daddr);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return deliver_skb(skb, ifindex, saddr, daddr, fwd);
	}

	/* Nothing was rewritten above: the pointers are still good, but the
	 * verifier wants them re-derived after helper calls. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return -BPFNET_DROP_MALFORMED;

	__be32 daddr = ip->daddr;
	const struct bpfnet_endpoint *dst = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);
	if (!dst) {
		int verdict = ipv4_policy_non_endpoint(src, net, daddr);
		if (verdict != L3_BEYOND)
			return verdict;
		if (parsed == PARSE_OK && (net->flags & BPFNET_NET_F_MASQUERADE))
			return masquerade(skb, ifindex, &p);
		return TC_ACT_OK;
	}
	if (dst->network != src->network)
		return -BPFNET_DROP_ISOLATION;
	if (!(net->flags & BPFNET_NET_F_ICC))
		return -BPFNET_DROP_ICC;

	/*
	 * Same network: deliver as a bridge would (TTL untouched, so peers stay
	 * one hop apart), with the MACs the destination expects: its own, and
	 * its gateway's as the sender it resolved by ARP.
	 */
	mac_copy(eth->h_dest, dst->mac);
	mac_copy(eth->h_source, dst->gw_mac);
	fwd->peer_ifindex = dst->ifindex;
	return bpf_redirect_peer(dst->ifindex, 0);
}

#endif
