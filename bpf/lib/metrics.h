/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Packet/byte counters by interface, verdict reason and direction. */
#ifndef BPFNET_LIB_METRICS_H
#define BPFNET_LIB_METRICS_H

#include "lib/maps.h"

static __always_inline void metrics_count(__u32 ifindex, __u8 reason, __u8 dir, __u64 bytes)
{
	/* Forwarded packets (every packet of a busy flow) take the array; the
	 * verifier inlines a per-CPU array lookup, a hash update costs tens of ns. */
	if (reason == BPFNET_OK && ifindex < BPFNET_FAST_COUNTER_IFINDEXES) {
		struct bpfnet_if_counters *c = bpf_map_lookup_elem(&bpfnet_if_counters, &ifindex);
		if (c) {
			struct bpfnet_metrics_value *v = &c->dir[dir & 1];
			v->packets++;
			v->bytes += bytes;
			return;
		}
	}
	struct bpfnet_metrics_key key = {.ifindex = ifindex, .reason = reason, .dir = dir};
	struct bpfnet_metrics_value *val = bpf_map_lookup_elem(&bpfnet_metrics, &key);

	if (val) {
		/* Per-CPU value: no other CPU writes it, so no atomics. */
		val->packets++;
		val->bytes += bytes;
		return;
	}
	struct bpfnet_metrics_value init = {.packets = 1, .bytes = bytes};
	bpf_map_update_elem(&bpfnet_metrics, &key, &init, BPF_NOEXIST);
}

#endif
