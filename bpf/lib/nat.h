/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rewriting a packet to a conntrack tuple: IP addresses, ports (or the ICMP
 * echo identifier) and every checksum they are part of.
 *   xlate_xdp: raw memory and incremental checksums (XDP has no helpers).
 *   xlate_skb: the same raw writes, except for the L4 checksum: one
 *              bpf_l4_csum_replace() for the addresses (pseudo-header) and
 *              one for the ports, which keep the skb's checksum state right
 *              (CHECKSUM_PARTIAL from a local stack, COMPLETE). Two helper
 *              calls instead of one per field and checksum: on a kernel that
 *              thunks every return, each call costs 10-15 ns.
 * A UDP checksum of zero means "none" and stays zero.
 */
#ifndef BPFNET_LIB_NAT_H
#define BPFNET_LIB_NAT_H

#include "lib/csum.h"
#include "lib/l4.h"

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_SADDR_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DADDR_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

/* Where the L4 checksum and the ports (or ICMP echo id) live, per protocol. */
static __always_inline int l4_csum_off(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return offsetof(struct tcphdr, check);
	case IPPROTO_UDP:
		return offsetof(struct udphdr, check);
	case IPPROTO_ICMP:
		return offsetof(struct icmphdr, checksum);
	}
	return -1;
}

/* The checksum differences of rewriting @p's addresses and ports to @to (a
 * conntrack tuple: the one a flow's entry rewrites to, or a new flow's). */
struct xlate_diff {
	__u32 addrs; /* saddr and daddr: the IP header and the L4 pseudo-header */
	__u32 ports; /* sport and dport: L4 data */
	__u8 addrs_change;
	__u8 ports_change;
};

static __always_inline void xlate_diff(const struct pkt4 *p, const struct bpfnet_ct_key *to,
				       struct xlate_diff *d)
{
	d->addrs =
	    csum_add32(csum_diff32(p->key.saddr, to->saddr), csum_diff32(p->key.daddr, to->daddr));
	d->ports =
	    csum_add32(csum_diff32(p->key.sport, to->sport), csum_diff32(p->key.dport, to->dport));
	d->addrs_change = p->key.saddr != to->saddr || p->key.daddr != to->daddr;
	d->ports_change = p->key.sport != to->sport || p->key.dport != to->dport;
}

/* Writes @to's addresses into the IP header at @ip (bounds checked by the
 * caller), keeping its checksum. */
static __always_inline void xlate_ip_header(struct iphdr *ip, const struct bpfnet_ct_key *to,
					    const struct xlate_diff *d)
{
	if (!d->addrs_change)
		return;
	csum_apply(&ip->check, d->addrs);
	ip->saddr = to->saddr;
	ip->daddr = to->daddr;
}

/* A later fragment has no L4 header: only its addresses are rewritten (the
 * first fragment's L4 checksum covers the whole datagram's). */
static __always_inline int xlate_later_fragment(void *data, void *data_end, const struct pkt4 *p,
						const struct bpfnet_ct_key *to)
{
	struct iphdr *ip = data + ETH_HLEN;
	struct xlate_diff d;

	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	xlate_diff(p, to, &d);
	xlate_ip_header(ip, to, &d);
	return 0;
}

/* ---- XDP ---- */

static __always_inline int xlate_xdp(void *data, void *data_end, const struct pkt4 *p,
				     const struct bpfnet_ct_key *to)
{
	if (p->frag == PKT_FRAG_LATER)
		return xlate_later_fragment(data, data_end, p, to);
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	__u32 l4_off = p->l4_off;
	if (l4_off > ETH_HLEN + 60)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	void *l4 = data + l4_off;
	struct xlate_diff d;
	xlate_diff(p, to, &d);

	if (p->key.proto == IPPROTO_TCP || p->key.proto == IPPROTO_UDP) {
		/* TCP and UDP both open with the ports; the checksums differ in place. */
		__sum16 *l4sum;
		if (p->key.proto == IPPROTO_TCP) {
			struct tcphdr *tcp = l4;
			if ((void *)(tcp + 1) > data_end)
				return DROP_ERR(BPFNET_DROP_MALFORMED);
			l4sum = &tcp->check;
		} else {
			struct udphdr *udp = l4;
			if ((void *)(udp + 1) > data_end)
				return DROP_ERR(BPFNET_DROP_MALFORMED);
			l4sum = udp->check ? &udp->check : 0;
		}
		if (l4sum) {
			csum_apply(l4sum, csum_add32(d.addrs, d.ports));
			if (p->key.proto == IPPROTO_UDP && *l4sum == 0)
				*l4sum = (__sum16)0xffff;
		}
		__be16 *ports = l4;
		ports[0] = to->sport;
		ports[1] = to->dport;
	} else if (p->key.proto == IPPROTO_ICMP) {
		struct icmphdr *icmp = l4;
		if ((void *)(icmp + 1) > data_end)
			return DROP_ERR(BPFNET_DROP_MALFORMED);
		/* No pseudo-header: only the identifier changes the checksum. */
		__be16 *id = &icmp->un.echo.id;
		__be16 want = p->icmp_type == ICMP_ECHO ? to->sport : to->dport;
		csum_replace2(&icmp->checksum, *id, want);
		*id = want;
	} else {
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	}
	xlate_ip_header(ip, to, &d);
	return 0;
}

