// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Programs on the host's uplinks (interfaces facing clients):
 *   bpfnet_xdp_uplink: native XDP. Published ports (DNAT to the container,
 *       client address kept) and replies of masqueraded flows, redirected
 *       straight into the container's veth. Everything else passes up.
 *   bpfnet_tc_uplink:  tc ingress. The same for whatever XDP passed up (or
 *       all of it where XDP is not attached), plus ICMP errors.
 * Packets addressed to a container directly, bypassing a published port,
 * are dropped (Docker blocks direct routing to containers the same way).
 */
#include "lib/common.h"
#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/l4.h"
#include "lib/lb.h"
#include "lib/metrics.h"
#include "lib/nat.h"
#include "lib/portmap.h"

/* Not a verdict: hand the packet to the next stage unchanged. */
#define UPLINK_PASS 3000

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

/*
 * The translation for a packet arriving on an uplink, shared by XDP and tc:
 * fills @to and returns 0, or UPLINK_PASS, or a negative drop reason.
 */
static __always_inline int uplink_translation(const struct pkt4 *p, int parsed,
					      struct bpfnet_ct_value *to)
{
	if (parsed != PARSE_OK)
		return is_container_side(p->key.daddr) && !p->icmp_error ? -BPFNET_DROP_NO_PORTMAP
									 : UPLINK_PASS;
	struct bpfnet_ct_value *ct = ct_lookup(&p->key);
	if (ct) {
		if (!ct_is_stale_for(ct, p)) {
			ct_observe(ct, p);
			*to = *ct;
			return 0;
		}
		bpf_map_delete_elem(&bpfnet_ct, &ct->peer);
		bpf_map_delete_elem(&bpfnet_ct, &p->key);
	}
	if (is_host_addr(p->key.daddr)) {
		const struct bpfnet_portmap_value *pm =
		    portmap_lookup(p->key.daddr, p->key.dport, p->key.proto);
		if (!pm)
			return UPLINK_PASS; /* a host service */
		struct bpfnet_ct_key xlat = p->key;
		xlat.daddr = pm->backend_ip;
		xlat.dport = pm->backend_port;
		/* A published service port: its VIP picks a backend. */
		__u8 flags = BPFNET_CT_F_DNAT;
		int err = lb_resolve(&p->key, &xlat, &flags);
		if (err)
			return err;
		if (ct_create(&p->key, &xlat, flags, p))
			return -BPFNET_DROP_CT_INSERT;
		to->saddr = xlat.saddr;
		to->daddr = xlat.daddr;
		to->sport = xlat.sport;
		to->dport = xlat.dport;
		return 0;
	}
	return is_container_side(p->key.daddr) ? -BPFNET_DROP_NO_PORTMAP : UPLINK_PASS;
}

static __always_inline int uplink_xdp(struct xdp_md *ctx, __u32 *peer)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pkt4 p = {};
	struct bpfnet_ct_value to = {};

	int parsed = parse_pkt4(data, data_end, &p);
	if (parsed < 0)
		return parsed;
	if (parsed == PARSE_NOT_IPV4 || p.icmp_error)
		return UPLINK_PASS; /* ARP, IPv6, ICMP errors: the kernel and tc */
	int rc = uplink_translation(&p, parsed, &to);
	if (rc)
		return rc;
	const struct bpfnet_endpoint *ep = bpf_map_lookup_elem(&bpfnet_ep_ip, &to.daddr);
	if (!ep)
		return UPLINK_PASS; /* translated towards the host itself: tc's job */
	rc = xlate_xdp(data, data_end, &p, &to);
	if (rc)
		return rc;
	rc = set_endpoint_macs(data, data_end, ep);
	if (rc)
		return rc;
	*peer = ep->ifindex;
	/* Needs GRO (or an XDP program) on the container end: bpfnetd turns GRO on. */
	return bpf_redirect(ep->ifindex, 0);
}

SEC("xdp")
int bpfnet_xdp_uplink(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	__u32 len = (__u32)(ctx->data_end - ctx->data);
	__u32 peer = 0;
	int rc = uplink_xdp(ctx, &peer);

	if (rc == UPLINK_PASS)
		return XDP_PASS;
	if (rc < 0) {
		metrics_count(ifindex, (__u8)-rc, BPFNET_DIR_FROM_CONTAINER, len);
		return XDP_DROP;
	}
	metrics_count(ifindex, BPFNET_OK, BPFNET_DIR_FROM_CONTAINER, len);
	metrics_count(peer, BPFNET_OK, BPFNET_DIR_TO_CONTAINER, len);
	return rc;
}

static __always_inline int uplink_tc(struct __sk_buff *skb, __u32 ifindex, struct fwd_result *fwd)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt4 p = {};
	struct bpfnet_ct_value to = {};

	int parsed = parse_pkt4(data, data_end, &p);
	if (parsed < 0)
		return parsed;
	if (parsed == PARSE_NOT_IPV4)
		return UPLINK_PASS;
	if (p.icmp_error) {
		__be32 saddr, daddr;
		int rc = xlate_icmp_error_skb(skb, &p, &saddr, &daddr);
		if (rc <= 0)
			return rc ? rc : UPLINK_PASS;
		return deliver_skb(skb, ifindex, saddr, daddr, fwd);
	}
	int rc = uplink_translation(&p, parsed, &to);
	if (rc)
		return rc;
	rc = xlate_skb(skb, &p, &to);
	if (rc)
		return rc;
	return deliver_skb(skb, ifindex, to.saddr, to.daddr, fwd);
}

SEC("tc")
int bpfnet_tc_uplink(struct __sk_buff *skb)
{
	__u32 ifindex = skb->ifindex;
	__u32 len = skb->len;
	struct fwd_result fwd = {};
	int rc = uplink_tc(skb, ifindex, &fwd);

	if (rc == UPLINK_PASS)
		return TC_ACT_OK; /* host traffic: not ours to count */
	return tc_verdict(rc, ifindex, fwd.peer_ifindex, len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
