/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking for NATed flows: two entries per flow (one per
 * direction), each holding the tuple its packets are rewritten to and its
 * direction's state. The two are created together (the first rolled back if
 * the second fails) and deleted together; a flow lives while either entry
 * has not expired, and an expired flow is absent to every lookup, whether or
 * not the daemon's GC has reclaimed it yet.
 *
 * The map is a preallocated hash, not an LRU: nothing established is ever
 * evicted. When it is full, a new flow displaces an unreplied one among the
 * latest flows this CPU created (bpfnet_ct_recent: the kernel conntrack's
 * early drop), or is refused (DROP_CT_FULL).
 */
#ifndef BPFNET_LIB_CONNTRACK_H
#define BPFNET_LIB_CONNTRACK_H

#include "lib/clock.h"
#include "lib/ct_tcp.h"
#include "lib/flow_events.h"
#include "lib/l4.h"
#include "lib/maps.h"
#include "lib/results.h"

#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef E2BIG
#define E2BIG 7
#endif

/* Keys of the flows this CPU created last, oldest first from tail: where a
 * new flow looks for one to displace when the conntrack is full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFNET_CT_RECENT_SLOTS);
	__type(key, __u32);
	__type(value, struct bpfnet_ct_key);
} bpfnet_ct_recent SEC(".maps");

struct ct_recent_cursor {
	__u32 head;	 /* slots written */
	__u32 tail;	 /* slots looked at */
	__u32 full;	 /* the last insert found the conntrack full */
	__u32 next_peer; /* the CPU whose ring ct_early_drop() looks at next */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_recent_cursor);
} bpfnet_ct_recent_cursor SEC(".maps");

/* The two entries of a flow being created: off the stack, which the
 * programs that create flows have little of left. */
struct ct_new_flow {
	struct bpfnet_ct_value fwd;
	struct bpfnet_ct_value rev;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ct_new_flow);
} bpfnet_ct_scratch SEC(".maps");

static __always_inline void ct_reverse(const struct bpfnet_ct_key *k, struct bpfnet_ct_key *r)
{
	r->saddr = k->daddr;
	r->daddr = k->saddr;
	r->sport = k->dport;
	r->dport = k->sport;
	r->proto = k->proto;
	r->pad[0] = r->pad[1] = r->pad[2] = 0;
}

static __always_inline int ct_key_equal(const struct bpfnet_ct_key *a,
					const struct bpfnet_ct_key *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport &&
	       a->dport == b->dport && a->proto == b->proto;
}

static __always_inline __u64 ct_timeout(__u8 proto, __u8 state)
{
	if (state == BPFNET_CT_NEW)
		return BPFNET_CT_TIMEOUT_NEW;
	if (proto == IPPROTO_TCP)
		return state == BPFNET_CT_CLOSING ? BPFNET_CT_TIMEOUT_TCP_CLOSE
						  : BPFNET_CT_TIMEOUT_TCP_EST;
	if (proto == IPPROTO_ICMP)
		return BPFNET_CT_TIMEOUT_ICMP;
	return BPFNET_CT_TIMEOUT_UDP;
}

/* The tuple @v rewrites its packets to (as a key: the fields are the same). */
static __always_inline void ct_rewrite_of(const struct bpfnet_ct_value *v, struct bpfnet_ct_key *to)
{
	to->saddr = v->saddr;
	to->daddr = v->daddr;
	to->sport = v->sport;
	to->dport = v->dport;
	to->proto = v->peer.proto;
}

static __always_inline struct bpfnet_ct_value *ct_lookup(const struct bpfnet_ct_key *k)
{
	return bpf_map_lookup_elem(&bpfnet_ct, k);
}

/* @peer if it is the other half of @key's flow. */
static __always_inline struct bpfnet_ct_value *ct_own_peer(const struct bpfnet_ct_key *key,
							   struct bpfnet_ct_value *peer)
{
	return peer && ct_key_equal(&peer->peer, key) ? peer : 0;
}

/* Whether @key's flow (its entry @v, the other half @peer) is over: both
 * halves past their deadline, or the other one gone. */
