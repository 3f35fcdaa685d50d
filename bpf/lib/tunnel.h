/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Out through the tunnel: encapsulated in BPF and sent out of the underlay
 * (lib/vxlan.h), or, where that path does not apply, through the
 * collect-metadata VXLAN device (see lib/overlay.h): the tunnel key (the
 * remote host's underlay address, the VNI) goes on the skb and the frame,
 * untouched, is redirected to the device, which adds the outer headers.
 * Shared by container traffic to remote endpoints (bridged:
 * one L2 segment across hosts, lib/overlay.h) and by translated flows (a
 * published port's or a VIP's backend on another host, lib/deliver.h),
 * which take a routed hop into the tunnel (tunnel_hop_redirect).
 */
#ifndef BPFNET_LIB_TUNNEL_H
#define BPFNET_LIB_TUNNEL_H

#include "lib/maps.h"
#include "lib/pmtu.h"
#include "lib/results.h"
#include "lib/vxlan.h"

/* Sends @skb to the host whose underlay address is @host, on @vni. */
static __always_inline int tunnel_redirect(struct __sk_buff *skb, __be32 host, __u32 vni)
{
	int encap = tunnel_encap(skb, host, vni);
	if (encap != TUNNEL_VIA_DEVICE)
		return encap;

	__u32 zero = 0;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	if (!cfg || !cfg->vxlan_ifindex)
		return DROP_ERR(BPFNET_DROP_NO_VXLAN);
	/* bpf_tunnel_key holds IPv4 addresses in host order. */
	struct bpf_tunnel_key key = {
	    .tunnel_id = vni,
	    .remote_ipv4 = bpf_ntohl(host),
	    .tunnel_ttl = BPFNET_TUNNEL_TTL,
	    .local_ipv4 = bpf_ntohl(cfg->underlay),
	};
	/* Zero outer UDP checksum (RFC 7348 allows it over IPv4, Cilium does
	 * the same): the inner packet carries its own, and every GSO segment
	 * is spared a second checksum. */
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return DROP_ERR(BPFNET_DROP_NO_VXLAN);
	return bpf_redirect(cfg->vxlan_ifindex, 0);
}

/*
 * hop_skb()'s @fib_rc for the tunnel, whose inner MTU @mtu is no device's:
 * FRAG_NEEDED for a DF packet bigger than @mtu, else SUCCESS. Without DF a
 * router fragments such a packet, which BPF cannot: it goes whole, and the
 * VXLAN device fragments the outer packet instead (the key leaves DF off),
 * so it still arrives (on a local hop the device would drop it: there it is
 * a drop). GSO packets pass, as bpf_fib_lookup()'s own check lets them:
 * their segments are sized by the sender's MSS.
 */
static __always_inline int tunnel_mtu_rc(struct __sk_buff *skb, __u32 mtu)
{
	if (!mtu || skb->gso_size || skb->len <= ETH_HLEN + mtu)
		return BPF_FIB_LKUP_RET_SUCCESS;
	struct iphdr *ip = skb_iphdr(skb);
	if (ip && !(ip->frag_off & bpf_htons(IP_DF)))
		return BPF_FIB_LKUP_RET_SUCCESS;
	return BPF_FIB_LKUP_RET_FRAG_NEEDED;
}

/*
 * A translated packet (of @orig) to @remote: a routed hop (lib/pmtu.h) as
 * into a local endpoint or out of the host, so traceroute and path MTU
 * discovery see this host. The next hop's MTU is @remote's overlay network's
 * (its endpoints' MTU: the underlay's less the VXLAN headers, unless set),
 * not the VXLAN device's (the underlay's, shared by every overlay).
 */
static __always_inline int tunnel_hop_redirect(struct __sk_buff *skb, const struct pkt4 *orig,
					       const struct bpfnet_tunnel *remote)
{
	__u32 network = remote->network;
	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, &network);
	if (!net)
		return DROP_ERR(BPFNET_DROP_NO_NETWORK);
	__u32 mtu = net->mtu;
	int err = hop_skb(skb, orig, 0, tunnel_mtu_rc(skb, mtu), mtu);
	if (err)
		return err;
	return tunnel_redirect(skb, remote->remote, remote->vni);
}

#endif