/* ---- tc ---- */

static __always_inline int store_addr(struct __sk_buff *skb, __u32 off, __be32 from, __be32 to,
				      int l4sum_off, __u64 l4flags)
{
	if (from == to)
		return 0;
	if (l4sum_off >= 0 &&
	    bpf_l4_csum_replace(skb, l4sum_off, from, to, l4flags | BPF_F_PSEUDO_HDR | 4))
		return DROP_ERR(BPFNET_DROP_CSUM);
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, from, to, 4))
		return DROP_ERR(BPFNET_DROP_CSUM);
	if (bpf_skb_store_bytes(skb, off, &to, 4, 0))
		return DROP_ERR(BPFNET_DROP_CSUM);
	return 0;
}

static __always_inline int store_port(struct __sk_buff *skb, __u32 off, __be16 from, __be16 to,
				      int l4sum_off, __u64 l4flags)
{
	if (from == to)
		return 0;
	if (l4sum_off >= 0 && bpf_l4_csum_replace(skb, l4sum_off, from, to, l4flags | 2))
		return DROP_ERR(BPFNET_DROP_CSUM);
	if (bpf_skb_store_bytes(skb, off, &to, 2, 0))
		return DROP_ERR(BPFNET_DROP_CSUM);
	return 0;
}

/* ICMP echo: the identifier and the addresses, by helpers (rare enough). */
static __always_inline int xlate_skb_icmp(struct __sk_buff *skb, const struct pkt4 *p,
					  const struct bpfnet_ct_key *to)
{
	__u32 l4 = p->l4_off;
	__u32 csum_off = l4 + offsetof(struct icmphdr, checksum);
	__u32 id_off = l4 + offsetof(struct icmphdr, un.echo.id);
	__be16 from = p->icmp_type == ICMP_ECHO ? p->key.sport : p->key.dport;
	__be16 want = p->icmp_type == ICMP_ECHO ? to->sport : to->dport;
	int err = store_port(skb, id_off, from, want, csum_off, 0);

	/* ICMP has no pseudo-header: addresses touch only the IP checksum. */
	if (!err)
		err = store_addr(skb, IP_SADDR_OFF, p->key.saddr, to->saddr, -1, 0);
	if (!err)
		err = store_addr(skb, IP_DADDR_OFF, p->key.daddr, to->daddr, -1, 0);
	return err;
}

