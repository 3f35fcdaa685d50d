/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking for NATed flows: two entries per flow (one per
 * direction), each holding the tuple its packets are rewritten to. Lifetimes
 * follow the TCP state or the protocol; the daemon's GC removes a flow once
 * both directions have expired, and the LRU evicts the oldest under pressure.
 */
#ifndef BPFNET_LIB_CONNTRACK_H
#define BPFNET_LIB_CONNTRACK_H

#include "lib/clock.h"
#include "lib/l4.h"
#include "lib/maps.h"
#include "lib/results.h"

#ifndef EEXIST
#define EEXIST 17
#endif

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
	if (proto == IPPROTO_TCP) {
		if (state == BPFNET_CT_ESTABLISHED)
			return BPFNET_CT_TIMEOUT_TCP_EST;
		if (state == BPFNET_CT_CLOSING)
			return BPFNET_CT_TIMEOUT_TCP_CLOSE;
		return BPFNET_CT_TIMEOUT_TCP_SYN;
	}
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

/* A TCP SYN on a flow that was closing starts a new connection. */
static __always_inline int ct_is_stale_for(const struct bpfnet_ct_value *v, const struct pkt4 *p)
{
	return p->key.proto == IPPROTO_TCP && v->state == BPFNET_CT_CLOSING &&
	       (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

static __always_inline void ct_set_state(struct bpfnet_ct_value *v, __u8 state, __u64 now)
{
	v->state = state;
	v->expires_ns = now + ct_timeout(v->peer.proto, state);
}

/* Advances the entry's state for a packet of its direction. */
static __always_inline void ct_observe(struct bpfnet_ct_value *v, const struct pkt4 *p)
{
	__u64 now = coarse_now_ns();
	__u8 state = v->state;

	if (p->key.proto == IPPROTO_TCP) {
		if (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) {
			state = BPFNET_CT_CLOSING;
			/* Close both halves: after a RST the peer may never speak again. */
			struct bpfnet_ct_value *peer = ct_lookup(&v->peer);
			if (peer && peer->state != BPFNET_CT_CLOSING)
				ct_set_state(peer, BPFNET_CT_CLOSING, now);
		} else if (state == BPFNET_CT_NEW && (p->tcp_flags & TCP_FLAG_ACK)) {
			state = BPFNET_CT_ESTABLISHED;
		}
	} else if (v->flags & BPFNET_CT_F_REPLY) {
		state = BPFNET_CT_ESTABLISHED;
	}
	__u64 expires = now + ct_timeout(p->key.proto, state);
	/* Rewrite the shared entry at most about once a second per flow. */
	if (state != v->state || expires > v->expires_ns + 1000000000ULL) {
		v->state = state;
		v->expires_ns = expires;
	}
}

/*
 * The entry for @p's tuple if its flow is live, advanced for @p (ct_observe);
 * NULL if there is none. A TCP SYN on a closing flow starts a new connection:
 * both halves of the old flow are deleted and NULL returned, so the caller
 * sets the flow up anew.
 */
static __always_inline struct bpfnet_ct_value *ct_lookup_live(const struct pkt4 *p)
{
	struct bpfnet_ct_value *ct = ct_lookup(&p->key);
	if (!ct)
		return 0;
	if (!ct_is_stale_for(ct, p)) {
		ct_observe(ct, p);
		return ct;
	}
	bpf_map_delete_elem(&bpfnet_ct, &ct->peer);
	bpf_map_delete_elem(&bpfnet_ct, &p->key);
	return 0;
}

/*
 * Creates both entries of a flow: @fwd (the packet's own direction, rewritten
 * to @xlat, delivered to @dest: its cache starts filled) and its reverse. The
 * reverse key must be new (BPF_NOEXIST): that is how a source port already
 * taken by another flow is detected.
 * Returns 0, or -EEXIST when the reverse tuple is taken, or another error.
 */
static __always_inline int ct_create(const struct bpfnet_ct_key *fwd,
				     const struct bpfnet_ct_key *xlat, __u8 flags,
				     const struct pkt4 *p, const struct bpfnet_ct_dest *dest)
{
	struct bpfnet_ct_key rev_key, fwd_key = *fwd;
	struct bpfnet_ct_value fv = {}, rv = {};
	__u64 now = coarse_now_ns();
	__u8 state = BPFNET_CT_NEW;

	fwd_key.pad[0] = fwd_key.pad[1] = fwd_key.pad[2] = 0;
	ct_reverse(xlat, &rev_key);
	if (p->key.proto == IPPROTO_TCP && (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		state = BPFNET_CT_CLOSING;

	/* Reply direction: rewrite back to the reverse of the original tuple. */
	rv.saddr = fwd->daddr;
	rv.daddr = fwd->saddr;
	rv.sport = fwd->dport;
	rv.dport = fwd->sport;
	rv.flags = flags | BPFNET_CT_F_REPLY;
	rv.peer = fwd_key;
	rv.state = state;
	rv.expires_ns = now + ct_timeout(p->key.proto, state);

	fv.saddr = xlat->saddr;
	fv.daddr = xlat->daddr;
	fv.sport = xlat->sport;
	fv.dport = xlat->dport;
	fv.flags = flags;
	fv.peer = rev_key;
	fv.state = state;
	fv.expires_ns = rv.expires_ns;
	fv.dest = *dest;

	int err = bpf_map_update_elem(&bpfnet_ct, &rev_key, &rv, BPF_NOEXIST);
	if (err == -EEXIST) {
		/*
		 * The reverse half of this very flow, orphaned: the LRU evicted
		 * the forward half (or GC took it). Without this the flow's
		 * packets would be refused until the orphan expires.
		 */
		const struct bpfnet_ct_value *old = ct_lookup(&rev_key);
		if (old && ct_key_equal(&old->peer, &fwd_key))
			err = bpf_map_update_elem(&bpfnet_ct, &rev_key, &rv, BPF_EXIST);
	}
	if (err)
		return err;
	err = bpf_map_update_elem(&bpfnet_ct, &fwd_key, &fv, BPF_ANY);
	if (err)
		bpf_map_delete_elem(&bpfnet_ct, &rev_key);
	return err;
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

	for (int i = 0; i < BPFNET_NAT_RETRIES; i++) {
		__u16 nport = (__u16)(min + (port + (__u32)i) % span);
		/* For ICMP echo the identifier is the "port" (see struct bpfnet_ct_key). */
		xlat->sport = bpf_htons(nport);
		int err = ct_create(fwd, xlat, flags, p, dest);
		if (!err)
			return 0;
		if (err != -EEXIST)
			return DROP_ERR(BPFNET_DROP_CT_INSERT);
	}
	return DROP_ERR(BPFNET_DROP_NAT_NO_PORT);
}

#endif