static __always_inline int ct_flow_expired(const struct bpfnet_ct_key *key,
					   const struct bpfnet_ct_value *v,
					   const struct bpfnet_ct_value *peer, __u64 now)
{
	return v->expires_ns <= now &&
	       (!peer || !ct_key_equal(&peer->peer, key) || peer->expires_ns <= now);
}

/* Deletes both halves of @key's flow (@v its entry); the other half only if
 * it still points back. @why: the flow event's enum bpfnet_flow_phase. A
 * global function: verified once, not on each of its callers' paths. */
BPF_SUBPROG int ct_delete_flow(const struct bpfnet_ct_key *key BPF_ARG_NONNULL,
			       const struct bpfnet_ct_value *v BPF_ARG_NONNULL, __u32 why)
{
	struct bpfnet_ct_key peer_key = v->peer;
	const struct bpfnet_ct_value *peer = ct_own_peer(key, ct_lookup(&peer_key));

	if (monitor_wants_flows())
		bpfnet_event_flow(key, v, peer, why);
	if (peer)
		bpf_map_delete_elem(&bpfnet_ct, &peer_key);
	bpf_map_delete_elem(&bpfnet_ct, key);
	return 0;
}

/* A TCP SYN on a closed flow starts a new connection: this direction closed
 * and the other one not established (a half-closed flow is kept). */
static __always_inline int ct_is_stale_for(const struct bpfnet_ct_value *v,
					   const struct bpfnet_ct_value *peer, const struct pkt4 *p)
{
	return p->key.proto == IPPROTO_TCP && v->state == BPFNET_CT_CLOSING &&
	       (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN &&
	       (!peer || peer->state != BPFNET_CT_ESTABLISHED);
}

static __always_inline void ct_set_state(struct bpfnet_ct_value *v, __u8 state, __u64 now)
{
	v->state = state;
	v->expires_ns = now + ct_timeout(v->peer.proto, state);
}

/*
 * Advances @v's direction for @p, its packet: TCP per direction (a FIN
 * closes only its own; an ACK without SYN establishes it; a RST closes both
 * if it is in the window, else it is dropped and the flow kept); other
 * protocols are established by a reply. Returns 0 or a drop.
 */
static __always_inline int ct_observe(const struct bpfnet_ct_key *key, struct bpfnet_ct_value *v,
				      const struct pkt4 *p, __u64 now)
{
	__u8 state = v->state;

	if (p->key.proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCP_FLAG_RST) {
			struct bpfnet_ct_value *peer = ct_own_peer(key, ct_lookup(&v->peer));
			if (!ct_tcp_rst_in_window(v, peer, p))
				return DROP_ERR(BPFNET_DROP_TCP_RST_WINDOW);
			/* The peer may never speak again after a RST. */
			if (peer)
				ct_set_state(peer, BPFNET_CT_CLOSING, now);
			ct_set_state(v, BPFNET_CT_CLOSING, now);
			return 0;
		}
		ct_tcp_track(v, p);
		if (p->tcp_flags & TCP_FLAG_FIN)
			state = BPFNET_CT_CLOSING;
		else if (state == BPFNET_CT_NEW &&
			 (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_ACK)
			state = BPFNET_CT_ESTABLISHED;
	} else if (v->flags & BPFNET_CT_F_REPLY) {
		state = BPFNET_CT_ESTABLISHED;
	}
	__u64 expires = now + ct_timeout(p->key.proto, state);
	/* Rewrite the shared entry at most about once a second per flow. */
	if (state != v->state || expires > v->expires_ns + 1000000000ULL) {
		v->state = state;
		v->expires_ns = expires;
	}
	return 0;
}

/* Counts @p, a packet forwarded in @v's direction (bpfnetctl flows). */
static __always_inline void ct_count(struct bpfnet_ct_value *v, const struct pkt4 *p)
{
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, p->ip_len);
}

/*
 * Finds @p's flow: 0 with *@out its entry, advanced for @p (ct_observe), or
 * *@out NULL when there is no live one; or a drop. An expired flow, or a
 * closed one that a TCP SYN reopens, is deleted (both halves) and reported
 * absent, so the caller sets the flow up anew.
 */
