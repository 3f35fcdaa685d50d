/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The IPv4 pipeline of what a container sends (tc ingress of its host veth):
 * anti-spoofing, translated flows (conntrack, service VIPs, published ports
 * through a host address, masquerade), Docker's isolation rules, and L3
 * forwarding straight into the destination container's namespace.
 */
#ifndef BPFNET_LIB_FROM_CONTAINER_H
#define BPFNET_LIB_FROM_CONTAINER_H

#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/frag.h"
#include "lib/frontend.h"
#include "lib/icmp_error.h"
#include "lib/isolation.h"
#include "lib/maps.h"
#include "lib/martian.h"
#include "lib/nat.h"
#include "lib/overlay.h"
#include "lib/tracked.h"

/*
 * A new flow from a container to a frontend (a service VIP, or a published
 * port reached through a host address: Docker's hairpin), rewritten to @xlat
 * (frontend_resolve). The client keeps its address, except when it reaches
 * itself: a packet from its own address would be a martian to it, so that one
 * is sourced from its gateway.
 */
static __always_inline int dnat_from_container(struct __sk_buff *skb, __u32 ifindex,
					       const struct bpfnet_endpoint *src,
					       const struct bpfnet_network *net,
					       const struct pkt4 *p, struct bpfnet_ct_key *xlat,
					       __u8 flags, struct fwd_result *fwd)
{
	struct bpfnet_ct_dest dest = {};
	int err;

	dest_lookup(xlat->daddr, ep_generation(), &dest);
	if (xlat->daddr == src->ip) {
		xlat->saddr = net->gateway;
		err = ct_create_snat(&p->key, xlat, flags | BPFNET_CT_F_SNAT, p, &dest);
	} else {
		/* A backend on another host, for a client of another network (a
		 * published port reached through a host address): from this
		 * host's lb address, as from an uplink. */
		int lb = dest.ifindex ? 0 : overlay_lb_source(xlat, src->network);
		if (lb < 0)
			return lb;
		if (lb)
			err = ct_create_snat(&p->key, xlat, flags | BPFNET_CT_F_SNAT, p, &dest);
		else
			err = ct_create_verdict(&p->key, xlat, flags, p, &dest);
	}
	if (err)
		return err;
	err = xlate_skb(skb, p, xlat);
	if (err)
		return err;
	return deliver_skb(skb, ifindex, xlat->saddr, xlat->daddr, &dest, p, fwd);
}

/*
 * Containers reaching beyond the host leave with the uplink's address. What
 * cannot be translated (@parsed is not PARSE_OK: no ports, as GRE, SCTP, an
 * ICMP error about no flow, a later fragment whose first was not seen) must
 * not leave with the container's private address: dropped when its way out
 * is an uplink.
 */
