/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps. Every program object includes this file; LIBBPF_PIN_BY_NAME
 * makes all of them (and every daemon restart) share one instance of each map
 * under the daemon's --bpffs directory.
 */
#ifndef BPFNET_LIB_MAPS_H
#define BPFNET_LIB_MAPS_H

#include "lib/common.h"

/* A map pinned by name: (name, type, key, value, max_entries, map_flags). */
#define PINNED_MAP(_name, _type, _key, _value, _max_entries, _flags)                               \
	struct {                                                                                   \
		__uint(type, _type);                                                               \
		__uint(max_entries, _max_entries);                                                 \
		__uint(map_flags, _flags);                                                         \
		__type(key, _key);                                                                 \
		__type(value, _value);                                                             \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                                               \
	} _name SEC(".maps")

PINNED_MAP(bpfnet_ep_ip, BPF_MAP_TYPE_HASH, __be32, struct bpfnet_endpoint, BPFNET_MAX_ENDPOINTS,
	   0);

PINNED_MAP(bpfnet_ep_if, BPF_MAP_TYPE_HASH, __u32, struct bpfnet_endpoint, BPFNET_MAX_ENDPOINTS, 0);

PINNED_MAP(bpfnet_nets, BPF_MAP_TYPE_HASH, __u32, struct bpfnet_network, BPFNET_MAX_NETWORKS, 0);

PINNED_MAP(bpfnet_subnets, BPF_MAP_TYPE_LPM_TRIE, struct bpfnet_subnet_key, __u32,
	   BPFNET_MAX_NETWORKS, BPF_F_NO_PREALLOC);

PINNED_MAP(bpfnet_metrics, BPF_MAP_TYPE_PERCPU_HASH, struct bpfnet_metrics_key,
	   struct bpfnet_metrics_value, BPFNET_MAX_METRICS, 0);

PINNED_MAP(bpfnet_if_counters, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct bpfnet_if_counters,
	   BPFNET_FAST_COUNTER_IFINDEXES, 0);

PINNED_MAP(bpfnet_portmap, BPF_MAP_TYPE_HASH, struct bpfnet_portmap_key,
	   struct bpfnet_portmap_value, BPFNET_MAX_PORTMAPS, 0);

/* Every IPv4 address of the host (daemon's namespace): Docker DNATs
 * published ports arriving for any local address (--dst-type LOCAL). */
PINNED_MAP(bpfnet_hostaddr, BPF_MAP_TYPE_HASH, __be32, __u32, BPFNET_MAX_HOST_ADDRS, 0);

PINNED_MAP(bpfnet_uplinks, BPF_MAP_TYPE_HASH, __u32, struct bpfnet_uplink, BPFNET_MAX_UPLINKS, 0);

/* Remote endpoints of overlay networks, by address. */
PINNED_MAP(bpfnet_tunnels, BPF_MAP_TYPE_HASH, __be32, struct bpfnet_tunnel, BPFNET_MAX_TUNNELS, 0);

/* A preallocated hash, not an LRU: an LRU would evict established flows (and
 * one half of a flow without the other) under a flood of new tuples; here a
 * full table makes new flows displace unreplied ones or be refused
 * (lib/conntrack.h), and the daemon's GC reclaims expired flows. */
PINNED_MAP(bpfnet_ct, BPF_MAP_TYPE_HASH, struct bpfnet_ct_key, struct bpfnet_ct_value,
	   BPFNET_CT_DEFAULT_MAX, 0);

PINNED_MAP(bpfnet_config, BPF_MAP_TYPE_ARRAY, __u32, struct bpfnet_config, 1, 0);

/* [0]: bumped by bpfnetd on every change of bpfnet_ep_ip; conntrack entries
 * cache the endpoint they deliver to under it (struct bpfnet_ct_dest). */
PINNED_MAP(bpfnet_ep_gen, BPF_MAP_TYPE_ARRAY, __u32, __u32, 1, 0);

/* Load balancing: frontends, per-service Maglev tables (inner arrays sized
 * per service, hence BPF_F_INNER_MAP), backends, client-IP affinity. */
PINNED_MAP(bpfnet_svc, BPF_MAP_TYPE_HASH, struct bpfnet_svc_key, struct bpfnet_svc_value,
	   BPFNET_MAX_SERVICES, 0);

struct bpfnet_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 251);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, BPFNET_MAX_SERVICE_TABLES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct bpfnet_maglev_inner);
} bpfnet_maglev SEC(".maps");

/* Service VIPs -> their network index: the ARP responder answers for them. */
PINNED_MAP(bpfnet_vips, BPF_MAP_TYPE_HASH, __be32, __u32, BPFNET_MAX_SERVICES, 0);

PINNED_MAP(bpfnet_backends, BPF_MAP_TYPE_HASH, __u32, struct bpfnet_backend, BPFNET_MAX_BACKENDS,
	   0);

PINNED_MAP(bpfnet_affinity, BPF_MAP_TYPE_LRU_HASH, struct bpfnet_affinity_key,
	   struct bpfnet_affinity_value, BPFNET_MAX_AFFINITY, 0);

/* Fragment tracking: the ports of datagrams in fragments (lib/frag.h). */
PINNED_MAP(bpfnet_frags, BPF_MAP_TYPE_LRU_HASH, struct bpfnet_frag_key, struct bpfnet_frag_value,
	   BPFNET_MAX_FRAGS, 0);

/* Monitor events (lib/events.h): the ring, who listens, each CPU's rate limit. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFNET_EVENTS_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_events SEC(".maps");

PINNED_MAP(bpfnet_monitor, BPF_MAP_TYPE_ARRAY, __u32, struct bpfnet_monitor, 1, 0);

PINNED_MAP(bpfnet_mon_cpu, BPF_MAP_TYPE_PERCPU_ARRAY, __u32, struct bpfnet_monitor_cpu, 1, 0);

/* Socket hooks: the address a host-local socket asked for, per socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bpfnet_sock_orig);
} bpfnet_sock_orig SEC(".maps");

#endif
