/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* IPv4 + L4 parsing into the conntrack tuple. Works on XDP and tc alike. */
#ifndef BPFNET_LIB_L4_H
#define BPFNET_LIB_L4_H

#include <linux/tcp.h>
#include <linux/udp.h>

#include "lib/results.h"

/* From linux/icmp.h, which drags in libc headers BPF cannot use. */
#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	union {
		struct {
			__be16 id;
			__be16 sequence;
		} echo;
		__be32 gateway;
	} un;
};

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

#define IP_OFFSET_MASK 0x1fff

/* What the NAT and conntrack code needs to know about one IPv4 packet. */
struct pkt4 {
	struct bpfnet_ct_key key; /* tuple as in the packet */
	__u32 l4_off;		  /* from the start of the frame */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 icmp_error; /* ICMP destination unreachable / time exceeded */
	__u8 frag;	 /* enum pkt_frag (lib/frag.h fills it) */
	__u32 tcp_seq;	 /* host order, as the rest of the TCP fields */
	__u32 tcp_ack;
	__u16 tcp_win;
	__u16 tcp_len;	 /* payload bytes */
	__u8 tcp_wscale; /* a SYN's window scale option; 0 without one */
};

/* pkt4.frag: where the packet stands in a fragmented datagram. */
enum pkt_frag {
	PKT_FRAG_NONE = 0,  /* a whole datagram */
	PKT_FRAG_FIRST = 1, /* offset 0, more to come: carries the L4 header */
	PKT_FRAG_LATER = 2, /* no L4 header: its ports come from bpfnet_frags */
};

enum parse_result {
	PARSE_OK = 0,
	PARSE_NOT_IPV4 = 1, /* leave alone */
	PARSE_NO_PORTS = 2, /* fragment or protocol without ports: no NAT */
};

static __always_inline int icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB;
}

/* TCP and UDP headers both open with the source and destination ports;
 * @l4 is known to hold them. */
static __always_inline int parse_ports(const void *l4, struct pkt4 *p)
{
	const struct udphdr *ports = l4;
	p->key.sport = ports->source;
	p->key.dport = ports->dest;
	return PARSE_OK;
}

/* The window scale option of a SYN whose options are the @len bytes at
 * @opt; 0 without one. Options are walked as the kernel's tcp_parse_options. */
static __always_inline __u8 tcp_wscale_option(const __u8 *opt, const void *data_end, __u32 len)
{
	__u32 off = 0;

	for (int i = 0; i < 20 && off < len && off < 40; i++) {
		const __u8 *o = opt + off;
		if ((const void *)(o + 1) > data_end || o[0] == 0)
			return 0; /* truncated, or end of options */
		if (o[0] == 1) {
			off++; /* no-op */
			continue;
		}
		if ((const void *)(o + 3) > data_end)
			return 0;
		if (o[0] == 3 && o[1] == 3)
			return o[2] > 14 ? 14 : o[2];
		if (o[1] < 2)
			return 0;
		off += o[1];
	}
	return 0;
}

/* TCP's flags, sequence space and (for a SYN) window scale. */
static __always_inline int parse_tcp(const struct iphdr *ip, const struct tcphdr *tcp,
				     const void *data_end, struct pkt4 *p)
{
	__u32 hdr = tcp->doff * 4, ip_len = bpf_ntohs(ip->tot_len), l3 = ip->ihl * 4;

	p->tcp_flags = ((const __u8 *)tcp)[13];
	p->tcp_seq = bpf_ntohl(tcp->seq);
	p->tcp_ack = bpf_ntohl(tcp->ack_seq);
	p->tcp_win = bpf_ntohs(tcp->window);
	if (hdr >= sizeof(*tcp) && ip_len > l3 + hdr)
		p->tcp_len = (__u16)(ip_len - l3 - hdr);
	if ((p->tcp_flags & TCP_FLAG_SYN) && hdr > sizeof(*tcp))
		p->tcp_wscale =
		    tcp_wscale_option((const __u8 *)(tcp + 1), data_end, hdr - sizeof(*tcp));
	return parse_ports(tcp, p);
}

/*
 * Fills @p from the frame in [data, data_end). Returns a parse_result or a
 * drop (DROP_ERR) for malformed headers.
 */
static __always_inline int parse_pkt4(void *data, void *data_end, struct pkt4 *p)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(eth + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PARSE_NOT_IPV4;
	if ((void *)(ip + 1) > data_end)
		return DROP_ERR(BPFNET_DROP_MALFORMED);
	if (ip->version != 4 || ip->ihl < 5)
		return DROP_ERR(BPFNET_DROP_MALFORMED);

	p->key.saddr = ip->saddr;
	p->key.daddr = ip->daddr;
	p->key.proto = ip->protocol;
	p->l4_off = sizeof(*eth) + ip->ihl * 4;
	if (ip->frag_off & bpf_htons(IP_OFFSET_MASK))
		return PARSE_NO_PORTS; /* a later fragment carries no ports */

	void *l4 = data + p->l4_off;
	switch (ip->protocol) {
	case IPPROTO_TCP:
		if (l4 + sizeof(struct tcphdr) > data_end)
			return DROP_ERR(BPFNET_DROP_MALFORMED);
		return parse_tcp(ip, l4, data_end, p);
	case IPPROTO_UDP:
		if (l4 + sizeof(struct udphdr) > data_end)
			return DROP_ERR(BPFNET_DROP_MALFORMED);
		return parse_ports(l4, p);
	case IPPROTO_ICMP: {
		struct icmphdr *icmp = l4;
		if ((void *)(icmp + 1) > data_end)
			return DROP_ERR(BPFNET_DROP_MALFORMED);
		p->icmp_type = icmp->type;
		if (icmp->type == ICMP_ECHO) {
			p->key.sport = icmp->un.echo.id;
			return PARSE_OK;
		}
		if (icmp->type == ICMP_ECHOREPLY) {
			p->key.dport = icmp->un.echo.id;
			return PARSE_OK;
		}
		p->icmp_error = icmp_is_error(icmp->type);
		return PARSE_NO_PORTS;
	}
	default:
		return PARSE_NO_PORTS;
	}
}

#endif
