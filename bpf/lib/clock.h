/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The time conntrack and affinity deadlines are written in: bpf_ktime_get_ns()
 * (CLOCK_MONOTONIC, as the daemon's GC reads it), but read at most once per
 * jiffy and CPU. bpf_ktime_get_ns() is a helper call that reads the clock
 * source (about 30 ns on a VM's kvm-clock, as much as the rest of an
 * established flow's path), while bpf_jiffies64() is inlined by the verifier
 * into one load. Deadlines are seconds long, so a time up to a tick old
 * (1-10 ms) is as good as a fresh one.
 */
#ifndef BPFNET_LIB_CLOCK_H
#define BPFNET_LIB_CLOCK_H

#include "lib/common.h"

struct clock_cache {
	__u64 jiffies; /* when ns was read */
	__u64 ns;
};

/* Per CPU, not pinned: a cache that any program may refill. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_cache);
} bpfnet_clock SEC(".maps");

/* bpf_ktime_get_ns() as it was at most a tick ago. */
static __always_inline __u64 coarse_now_ns(void)
{
	__u32 zero = 0;
	struct clock_cache *c = bpf_map_lookup_elem(&bpfnet_clock, &zero);
	__u64 jiffies = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_ns();
	if (c->jiffies != jiffies) {
		c->jiffies = jiffies;
		c->ns = bpf_ktime_get_ns();
	}
	return c->ns;
}

#endif
