/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Monitor events (bpfnetctl monitor): a drop or a sampled forwarded packet
 * becomes a struct bpfnet_event in the ring buffer bpfnet_events, with the
 * packet's first BPFNET_EVENT_CAPTURE bytes.
 *
 * Cost, as in Cilium's monitor: while nobody listens (bpfnet_monitor[0]
 * .subscribers == 0, what bpfnetd keeps when no monitor is connected) the
 * verdict site pays one array lookup (inlined by the verifier) and a branch.
 * Everything else lives in the global functions below, which the verifier
 * checks once on their own instead of on every path that reaches a verdict
 * (bpfnet_from_container's paths come close to its 1M-instruction limit).
 *
 * A per-CPU token bucket (bpfnet_mon_cpu) bounds the events a CPU writes
 * per second, so that a drop flood costs the datapath a bounded share of
 * its rate; what it skips, and what a full ring refuses, is counted in
 * bpfnet_mon_cpu.lost, which the monitor reports.
 */
#ifndef BPFNET_LIB_EVENTS_H
#define BPFNET_LIB_EVENTS_H

#include "lib/clock.h"
#include "lib/maps.h"

#define NSEC_PER_SEC 1000000000ULL

/* What a verdict site packs into one argument of the global functions
 * (they take at most five, the context among them). */
#define EVENT_META(type, reason, dir, hook)                                                        \
	((__u32)(type) | ((__u32)(reason) << 8) | ((__u32)(dir) << 16) | ((__u32)(hook) << 24))

/* The event types someone listens to now; 0 (the usual case) when nobody does. */
static __always_inline __u32 monitor_subscribers(void)
{
	__u32 zero = 0;
	const struct bpfnet_monitor *m = bpf_map_lookup_elem(&bpfnet_monitor, &zero);

	return m ? m->subscribers : 0;
}

/* Whether this CPU may send one more event now (takes its token). */
static __always_inline int event_take_token(const struct bpfnet_monitor *m,
					    struct bpfnet_monitor_cpu *c, __u64 now)
{
	__u64 rate = m->rate ? m->rate : BPFNET_EVENT_DEFAULT_RATE;
	__u64 burst = m->burst ? m->burst : rate;
	__u64 add = (now - c->refill_ns) * rate / NSEC_PER_SEC;

	if (add) {
		/* Whole tokens only: the fraction waits for the next event. */
		c->tokens = c->tokens + add > burst ? burst : c->tokens + add;
		c->refill_ns = now;
	}
	if (!c->tokens)
		return 0;
	c->tokens--;
	return 1;
}

/* The ring record of an event about a packet of @len bytes that arrived on
 * @ifindex, its header filled, its capture still empty; NULL when it is not
 * to be sent (type not listened to, not sampled, over the rate, ring full:
 * the last two counted as lost). */
static __always_inline struct bpfnet_event *event_reserve(__u32 meta, __u32 ifindex,
							  __u32 peer_ifindex, __u32 len)
{
	__u32 zero = 0;
	const struct bpfnet_monitor *m = bpf_map_lookup_elem(&bpfnet_monitor, &zero);
	struct bpfnet_monitor_cpu *c = bpf_map_lookup_elem(&bpfnet_mon_cpu, &zero);
	__u8 type = meta & 0xff;

	if (!m || !c || !(m->subscribers & (1U << (type & 31))))
		return NULL;
	if (type == BPFNET_EVENT_TRACE) {
		if (!m->trace_every || ++c->trace_count % m->trace_every)
			return NULL;
	}
	/* The bucket refills by the coarse clock (one load per jiffy): under a
	 * flood most drops stop here, and a bpf_ktime_get_ns() call for each
	 * cost as much again as the rest of the drop path. */
	if (!event_take_token(m, c, coarse_now_ns())) {
		c->lost++;
		return NULL;
	}
	struct bpfnet_event *e = bpf_ringbuf_reserve(&bpfnet_events, sizeof(*e), 0);
	if (!e) {
		c->lost++;
		return NULL;
	}
	e->time_ns = bpf_ktime_get_ns();
	e->type = type;
	e->reason = (meta >> 8) & 0xff;
	e->dir = (meta >> 16) & 0xff;
	e->hook = meta >> 24;
	e->pad = 0;
	e->pad2 = 0;
	e->ifindex = ifindex;
	e->peer_ifindex = peer_ifindex;
	e->orig_len = len;
	e->cap_len = 0;
	/* The ring is user-readable: no stale bytes past the capture. */
	__builtin_memset(e->data, 0, sizeof(e->data));
	return e;
}

/* Keeps clang from folding bounds tests on @var into one test on a copy
 * (cap - 1 <= 127), which leaves the register the helper gets unbounded to
 * the verifier. */
#define EVENT_BARRIER_VAR(var) asm volatile("" : "+r"(var))

/* The capture length for a packet of @len bytes: 1 to BPFNET_EVENT_CAPTURE,
 * or 0 (nothing to capture). */
static __always_inline __u64 event_cap_len(__u32 len)
{
	__u64 cap = len; /* 64 bits: a 32-bit one is tested on a zero-extended copy */

	EVENT_BARRIER_VAR(cap);
	if (cap > BPFNET_EVENT_CAPTURE)
		cap = BPFNET_EVENT_CAPTURE;
	EVENT_BARRIER_VAR(cap);
	return cap;
}

/* The body of both hooks' event functions: @load is the hook's
 * bpf_*_load_bytes helper for @ctx, @len the packet's length. */
#define EVENT_SEND(ctx, load, len, ifindex, peer_ifindex, meta)                                    \
	({                                                                                         \
		__u32 _len = (len);                                                                \
		__u64 _cap = event_cap_len(_len);                                                  \
		struct bpfnet_event *_e = event_reserve(meta, ifindex, peer_ifindex, _len);        \
		if (_e && _cap && !load(ctx, 0, _e->data, _cap))                                   \
			_e->cap_len = _cap;                                                        \
		if (_e)                                                                            \
			bpf_ringbuf_submit(_e, 0);                                                 \
		!!_e;                                                                              \
	})

/* tc: an event about @skb, which arrived on @ifindex (delivered to @peer_ifindex). */
__noinline int bpfnet_event_skb(struct __sk_buff *skb, __u32 ifindex, __u32 peer_ifindex,
				__u32 meta)
{
	return EVENT_SEND(skb, bpf_skb_load_bytes, skb->len, ifindex, peer_ifindex, meta);
}

/* XDP: the same about the frame in @ctx. */
__noinline int bpfnet_event_xdp(struct xdp_md *ctx, __u32 ifindex, __u32 peer_ifindex, __u32 meta)
{
	return EVENT_SEND(ctx, bpf_xdp_load_bytes, ctx->data_end - ctx->data, ifindex, peer_ifindex,
			  meta);
}

/* At a verdict site: whether a result (a drop, or forwarded when @is_drop is
 * 0) is an event someone listens to. The only cost while nobody does. */
static __always_inline int monitor_wants(int is_drop)
{
	__u32 subscribers = monitor_subscribers();

	if (__builtin_expect(!subscribers, 1))
		return 0;
	return subscribers & (is_drop ? BPFNET_MON_F_DROP : BPFNET_MON_F_TRACE);
}

#endif
