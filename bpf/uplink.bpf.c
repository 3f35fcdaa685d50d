// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on the host's uplinks (interfaces facing clients):
 *   bpfnet_xdp_uplink: native XDP. Published ports (DNAT to the container,
 *       client address kept) and replies of masqueraded flows, redirected
 *       straight into the container's veth. Everything else passes up.
 *   bpfnet_tc_uplink:  tc ingress. The same for whatever XDP passed up (or
 *       all of it where XDP is not attached), plus ICMP errors.
 * A published port whose backend is on another host (an overlay service)
 * goes through the tunnel from tc (lib/overlay.h says how it is sourced).
 * Packets addressed to a container directly, bypassing a published port,
 * are dropped (Docker blocks direct routing to containers the same way).
 */
#include "lib/common.h"
#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/frag.h"
#include "lib/frontend.h"
#include "lib/icmp_error.h"
#include "lib/l4.h"
#include "lib/martian.h"
#include "lib/nat.h"
#include "lib/overlay.h"
#include "lib/verdict.h"

/* Is @daddr a container (or unassigned) address of one of our networks? */
static __always_inline int is_container_side(__be32 daddr)
{
	if (bpf_map_lookup_elem(&bpfnet_ep_ip, &daddr))
		return 1;
	struct bpfnet_subnet_key key = {.prefixlen = 32, .addr = daddr};
	const __u32 *net_index = bpf_map_lookup_elem(&bpfnet_subnets, &key);
	if (!net_index)
		return 0;
	const struct bpfnet_network *net = bpf_map_lookup_elem(&bpfnet_nets, net_index);
	return !net || daddr != net->gateway;
}

/* A packet to @daddr that no flow or published port accounts for: dropped if
 * it goes straight to a container, else not ours (the host's). */
static __always_inline int untranslated(__be32 daddr)
{
	return is_container_side(daddr) ? DROP_ERR(BPFNET_DROP_NO_PORTMAP) : CONTINUE_PASS;
}

/*
 * Parses a frame that arrived on an uplink into @p and finds its translation,
 * shared by XDP and tc: 0 with @to (the tuple to rewrite to) and @dest (where
 * it goes then) filled in, CONTINUE_PASS (not ours; ICMP errors, which @p
 * marks, are tc's), or a drop.
 */
static __always_inline int uplink_translation(void *data, void *data_end, struct pkt4 *p,
					      struct bpfnet_ct_key *to, struct bpfnet_ct_dest *dest)
{
	int parsed = frag_follow(data, data_end, p, parse_pkt4(data, data_end, p));
	if (parsed < 0)
		return parsed;
	if (parsed == PARSE_NOT_IPV4)
		return CONTINUE_PASS;
	if (is_martian_daddr(p->key.daddr))
		return DROP_ERR(BPFNET_DROP_MARTIAN);
	if (p->icmp_error)
		return CONTINUE_PASS;
	if (parsed != PARSE_OK) {
		if (frag_untracked(p) && is_container_side(p->key.daddr))
			return DROP_ERR(BPFNET_DROP_FRAG_NO_FLOW);
		return untranslated(p->key.daddr);
	}
	struct bpfnet_ct_value *ct;
	int rc = ct_lookup_live(p, &ct);
	if (rc)
		return rc;
	if (ct) {
		ct_rewrite_of(ct, to);
		dest_of(ct->daddr, &ct->dest, dest);
		return 0;
	}
	__u8 flags;
	rc = frontend_resolve(p, FRONTEND_HOST_ADDRS, to, &flags);
	if (rc == CONTINUE_NO_NAT)
		return untranslated(p->key.daddr);
	if (rc)
		return rc; /* CONTINUE_PASS: a service of the host; or a drop */
	dest_lookup(to->daddr, ep_generation(), dest);
	/* A backend on another host: sourced from this host's lb address there. */
	rc = dest->ifindex ? 0 : overlay_lb_source(to, 0);
	if (rc < 0)
		return rc;
	if (rc)
		return ct_create_snat(&p->key, to, flags | BPFNET_CT_F_SNAT, p, dest);
	return ct_create_verdict(&p->key, to, flags, p, dest);
}

static __always_inline int uplink_xdp(struct xdp_md *ctx, __u32 *peer)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt4 p = {};
	struct bpfnet_ct_key to = {};
	struct bpfnet_ct_dest dest = {};
	int rc = uplink_translation(data, data_end, &p, &to, &dest);

	if (rc)
		return rc;
	if (!dest.ifindex)
		return CONTINUE_PASS; /* translated towards the host itself: tc's job */
	if (hop_xdp_needs_tc(ctx, dest.ifindex))
		return CONTINUE_PASS; /* answered there (lib/pmtu.h) */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	rc = xlate_xdp(data, data_end, &p, &to);
	if (rc)
		return rc;
	rc = hop_xdp(data, data_end);
	if (rc)
		return rc;
	rc = set_endpoint_macs(data, data_end, &dest);
	if (rc)
		return rc;
	*peer = dest.ifindex;
	/* Needs GRO (or an XDP program) on the container end: bpfnetd turns GRO on. */
	return bpf_redirect(dest.ifindex, 0);
}

SEC("xdp")
int bpfnet_xdp_uplink(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 len = (__u32)(ctx->data_end - ctx->data);
	__u32 peer = 0;
	int rc = uplink_xdp(ctx, &peer);

	return xdp_verdict(ctx, rc, ifindex, peer, len);
}

static __always_inline int uplink_tc(struct __sk_buff *skb, __u32 ifindex, struct fwd_result *fwd)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt4 p = {};
	struct bpfnet_ct_key to = {};
	struct bpfnet_ct_dest dest = {};
	int rc = uplink_translation(data, data_end, &p, &to, &dest);

	if (rc == CONTINUE_PASS && p.icmp_error) {
		/* Untranslated, an error to a container is direct access. */
		if (!icmp_error_quotes_own_flow(data, data_end, &p, ICMP_ERROR_FROM_UPLINK))
			return untranslated(p.key.daddr);
		__be32 saddr, daddr;
		rc = xlate_icmp_error_skb(skb, &p, &saddr, &daddr);
		if (rc <= 0)
			return rc ? rc : untranslated(p.key.daddr);
		return deliver_skb_to(skb, ifindex, saddr, daddr, &p, fwd);
	}
	if (rc)
		return rc;
	rc = xlate_skb(skb, &p, &to);
	if (rc)
		return rc;
	return deliver_skb(skb, ifindex, to.saddr, to.daddr, &dest, &p, fwd);
}

SEC("tc")
int bpfnet_tc_uplink(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	struct fwd_result fwd = {};
	int rc = uplink_tc(skb, ifindex, &fwd);

	return tc_verdict(skb, rc, ifindex, BPFNET_DIR_FROM_UPLINK, fwd.peer_ifindex, len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
