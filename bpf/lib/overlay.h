/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Overlay networks across hosts, VXLAN between hosts:
 *   - to a remote endpoint (bpfnet_tunnels): encapsulated here and sent out
 *     of the underlay interface (lib/vxlan.h) unless TCP or GSO; what
 *     that path cannot take goes to the collect-metadata ("external") VXLAN
 *     device with the tunnel key (its host's underlay address, the
 *     network's VNI), as Cilium does it.
 *   - from another host: at tc ingress of the underlay (overlay.bpf.c's
 *     bpfnet_from_underlay) the outer headers come off here; what that
 *     path passes reaches the VXLAN device, whose tc ingress
 *     (bpfnet_from_overlay) gets the key the kernel left. Either way the
 *     inner source must be an endpoint of the host the packet came from, on
 *     that VNI (one host cannot speak for another host's containers), and
 *     the inner destination a local endpoint of the same network, delivered
 *     as local traffic is; or a reply of a flow this host translated (a
 *     published port or a service VIP balanced to a backend on another
 *     host), reverse-NATed as the uplink and container paths do it.
 * Published flows to a backend on another host leave with this host's own
 * address on the overlay (its "lb" endpoint, bpfnet_network.lb_addr), as
 * Docker swarm's routing mesh does: the backend's host accepts the packet
 * (its inner source is an endpoint of the host it came from, the rule
 * against forged packets stays whole) and the backend's replies come back
 * here, where the flow's conntrack entries are. The backend sees this host,
 * not the client; keeping the client's address would have every backend
 * host accept inner sources that are nobody's endpoint and route replies by
 * per-flow state of its own.
 */
#ifndef BPFNET_LIB_OVERLAY_H
#define BPFNET_LIB_OVERLAY_H

#include "lib/deliver.h"
#include "lib/isolation.h"
#include "lib/l4.h"
#include "lib/maps.h"
#include "lib/tracked.h"
#include "lib/results.h"
#include "lib/tunnel.h"
#include "lib/vxlan.h"

/* The remote endpoint at @daddr when @net is an overlay and @daddr is an
 * endpoint on another host (of any overlay: the caller checks which). */
static __always_inline const struct bpfnet_tunnel *overlay_remote(const struct bpfnet_network *net,
								  __be32 daddr)
{
	if (!(net->flags & BPFNET_NET_F_OVERLAY))
		return NULL;
	return bpf_map_lookup_elem(&bpfnet_tunnels, &daddr);
}

/* The same, only when it is on @src's own network: whom ARP is answered for. */
static __always_inline const struct bpfnet_tunnel *
overlay_remote_peer(const struct bpfnet_endpoint *src, const struct bpfnet_network *net,
		    __be32 daddr)
{
	const struct bpfnet_tunnel *remote = overlay_remote(net, daddr);

	return remote && remote->network == src->network ? remote : NULL;
}

/*
 * What @src (on overlay @net) sends to @remote, an endpoint on another host:
 * the isolation rules of a bridge network (same network only, enable_icc),
 * then out through the VXLAN device with the tunnel key. --internal needs
 * nothing more: the destination is in the subnet.
 */
static __always_inline int overlay_to_remote(struct __sk_buff *skb,
					     const struct bpfnet_endpoint *src,
					     const struct bpfnet_network *net,
					     const struct bpfnet_tunnel *remote)
{
	/* The very rules of local peers, so they cannot drift apart. */
	struct bpfnet_endpoint peer = {.network = remote->network};
	int err = policy_to_endpoint(src, net, &peer);
	if (err)
		return err;

	return tunnel_redirect(skb, remote->remote, net->vni);
}

/*
 * The source of a new flow translated to @xlat (a published port or a VIP)
 * when its destination is an endpoint on another host and its client no
 * endpoint of that overlay (@client_network: the client's network index, 0
 * from an uplink): this host's lb address there. Returns 1 with
 * @xlat->saddr set (the caller SNATs), 0 when the flow keeps its source, or
 * a drop.
 */
static __always_inline int overlay_lb_source(struct bpfnet_ct_key *xlat, __u32 client_network)
{
	const struct bpfnet_tunnel *remote = bpf_map_lookup_elem(&bpfnet_tunnels, &xlat->daddr);
	if (!remote || remote->network == client_network)
		return 0;
	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &remote->network);
	if (!net || !net->lb_addr)
		return DROP_ERR(BPFNET_DROP_NO_LB_ADDRESS);
	xlat->saddr = net->lb_addr;
	return 1;
}

/*
 * A packet from the tunnel of a flow this host translated (a backend's reply
 * to a published port or a VIP): rewritten and delivered as its conntrack
 * entry says. CONTINUE_NO_NAT when it belongs to no translated flow.
 */
static __always_inline int overlay_tracked(struct __sk_buff *skb, struct fwd_result *fwd)
{
	struct pkt4 p = {};
	int parsed = parse_pkt4((void *)(long)skb->data, (void *)(long)skb->data_end, &p);
	if (parsed < 0)
		return parsed;
	if (parsed != PARSE_OK)
		return CONTINUE_NO_NAT;
	return tracked_deliver(skb, skb->ifindex, &p, fwd);
}

/*
 * A frame the VXLAN device decapsulated, with @key (outer source, VNI):
 * delivered into the destination container, or a drop.
 */
static __always_inline int overlay_deliver(struct __sk_buff *skb, const struct bpf_tunnel_key *key,
					   struct fwd_result *fwd)
{
	skb_pull_headers(skb, sizeof(struct ethhdr) + sizeof(struct iphdr));
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = (void *)(long)skb->data;
	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	/* Hosts answer ARP for remote endpoints themselves: only IPv4 crosses. */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return DROP_ERR(BPFNET_DROP_UNSUPPORTED_L3);
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return DROP_ERR(BPFNET_DROP_MALFORMED);

	__be32 saddr = ip->saddr;
	__be32 daddr = ip->daddr;
	const struct bpfnet_tunnel *peer = bpf_map_lookup_elem(&bpfnet_tunnels, &saddr);
	if (!peer || peer->remote != bpf_htonl(key->remote_ipv4) || peer->vni != key->tunnel_id)
		return DROP_ERR(BPFNET_DROP_TUNNEL_SPOOF);

	int tracked = overlay_tracked(skb, fwd);
	if (tracked != CONTINUE_NO_NAT)
		return tracked;

	data_end = (void *)(long)skb->data_end;
	eth = (void *)(long)skb->data;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	const struct bpfnet_endpoint *dst = bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr);
	if (!dst)
		return DROP_ERR(BPFNET_DROP_NO_ENDPOINT);
	if (dst->network != peer->network)
		return DROP_ERR(BPFNET_DROP_ISOLATION);
	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &dst->network);
	if (!net)
		return DROP_ERR(BPFNET_DROP_NO_NETWORK);
	/* The tunnel map and the network must agree on the VNI: a stale entry
	 * of a recreated network cannot reach the new one. */
	if (!(net->flags & BPFNET_NET_F_OVERLAY) || net->vni != key->tunnel_id)
		return DROP_ERR(BPFNET_DROP_ISOLATION);
	/* enable_icc=false holds on the receiving host too. */
	if (!(net->flags & BPFNET_NET_F_ICC))
		return DROP_ERR(BPFNET_DROP_ICC);

	/* As local delivery does: the destination's own MAC, and its gateway's
	 * as the sender (TTL untouched: one L2 segment across hosts). */
	mac_copy(eth->h_dest, dst->mac);
	mac_copy(eth->h_source, dst->gw_mac);
	fwd->peer_ifindex = dst->ifindex;
	return bpf_redirect_peer(dst->ifindex, 0);
}