static __always_inline int xlate_skb(struct __sk_buff *skb, const struct pkt4 *p,
				     const struct bpfnet_ct_key *to)
{
	__u32 l4 = p->l4_off;
	int csum_off = l4_csum_off(p->key.proto);
	__u64 flags = p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	struct xlate_diff d;

	if (p->frag == PKT_FRAG_LATER)
		return xlate_later_fragment(skb_data(skb), skb_data_end(skb), p, to);
	if (csum_off < 0)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	if (p->key.proto == IPPROTO_ICMP)
		return xlate_skb_icmp(skb, p, to);
	if (l4 > ETH_HLEN + 60)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	xlate_diff(p, to, &d);
	/* From/to 0 with size 0: the value is a precomputed difference. */
	if (d.addrs_change &&
	    bpf_l4_csum_replace(skb, l4 + csum_off, 0, d.addrs, flags | BPF_F_PSEUDO_HDR))
		return DROP_ERR(BPFNET_DROP_CSUM);
	if (d.ports_change && bpf_l4_csum_replace(skb, l4 + csum_off, 0, d.ports, flags))
		return DROP_ERR(BPFNET_DROP_CSUM);

	/* The helpers may have moved the data: derive the pointers again. */
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__be16 *ports = data + l4;
	if ((void *)(ip + 1) > data_end || (void *)(ports + 2) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	ports[0] = to->sport;
	ports[1] = to->dport;
	xlate_ip_header(ip, to, &d);
	return 0;
}

/* An address in the header an ICMP error quotes: the quoted header's checksum
 * at @inner_sum covers it, and so does the ICMP checksum at @icmp_sum. */
static __always_inline int store_quoted_addr(struct __sk_buff *skb, __u32 off, __be32 from,
					     __be32 to, __u32 inner_sum, __u32 icmp_sum)
{
	if (from == to)
		return 0;
	if (bpf_l3_csum_replace(skb, inner_sum, from, to, 4) ||
	    bpf_l4_csum_replace(skb, icmp_sum, from, to, 4) ||
	    bpf_skb_store_bytes(skb, off, &to, 4, 0))
		return DROP_ERR(BPFNET_DROP_CSUM);
	return 0;
}

/*
 * ICMP errors (destination/port unreachable, fragmentation needed, time
 * exceeded) quote the packet they are about. When that packet belongs to a
 * translated flow, translate the error back: the outer addresses, the quoted
 * header's addresses and ports, and the checksums over them. The quoted L4
 * checksum is left alone (it covers data the error does not carry).
 *
 * Returns 1 if translated, 0 if not ours, or a drop (DROP_ERR).
 * On success *saddr_out and *daddr_out are the new outer addresses.
 */
struct icmp_err_hdr {
	struct icmphdr icmp;
	struct iphdr inner;
	__be16 sport;
	__be16 dport;
};

static __always_inline int xlate_icmp_error_skb(struct __sk_buff *skb, const struct pkt4 *p,
						__be32 *saddr_out, __be32 *daddr_out)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 l4 = p->l4_off;

	if (l4 > ETH_HLEN + 60)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	struct icmp_err_hdr *e = data + l4;
	if ((void *)(e + 1) > data_end)
		return 0; /* too short to quote ports: not something we can match */
	if (e->inner.ihl != 5)
		return 0; /* quoted options: leave to the stack */

	/* The quoted packet went the other way: its reverse is our key. */
	struct bpfnet_ct_key key = {
	    .saddr = e->inner.daddr,
	    .daddr = e->inner.saddr,
	    .sport = e->dport,
	    .dport = e->sport,
	    .proto = e->inner.protocol,
	};
	const struct bpfnet_ct_value *v = bpf_map_lookup_elem(&bpfnet_ct, &key);
	if (!v)
		return 0;
	struct bpfnet_ct_key to = {
	    .saddr = v->saddr, .daddr = v->daddr, .sport = v->sport, .dport = v->dport};

	__be16 old_isum = e->inner.check;
	__be32 outer_s = p->key.saddr, outer_d = p->key.daddr;
	__u32 icmp_sum = l4 + offsetof(struct icmphdr, checksum);
	__u32 inner = l4 + sizeof(struct icmphdr);
	__u32 inner_sum = inner + offsetof(struct iphdr, check);
	int err = 0;

	/* Quoted header: saddr key.daddr->to.daddr, daddr key.saddr->to.saddr. */
	err = store_quoted_addr(skb, inner + offsetof(struct iphdr, saddr), key.daddr, to.daddr,
				inner_sum, icmp_sum);
	if (!err)
		err = store_quoted_addr(skb, inner + offsetof(struct iphdr, daddr), key.saddr,
					to.saddr, inner_sum, icmp_sum);
	if (!err)
		err =
		    store_port(skb, inner + sizeof(struct iphdr), key.dport, to.dport, icmp_sum, 0);
	if (!err)
		err = store_port(skb, inner + sizeof(struct iphdr) + 2, key.sport, to.sport,
				 icmp_sum, 0);
	if (err)
		return err;

	/* The quoted header's own checksum changed; the ICMP checksum covers it. */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	e = data + l4;
	if ((void *)(e + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	__be16 new_isum = e->inner.check;
	if (bpf_l4_csum_replace(skb, icmp_sum, old_isum, new_isum, 2))
		return DROP_ERR(BPFNET_DROP_CSUM);

	/* Outer header: whoever stood for the flow's endpoints is translated too. */
	__be32 new_s = outer_s == key.saddr ? to.saddr : outer_s;
	__be32 new_d = outer_d == key.daddr ? to.daddr : outer_d;
	err = store_addr(skb, IP_SADDR_OFF, outer_s, new_s, -1, 0);
	if (!err)
		err = store_addr(skb, IP_DADDR_OFF, outer_d, new_d, -1, 0);
	if (err)
		return err;
	*saddr_out = new_s;
	*daddr_out = new_d;
	return 1;
}

#endif