static __always_inline int ct_lookup_live(const struct pkt4 *p, struct bpfnet_ct_value **out)
{
	struct bpfnet_ct_value *ct = ct_lookup(&p->key);

	*out = 0;
	if (!ct)
		return 0;
	__u64 now = coarse_now_ns();
	if (ct->expires_ns <= now ||
	    (ct->state == BPFNET_CT_CLOSING && (p->tcp_flags & TCP_FLAG_SYN))) {
		struct bpfnet_ct_value *peer = ct_own_peer(&p->key, ct_lookup(&ct->peer));
		int expired = ct_flow_expired(&p->key, ct, peer, now);
		if (expired || ct_is_stale_for(ct, peer, p)) {
			ct_delete_flow(&p->key, ct,
				       expired ? BPFNET_FLOW_END_EXPIRED
					       : BPFNET_FLOW_END_REOPENED);
			return 0;
		}
	}
	int rc = ct_observe(&p->key, ct, p, now);
	if (rc)
		return rc;
	ct_count(ct, p);
	*out = ct;
	return 0;
}

/* Whether the flow of @key (its entry @v) may make room for a new one: over,
 * or neither direction established (unreplied; a TCP handshake not done). */
static __always_inline int ct_displaceable(const struct bpfnet_ct_key *key,
					   const struct bpfnet_ct_value *v, __u64 now)
{
	const struct bpfnet_ct_value *peer = ct_own_peer(key, ct_lookup(&v->peer));
	if (ct_flow_expired(key, v, peer, now))
		return 1;
	return v->state != BPFNET_CT_ESTABLISHED && (!peer || peer->state != BPFNET_CT_ESTABLISHED);
}

static __always_inline struct ct_recent_cursor *ct_recent_cursor(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&bpfnet_ct_recent_cursor, &zero);
}

/* Remembers @key as this CPU's latest new flow. */
static __always_inline void ct_recent_push(struct ct_recent_cursor *c,
					   const struct bpfnet_ct_key *key)
{
	__u32 slot = c->head & (BPFNET_CT_RECENT_SLOTS - 1);
	struct bpfnet_ct_key *k = bpf_map_lookup_elem(&bpfnet_ct_recent, &slot);
	if (!k)
		return;
	*k = *key;
	c->head++;
}

/*
 * Deletes the oldest displaceable flow among the next few of those @cpu
 * created (@c its cursor; the kernel conntrack's early drop, which gives up
 * unassured flows only). Returns whether a flow was deleted. Another CPU's
 * cursor may move under us: a slot looked at twice or skipped costs nothing,
 * since the flow itself is looked up and judged.
 */
static __always_inline int ct_early_drop_ring(struct ct_recent_cursor *c, __u32 cpu, __u64 now)
{
	for (int i = 0; i < BPFNET_CT_EARLY_DROP_TRIES; i++) {
		__u32 head = *(volatile __u32 *)&c->head, tail = c->tail;
		if (tail == head)
			return 0;
		if (head - tail > BPFNET_CT_RECENT_SLOTS)
			tail = head - BPFNET_CT_RECENT_SLOTS; /* overwritten */
		c->tail = tail + 1;
		__u32 slot = tail & (BPFNET_CT_RECENT_SLOTS - 1);
		const struct bpfnet_ct_key *k =
		    bpf_map_lookup_percpu_elem(&bpfnet_ct_recent, &slot, cpu);
		if (!k)
			continue;
		struct bpfnet_ct_key key = *k;
		const struct bpfnet_ct_value *v = ct_lookup(&key);
		if (v && ct_displaceable(&key, v, now)) {
			ct_delete_flow(&key, v, BPFNET_FLOW_END_DISPLACED);
			return 1;
		}
	}
	return 0;
}

/*
 * The conntrack is full: makes room from this CPU's recent flows (@c its
 * cursor), else from another CPU's, in turn. A flood arrives on the CPUs of
 * its receive queues; a connection opened on another one must still find
 * the flood's flows to displace. Returns whether a flow was deleted.
 */
BPF_SUBPROG int ct_early_drop(struct ct_recent_cursor *c BPF_ARG_NONNULL, __u64 now)
{
	__u32 self = bpf_get_smp_processor_id(), zero = 0;

	if (ct_early_drop_ring(c, self, now))
		return 1;
	__u32 cpu = c->next_peer;
	if (cpu == self)
		cpu++;
	struct ct_recent_cursor *peer =
	    bpf_map_lookup_percpu_elem(&bpfnet_ct_recent_cursor, &zero, cpu);
	if (!peer) { /* past the last CPU: from the first again */
		cpu = self ? 0 : 1;
		peer = bpf_map_lookup_percpu_elem(&bpfnet_ct_recent_cursor, &zero, cpu);
	}
	c->next_peer = cpu + 1;
	return peer && ct_early_drop_ring(peer, cpu, now);
}

