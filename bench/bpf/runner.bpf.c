// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Harness of bench/bench_endpoint: lets the kernel's BPF_PROG_TEST_RUN
 * repeat loop time a program that rewrites its packet (NAT) or needs a new
 * tuple every run (new flows). The kernel reruns a program on the same
 * buffer without resetting it, so on every run this program first restores
 * the frame from `cfg.tpl`, then (cfg.vary) sets the source port to
 * cfg.base_sport + the run's number, then tail-calls the program under test
 * (slot 0 of `target`), whose verdict becomes the run's. With an empty
 * program in the slot the same loop measures this harness's own cost, which
 * the benchmark subtracts.
 *
 * The L4 checksum is not fixed up when the port changes: the datapath never
 * verifies checksums, and its incremental updates cost the same either way.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "runner_cfg.h"

struct runner_cfg cfg = {};
__u32 run_no = 0; /* runs since userspace last reset it */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_xdp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_tc SEC(".maps");

/* Restores the frame in [data, data_end); 0, or -1 if it is shorter than the
 * template (userspace only sends frames of exactly its size). */
static __always_inline int restore(void *data, void *data_end)
{
	if (data + RUNNER_FRAME_LEN > data_end)
		return -1;
	__builtin_memcpy(data, cfg.tpl, RUNNER_FRAME_LEN);
	if (cfg.vary) {
		__u16 *sport = data + RUNNER_SPORT_OFF;
		*sport = bpf_htons((__u16)(cfg.base_sport + run_no));
	}
	run_no++;
	return 0;
}

SEC("xdp")
int runner_xdp(struct xdp_md *ctx)
{
	if (restore((void *)(long)ctx->data, (void *)(long)ctx->data_end))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &target_xdp, 0);
	return XDP_ABORTED; /* the datapath never returns it */
}

SEC("tc")
int runner_tc(struct __sk_buff *skb)
{
	if (restore((void *)(long)skb->data, (void *)(long)skb->data_end))
		return RUNNER_TC_FAILED;
	bpf_tail_call(skb, &target_tc, 0);
	return RUNNER_TC_FAILED;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
