// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Receive-side counter: counts packets and bytes per CPU, then drops,
 * passes, or redirects them out of another interface (`redirect_ifindex`:
 * a forwarding hop that does nothing else, for reference runs). Optionally copies the first
 * `capture_max` frames (up to CAPTURE_LEN bytes each) into a queue map, so tests can check the
 * bytes a generator put on the wire.
 *
 * bench_xdpcount is the XDP program; bench_tccount the same count at tc
 * ingress, where a packet already is an skb: the receiver a real container
 * has (its stack allocates the skb an XDP counter never needs).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define CAPTURE_LEN 256 /* the mask in bench_xdpcount() assumes 256 */

struct counters {
	__u64 packets;
	__u64 bytes;
};

struct capture {
	__u32 len; /* length of the whole frame */
	__u32 caplen;
	__u8 data[CAPTURE_LEN];
};

const volatile __u32 verdict = XDP_DROP;
const volatile __u32 capture_on = 0;
const volatile __u32 redirect_ifindex = 0; /* non-zero: bpf_redirect there */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct counters);
} counts SEC(".maps");

/* Sized by userspace (bpf_map__set_max_entries) before load. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 16);
	__type(value, struct capture);
} captures SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct capture);
} capture_scratch SEC(".maps");

static __always_inline void count(__u64 len)
{
	__u32 zero = 0;
	struct counters *c = bpf_map_lookup_elem(&counts, &zero);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

SEC("xdp")
int bench_xdpcount(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 len = ctx->data_end - ctx->data;

	count(len);
	if (capture_on) {
		struct capture *cap = bpf_map_lookup_elem(&capture_scratch, &zero);
		if (cap) {
			__u32 n = len > CAPTURE_LEN ? CAPTURE_LEN : (__u32)len;

			/* Bound n to [1, CAPTURE_LEN] where the compiler cannot
			 * rewrite it, so the verifier sees the bounds. */
			asm volatile("%0 += -1; %0 &= 0xff; %0 += 1" : "+r"(n));
			cap->len = (__u32)len;
			cap->caplen = n;
			if (bpf_xdp_load_bytes(ctx, 0, cap->data, n) == 0)
				bpf_map_push_elem(&captures, cap, 0); /* fails once full */
		}
	}
	if (redirect_ifindex)
		return bpf_redirect(redirect_ifindex, 0);
	return verdict;
}

/* tc ingress: count, then drop (TC_ACT_SHOT), pass (TC_ACT_OK) or, with
 * `redirect_ifindex`, bpf_redirect_peer() into that veth's peer: the hop of a
 * path that builds the skb at its first interface and delivers it straight
 * into a container's namespace (bpfnet's tc uplink path, doing nothing else).
 * `verdict` holds the XDP action userspace chose, mapped here. */
SEC("tc")
int bench_tccount(struct __sk_buff *skb)
{
	count(skb->len);
	if (redirect_ifindex)
		return bpf_redirect_peer(redirect_ifindex, 0);
	return verdict == XDP_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