/*
 * Inserts both entries of a flow, the reverse first: it must be new
 * (BPF_NOEXIST), which is how a source port taken by another flow is
 * detected, unless it is the orphaned reverse half of this very flow or an
 * expired flow's. Returns 0 or an error (-EEXIST, -E2BIG when full).
 */
static __always_inline int ct_insert_pair(const struct bpfnet_ct_key *fwd_key,
					  const struct bpfnet_ct_value *fv,
					  const struct bpfnet_ct_key *rev_key,
					  const struct bpfnet_ct_value *rv, __u64 now)
{
	int err = bpf_map_update_elem(&bpfnet_ct, rev_key, rv, BPF_NOEXIST);
	if (err == -EEXIST) {
		const struct bpfnet_ct_value *old = ct_lookup(rev_key);
		if (old && !ct_key_equal(&old->peer, fwd_key)) {
			const struct bpfnet_ct_value *old_peer =
			    ct_own_peer(rev_key, ct_lookup(&old->peer));
			if (!ct_flow_expired(rev_key, old, old_peer, now))
				return err;
			ct_delete_flow(rev_key, old, BPFNET_FLOW_END_EXPIRED);
		}
		err = bpf_map_update_elem(&bpfnet_ct, rev_key, rv, BPF_ANY);
	}
	if (err)
		return err;
	err = bpf_map_update_elem(&bpfnet_ct, fwd_key, fv, BPF_ANY);
	if (err)
		bpf_map_delete_elem(&bpfnet_ct, rev_key);
	return err;
}

/*
 * Creates both entries of a flow: @fwd (the packet's own direction, rewritten
 * to @xlat, delivered to @dest: its cache starts filled) and its reverse.
 * Returns 0, or -EEXIST when the reverse tuple is taken, -E2BIG when the
 * conntrack is full of flows that may not be displaced, or another error.
 */
