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
	__u16 ip_len;	 /* IP total length: what a flow's byte counters add */
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

#define TCP_OPTIONS_MAX 40

/* A SYN's options, copied out of the packet (this CPU's scratch). Room for
 * 64: an index masked with TCP_OPTIONS_MASK is in bounds. */
#define TCP_OPTIONS_MASK 63
struct tcp_options {
	__u8 bytes[TCP_OPTIONS_MASK + 1];
	__u32 off; /* the walk's position: see tcp_wscale_option() */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcp_options);
} bpfnet_tcp_options_scratch SEC(".maps");

/* @off as an index into tcp_options: masked behind a barrier, since clang
 * drops a mask it can prove redundant and the verifier cannot. */
static __always_inline __u32 tcp_option_index(__u32 off)
{
	asm volatile("" : "+r"(off));
	return off & TCP_OPTIONS_MASK;
}

/*
 * The window scale option among the first @len bytes of @opts; 0 without
 * one. Options are walked as the kernel's tcp_parse_options. A subprogram
 * on a copy: walked in the packet, inline, every option length the verifier
 * cannot bound multiplied the states of the whole pipeline after it.
 */
BPF_SUBPROG int tcp_wscale_option(struct tcp_options *opts BPF_ARG_NONNULL, __u32 len)
{
	/*
	 * The position lives in memory, not in a register: read back as any
	 * value, it gives the verifier one state per step to check; tracked
	 * exactly, every option length made a path of its own (thousands).
	 */
	opts->off = 0;
	/* Every step moves at least one byte: TCP_OPTIONS_MAX steps see all. */
	for (int i = 0; i < TCP_OPTIONS_MAX; i++) {
		__u32 off = *(volatile __u32 *)&opts->off;
		if (off >= len)
			return 0;
		__u8 kind = opts->bytes[tcp_option_index(off)];
		if (kind == 0)
			return 0; /* end of options */
		if (kind == 1) {
			opts->off = off + 1; /* no-op */
			continue;
		}
		if (off + 3 > len)
			return 0; /* truncated */
		__u8 size = opts->bytes[tcp_option_index(off + 1)];
		__u8 shift = opts->bytes[tcp_option_index(off + 2)];
		if (kind == 3 && size == 3)
			return shift > 14 ? 14 : shift;
		if (size < 2)
			return 0;
		opts->off = off + size;
	}
	return 0;
}

/* The window scale of a SYN whose @len option bytes start at @opt. */
static __always_inline __u8 tcp_syn_wscale(const __u8 *opt, const void *data_end, __u32 len)
{
	__u32 zero = 0;
	struct tcp_options *opts = bpf_map_lookup_elem(&bpfnet_tcp_options_scratch, &zero);

	if (!opts)
		return 0;
	/* Byte by byte, as far as the packet goes: the walk stops at the end. */
	for (int i = 0; i < TCP_OPTIONS_MAX; i++) {
		if (i >= len || (const void *)(opt + i + 1) > data_end) {
			len = i;
			break;
		}
		opts->bytes[i] = opt[i];
	}
	return (__u8)tcp_wscale_option(opts, len);
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
		    tcp_syn_wscale((const __u8 *)(tcp + 1), data_end, hdr - sizeof(*tcp));
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
	p->ip_len = bpf_ntohs(ip->tot_len);
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
