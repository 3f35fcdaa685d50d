/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow events (bpfnetctl monitor --type flow): the conntrack's creation and
 * removal of a flow (lib/conntrack.h) become events with the flow's tuple,
 * translation and, at the end, both directions' counters. bpfnetd adds the
 * flows its GC removes to the same stream.
 *
 * As for drops (lib/events.h): while nobody listens to flows a site pays one
 * array lookup and a branch; the rest is a global function, verified once,
 * under the same per-CPU rate limit.
 */
#ifndef BPFNET_LIB_FLOW_EVENTS_H
#define BPFNET_LIB_FLOW_EVENTS_H

#include "lib/common.h"
#include "lib/events.h"

/* Whether someone listens to flow events. */
static __always_inline int monitor_wants_flows(void)
{
	return __builtin_expect(monitor_subscribers() & BPFNET_MON_F_FLOW, 0);
}

static __always_inline void flow_record_counters(struct bpfnet_flow_record *r,
						 const struct bpfnet_ct_value *orig,
						 const struct bpfnet_ct_value *reply)
{
	if (orig) {
		r->packets_orig = orig->packets;
		r->bytes_orig = orig->bytes;
		r->state_orig = orig->state;
		r->flags = orig->flags;
		r->created_ns = orig->created_ns;
	}
	if (reply) {
		r->packets_reply = reply->packets;
		r->bytes_reply = reply->bytes;
		r->state_reply = reply->state;
		if (!orig) {
			r->flags = reply->flags & ~BPFNET_CT_F_REPLY;
			r->created_ns = reply->created_ns;
		}
	}
}

/*
 * A flow event (@phase: enum bpfnet_flow_phase) about the flow of @key, its
 * entry @v and the other half @peer (NULL: gone). Either half may be @v:
 * the record is told from the original direction's side. Returns whether an
 * event was sent.
 */
BPF_SUBPROG int bpfnet_event_flow(const struct bpfnet_ct_key *key BPF_ARG_NONNULL,
				  const struct bpfnet_ct_value *v BPF_ARG_NONNULL,
				  const struct bpfnet_ct_value *peer, __u32 phase)
{
	struct bpfnet_event *e = event_reserve(EVENT_META(BPFNET_EVENT_FLOW, 0, 0, 0), 0, 0, 0);
	if (!e)
		return 0;
	struct bpfnet_flow_record *r = (struct bpfnet_flow_record *)e->data;

	r->phase = phase;
	if (v->flags & BPFNET_CT_F_REPLY) {
		/* The reply direction's key is the reverse of orig's rewrite. */
		r->orig = v->peer;
		r->xlat.saddr = key->daddr;
		r->xlat.daddr = key->saddr;
		r->xlat.sport = key->dport;
		r->xlat.dport = key->sport;
		r->xlat.proto = key->proto;
		flow_record_counters(r, peer, v);
	} else {
		r->orig = *key;
		r->xlat.saddr = v->saddr;
		r->xlat.daddr = v->daddr;
		r->xlat.sport = v->sport;
		r->xlat.dport = v->dport;
		r->xlat.proto = key->proto;
		flow_record_counters(r, v, peer);
	}
	r->orig.pad[0] = r->orig.pad[1] = r->orig.pad[2] = 0;
	bpf_ringbuf_submit(e, 0);
	return 1;
}

#endif