static __always_inline int masquerade(struct __sk_buff *skb, __u32 ifindex, const struct pkt4 *p,
				      int parsed)
{
	struct bpf_fib_lookup *fib;
	int rc = fib_lookup4(skb, ifindex, p->key.saddr, p->key.daddr, &fib);
	if (!fib)
		return TC_ACT_OK;
	__u32 out = fib->ifindex;
	const struct bpfnet_uplink *up = bpf_map_lookup_elem(&bpfnet_uplinks, &out);

	if (up && (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH ||
		   rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)) {
		/* A later fragment here has no flow: its first went elsewhere. */
		if (p->frag == PKT_FRAG_LATER)
			return DROP_ERR(BPFNET_DROP_FRAG_NO_FLOW);
		if (parsed != PARSE_OK)
			return DROP_ERR(BPFNET_DROP_NAT_UNSUPPORTED);
		/* Too big for the uplink: answered before a flow is set up for it. */
		if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			return hop_skb(skb, p, out, rc, fib->mtu_result);
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK; /* the host stack decides (and reports) */
	if (!up)
		return TC_ACT_OK; /* not through an uplink: no masquerade, as routed */

	struct bpfnet_ct_key xlat = p->key;
	xlat.saddr = up->ip;
	/* Its destination is no endpoint's (the caller looked): out by FIB. */
	struct bpfnet_ct_dest dest = {.gen = ep_generation()};
	int err = ct_create_snat(&p->key, &xlat, BPFNET_CT_F_SNAT, p, &dest);
	if (err)
		return err;
	err = xlate_skb(skb, p, &xlat);
	if (err)
		return err;
	return fib_redirect_skb(skb, fib, rc, p);
}

/* A new flow to a frontend: a service VIP, or a published port via a host
 * address (not from internal networks: they stay in their subnet).
 * CONTINUE_NO_NAT when @p's destination is none. */
static __always_inline int frontend_from_container(struct __sk_buff *skb, __u32 ifindex,
						   const struct bpfnet_endpoint *src,
						   const struct bpfnet_network *net,
						   const struct pkt4 *p, struct fwd_result *fwd)
{
	/* A service VIP belongs to its network: containers of other networks get
	 * the isolation drop (they reach the service by its published port). */
	const __u32 *vip_net = bpf_map_lookup_elem(&bpfnet_vips, &p->key.daddr);
	if (vip_net && *vip_net != src->network)
		return DROP_ERR(BPFNET_DROP_ISOLATION);
	__u32 kinds = FRONTEND_VIPS;
	if (!(net->flags & BPFNET_NET_F_INTERNAL))
		kinds |= FRONTEND_HOST_ADDRS;
	struct bpfnet_ct_key xlat;
	__u8 flags;
	int rc = frontend_resolve(p, kinds, &xlat, &flags);
	if (rc == CONTINUE_PASS)
		return CONTINUE_NO_NAT; /* a service of the host: plain forwarding */
	if (rc)
		return rc;
	return dnat_from_container(skb, ifindex, src, net, p, &xlat, flags, fwd);
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

	int parsed = frag_follow(data, data_end, &p, parse_pkt4(data, data_end, &p));
	if (parsed < 0)
		return parsed;
	if (p.key.saddr != src->ip)
		return DROP_ERR(BPFNET_DROP_INVALID_SIP);
	if (is_martian_daddr(p.key.daddr))
		return DROP_ERR(BPFNET_DROP_MARTIAN);

	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &src->network);
	if (!net)
		return DROP_ERR(BPFNET_DROP_NO_NETWORK);

	/* Translated flows first: conntrack (a reply of a published or balanced
	 * flow between two containers is one too). */
	if (parsed == PARSE_OK) {
		int rc = tracked_deliver(skb, ifindex, &p, fwd);
		if (rc != CONTINUE_NO_NAT)
			return rc;
	} else if (p.icmp_error &&
		   icmp_error_quotes_own_flow(data, data_end, &p, ICMP_ERROR_FROM_CONTAINER)) {
		__be32 saddr, daddr;
		int rc = xlate_icmp_error_skb(skb, &p, &saddr, &daddr);
		if (rc < 0)
			return rc;
		if (rc == 1)
			return deliver_skb_to(skb, ifindex, saddr, daddr, &p, fwd);
	}

	/* Nothing was rewritten above: the pointers are still good, but the
	 * verifier wants them re-derived after helper calls. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);

	/* Then a container: its address is never a frontend (IPAM gives no
	 * container a service VIP, and host addresses are not in our subnets),
	 * so a packet to one skips the frontend lookups. */
	__be32 daddr = ip->daddr;
	const struct bpfnet_endpoint *dst = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);
	if (!dst) {
		if (parsed == PARSE_OK) {
			int rc = frontend_from_container(skb, ifindex, src, net, &p, fwd);
			if (rc != CONTINUE_NO_NAT)
				return rc;
		}
		const struct bpfnet_tunnel *remote = overlay_remote(net, daddr);
		if (remote)
			return overlay_to_remote(skb, src, net, remote);
		int verdict = policy_to_non_endpoint(src, net, daddr);
		if (verdict != CONTINUE_BEYOND_NETWORKS)
			return verdict;
		if (!(net->flags & BPFNET_NET_F_MASQUERADE))
			return TC_ACT_OK;
		return masquerade(skb, ifindex, &p, parsed);
	}
	int err = policy_to_endpoint(src, net, dst);
	if (err)
		return err;

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