/* What overlay_deliver() answered (an ICMP error of a routed hop, lib/pmtu.h)
 * goes back to the host the packet came from, with the key for that. */
static __always_inline int overlay_answered(struct __sk_buff *skb, const struct bpf_tunnel_key *key)
{
	/* Its drop is counted already; a failure here only loses the error. */
	tunnel_redirect(skb, bpf_htonl(key->remote_ipv4), key->tunnel_id);
	return CONTINUE_ANSWERED;
}

/*
 * tc ingress of the underlay interface: a VXLAN packet to this host's
 * underlay address, decapsulated and delivered; CONTINUE_PASS for anything
 * else (the uplink program, if any, and the stack get it unchanged).
 */
static __always_inline int overlay_from_underlay(struct __sk_buff *skb, struct fwd_result *fwd)
{
	struct bpf_tunnel_key key = {};
	int rc = vxlan_decap(skb, &key);
	if (rc != CONTINUE_NO_NAT)
		return rc;
	rc = overlay_deliver(skb, &key, fwd);
	return rc == CONTINUE_ANSWERED ? overlay_answered(skb, &key) : rc;
}

/*
 * tc ingress of the VXLAN device: the key the device left, then delivery.
 * A packet answered on a routed hop (a backend's reply whose TTL ran out on
 * its way to the client, lib/pmtu.h) was turned into its ICMP error and sent
 * back to the device, still with the key it arrived with (the receive side's,
 * which the device cannot send with): the error goes back to the host it came
 * from, with the key for that.
 */
static __always_inline int overlay_from_tunnel(struct __sk_buff *skb, struct fwd_result *fwd)
{
	struct bpf_tunnel_key key = {};

	/* Everything the device receives was decapsulated with a key. */
	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) < 0)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	int rc = overlay_deliver(skb, &key, fwd);
	return rc == CONTINUE_ANSWERED ? overlay_answered(skb, &key) : rc;
}

#endif