static __always_inline int ct_create(const struct bpfnet_ct_key *fwd,
				     const struct bpfnet_ct_key *xlat, __u8 flags,
				     const struct pkt4 *p, const struct bpfnet_ct_dest *dest)
{
	struct bpfnet_ct_key rev_key, fwd_key = *fwd;
	__u64 now = coarse_now_ns();
	__u8 state = BPFNET_CT_NEW;
	__u32 zero = 0;
	struct ct_new_flow *nf = bpf_map_lookup_elem(&bpfnet_ct_scratch, &zero);

	if (!nf)
		return -E2BIG;
	struct bpfnet_ct_value *fv = &nf->fwd, *rv = &nf->rev;
	__builtin_memset(nf, 0, sizeof(*nf));
	fwd_key.pad[0] = fwd_key.pad[1] = fwd_key.pad[2] = 0;
	ct_reverse(xlat, &rev_key);
	if (p->key.proto == IPPROTO_TCP && (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		state = BPFNET_CT_CLOSING;

	/* Reply direction: rewrite back to the reverse of the original tuple. */
	rv->saddr = fwd->daddr;
	rv->daddr = fwd->saddr;
	rv->sport = fwd->dport;
	rv->dport = fwd->sport;
	rv->flags = flags | BPFNET_CT_F_REPLY;
	rv->peer = fwd_key;
	rv->state = state;
	rv->expires_ns = now + ct_timeout(p->key.proto, state);
	rv->created_ns = now;

	fv->saddr = xlat->saddr;
	fv->daddr = xlat->daddr;
	fv->sport = xlat->sport;
	fv->dport = xlat->dport;
	fv->flags = flags;
	fv->peer = rev_key;
	fv->state = state;
	fv->expires_ns = rv->expires_ns;
	fv->dest = *dest;
	fv->created_ns = now;
	fv->packets = 1; /* the packet that creates the flow */
	fv->bytes = p->ip_len;
	if (p->key.proto == IPPROTO_TCP)
		ct_tcp_track(fv, p);

	struct ct_recent_cursor *c = ct_recent_cursor();
	if (!c)
		return -E2BIG;
	/* Full a moment ago: make room first rather than fail an insert, but
	 * try without every 64th flow to notice when GC has freed space. */
	int made_room = c->full && (c->head & 63) && ct_early_drop(c, now);
	int err = ct_insert_pair(&fwd_key, fv, &rev_key, rv, now);
	if (err == -E2BIG) {
		c->full = 1;
		if (ct_early_drop(c, now))
			err = ct_insert_pair(&fwd_key, fv, &rev_key, rv, now);
	} else if (!made_room) {
		c->full = 0;
	}
	if (!err) {
		ct_recent_push(c, &fwd_key);
		if (monitor_wants_flows())
			bpfnet_event_flow(&fwd_key, fv, rv, BPFNET_FLOW_START);
	}
	return err;
}

/* ct_create() as a verdict: 0, or the drop for a flow that cannot be created. */
static __always_inline int ct_create_verdict(const struct bpfnet_ct_key *fwd,
					     const struct bpfnet_ct_key *xlat, __u8 flags,
					     const struct pkt4 *p,
					     const struct bpfnet_ct_dest *dest)
{
	int err = ct_create(fwd, xlat, flags, p, dest);
	if (!err)
		return 0;
	return DROP_ERR(err == -E2BIG ? BPFNET_DROP_CT_FULL : BPFNET_DROP_CT_INSERT);
}

/* Whether the reverse of @xlat is free for the flow @fwd_key: no entry, its
 * own orphaned reverse half, or an expired flow's (ct_insert_pair's rule). */
static __always_inline int ct_reverse_free(const struct bpfnet_ct_key *fwd_key,
					   const struct bpfnet_ct_key *xlat, __u64 now)
{
	struct bpfnet_ct_key rev_key;

	ct_reverse(xlat, &rev_key);
	const struct bpfnet_ct_value *old = ct_lookup(&rev_key);
	if (!old || ct_key_equal(&old->peer, fwd_key))
		return 1;
	if (old->expires_ns > now)
		return 0;
	return ct_flow_expired(&rev_key, old, ct_lookup(&old->peer), now);
}

/*
 * Creates a flow whose source is rewritten to @snat_addr with a port picked
 * in the configured range (bpfnet_config.nat_port_min/max, else
 * [BPFNET_NAT_PORT_MIN, BPFNET_NAT_PORT_MAX]) that no other flow to the same
 * destination uses. @xlat holds the rest of the translation; its sport is
 * filled in; @dest is where its packets go. Returns 0 or a drop (DROP_ERR).
 */
static __always_inline int ct_create_snat(const struct bpfnet_ct_key *fwd,
					  struct bpfnet_ct_key *xlat, __u8 flags,
					  const struct pkt4 *p, const struct bpfnet_ct_dest *dest)
{
	__u32 zero = 0, min = BPFNET_NAT_PORT_MIN, max = BPFNET_NAT_PORT_MAX;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	if (cfg && cfg->nat_port_min && cfg->nat_port_min <= cfg->nat_port_max) {
		min = cfg->nat_port_min;
		max = cfg->nat_port_max;
	}
	const __u32 span = max - min + 1;
	/* A random start, then a walk: as Cilium, every try after a collision is
	 * the next port, so a range with few free ports still finds them. */
	__u32 port = bpf_get_prandom_u32() % span;

	__u64 now = coarse_now_ns();
	struct bpfnet_ct_key fwd_key = *fwd;

	fwd_key.pad[0] = fwd_key.pad[1] = fwd_key.pad[2] = 0;
	for (int i = 0; i < BPFNET_NAT_RETRIES; i++) {
		__u16 nport = (__u16)(min + (port + (__u32)i) % span);
		/* For ICMP echo the identifier is the "port" (see struct bpfnet_ct_key). */
		xlat->sport = bpf_htons(nport);
		/* Only a look in the loop (the verifier walks every try): the
		 * flow is created once a port is free. */
		if (ct_reverse_free(&fwd_key, xlat, now))
			return ct_create_verdict(fwd, xlat, flags, p, dest);
	}
	return DROP_ERR(BPFNET_DROP_NAT_NO_PORT);
}

#endif
