// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet generator on XDP live frames (BPF_PROG_TEST_RUN with
 * BPF_F_TEST_XDP_LIVE_FRAMES). Userspace runs this program `repeat` times on
 * one template frame; every run rewrites the whole header (live-frame pages
 * are recycled without being reset, so a frame that was forwarded and
 * rewritten downstream would otherwise come back rewritten), picks its flow
 * from a per-CPU counter, patches the flow's field(s) and their checksums
 * incrementally, and sends the frame out of `cfg.ifindex` (bpf_redirect) or
 * back out of the test-run's ingress device (XDP_TX).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pktgen_cfg.h"

#define TPL_LEN PKTGEN_TPL_LEN

/* Offsets in the frame (no VLAN, no IP options). */
#define OFF_IP_CSUM 24
#define OFF_SADDR 26
#define OFF_SPORT 34
#define OFF_DPORT 36
#define OFF_UDP_CSUM 40
#define OFF_TCP_CSUM 50

struct pktgen_cfg cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flow_ctr SEC(".maps");

static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'), `diff` holding the ~m + m' terms.
 * Values are 16-bit words exactly as stored in the frame. */
static __always_inline __u16 csum_update(__u16 csum, __u32 diff)
{
	return csum_fold32((__u16)~csum + diff);
}

static __always_inline __u32 diff16(__u16 old, __u16 new)
{
	return (__u16)~old + (__u32) new;
}

SEC("xdp")
int bench_pktgen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + TPL_LEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg.tpl, TPL_LEN);

	__u32 zero = 0;
	__u32 *ctr = bpf_map_lookup_elem(&flow_ctr, &zero);
	if (!ctr)
		return XDP_ABORTED;
	__u32 flow = *ctr;
	__u32 next = flow + 1;
	*ctr = next >= cfg.nflows ? 0 : next;

	if (flow) {
		__u8 *p = data;
		__u16 *l4_csum = (__u16 *)(p + (cfg.l4proto == 6 ? OFF_TCP_CSUM : OFF_UDP_CSUM));
		__u32 diff;

		__u32 addr_off = 0, port_off = flow;

		if (cfg.flow_field == PKTGEN_FLOW_SADDR) {
			addr_off = flow;
			port_off = 0;
		} else if (cfg.flow_field == PKTGEN_FLOW_ADDR_PORT) {
			addr_off = flow >> 16;
			port_off = flow & 0xffff;
		}
		diff = 0;
		if (addr_off) {
			__u16 *w = (__u16 *)(p + OFF_SADDR);
			__u32 naddr = bpf_htonl(cfg.base_saddr + addr_off);
			__u16 n0 = ((__u16 *)&naddr)[0], n1 = ((__u16 *)&naddr)[1];
			__u16 *ip_csum = (__u16 *)(p + OFF_IP_CSUM);
			__u32 adiff = diff16(w[0], n0) + diff16(w[1], n1);

			w[0] = n0;
			w[1] = n1;
			*ip_csum = csum_update(*ip_csum, adiff);
			diff += adiff;
		}
		if (port_off) {
			__u16 *w = (__u16 *)(p + (cfg.flow_field == PKTGEN_FLOW_DPORT ? OFF_DPORT
										      : OFF_SPORT));
			__u16 nport = bpf_htons((__u16)(cfg.base_port + port_off));

			diff += diff16(*w, nport);
			*w = nport;
		}
		__u16 c = csum_update(*l4_csum, diff);
		if (c == 0 && cfg.l4proto == 17)
			c = 0xffff; /* UDP: a computed 0 is sent as all ones */
		*l4_csum = c;
	}

	if (cfg.ifindex)
		return bpf_redirect(cfg.ifindex, 0);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
