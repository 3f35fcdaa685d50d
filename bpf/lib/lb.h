/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Load balancing: a service frontend (VIP:port/proto) picks a backend for a
 * new flow from its Maglev table by a hash of the 5-tuple (or, with client-IP
 * affinity, the backend that client had). Conntrack then pins the flow, so
 * a table change never moves an established flow whose backend remains.
 */
#ifndef BPFNET_LIB_LB_H
#define BPFNET_LIB_LB_H

#include "lib/clock.h"
#include "lib/l4.h"
#include "lib/maps.h"

/* A 32-bit mix of the tuple (murmur3 finaliser per word): stable, cheap. */
static __always_inline __u32 mix32(__u32 h, __u32 v)
{
	v *= 0xcc9e2d51;
	v = (v << 15) | (v >> 17);
	v *= 0x1b873593;
	h ^= v;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 tuple_hash(const struct bpfnet_ct_key *k)
{
	__u32 h = 0x9747b28c;
	h = mix32(h, k->saddr);
	h = mix32(h, k->daddr);
	h = mix32(h, ((__u32)k->sport << 16) | k->dport);
	h = mix32(h, k->proto);
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	return h ^ (h >> 16);
}

static __always_inline const struct bpfnet_svc_value *lb_lookup(__be32 vip, __be16 port, __u8 proto)
{
	struct bpfnet_svc_key key = {.vip = vip, .port = port, .proto = proto};
	return bpf_map_lookup_elem(&bpfnet_svc, &key);
}

/*
 * Picks the backend for a new flow of @k to service @svc. Returns 0 and the
 * backend address in *ip, or a drop (DROP_ERR).
 */
static __always_inline int lb_select(const struct bpfnet_svc_value *svc,
				     const struct bpfnet_ct_key *k, __be32 *ip)
{
	__u32 index = svc->index;
	struct bpfnet_affinity_key akey = {.index = index, .client = k->saddr};
	__u64 now = 0;

	if (svc->affinity_timeout_s) {
		now = coarse_now_ns();
		struct bpfnet_affinity_value *a = bpf_map_lookup_elem(&bpfnet_affinity, &akey);
		if (a && now - a->last_ns < (__u64)svc->affinity_timeout_s * 1000000000ULL) {
			__u32 id = a->backend;
			const struct bpfnet_backend *be =
			    bpf_map_lookup_elem(&bpfnet_backends, &id);
			if (be) {
				a->last_ns = now;
				*ip = be->ip;
				return 0;
			}
		}
	}

	void *table = bpf_map_lookup_elem(&bpfnet_maglev, &index);
	if (!table || !svc->table_size)
		return DROP_ERR(BPFNET_DROP_NO_BACKEND);
	__u32 slot = tuple_hash(k) % svc->table_size;
	const __u32 *id = bpf_map_lookup_elem(table, &slot);
	if (!id || *id == BPFNET_NO_BACKEND)
		return DROP_ERR(BPFNET_DROP_NO_BACKEND);
	__u32 backend = *id;
	const struct bpfnet_backend *be = bpf_map_lookup_elem(&bpfnet_backends, &backend);
	if (!be)
		return DROP_ERR(BPFNET_DROP_NO_BACKEND);
	*ip = be->ip;

	if (svc->affinity_timeout_s) {
		struct bpfnet_affinity_value a = {.last_ns = now, .backend = backend};
		bpf_map_update_elem(&bpfnet_affinity, &akey, &a, BPF_ANY);
	}
	return 0;
}

#endif
