/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps. Every program object includes this file; LIBBPF_PIN_BY_NAME
 * makes all of them (and every daemon restart) share one instance of each map
 * under the daemon's --bpffs directory.
 */
#ifndef BPFNET_LIB_MAPS_H
#define BPFNET_LIB_MAPS_H

#include "lib/common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_ENDPOINTS);
	__type(key, __be32);
	__type(value, struct bpfnet_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_ep_ip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_ENDPOINTS);
	__type(key, __u32);
	__type(value, struct bpfnet_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_ep_if SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_NETWORKS);
	__type(key, __u32);
	__type(value, struct bpfnet_network);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_nets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BPFNET_MAX_NETWORKS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bpfnet_subnet_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_subnets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, BPFNET_MAX_METRICS);
	__type(key, struct bpfnet_metrics_key);
	__type(value, struct bpfnet_metrics_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFNET_FAST_COUNTER_IFINDEXES);
	__type(key, __u32);
	__type(value, struct bpfnet_if_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_if_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_PORTMAPS);
	__type(key, struct bpfnet_portmap_key);
	__type(value, struct bpfnet_portmap_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_portmap SEC(".maps");

/* Every IPv4 address of the host (daemon's namespace): Docker DNATs
 * published ports arriving for any local address (--dst-type LOCAL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_HOST_ADDRS);
	__type(key, __be32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_hostaddr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_UPLINKS);
	__type(key, __u32);
	__type(value, struct bpfnet_uplink);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_uplinks SEC(".maps");

/* LRU: under pressure the oldest flows go first instead of new flows failing. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFNET_CT_DEFAULT_MAX);
	__type(key, struct bpfnet_ct_key);
	__type(value, struct bpfnet_ct_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpfnet_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_config SEC(".maps");

/* Load balancing: frontends, per-service Maglev tables (inner arrays sized
 * per service, hence BPF_F_INNER_MAP), backends, client-IP affinity. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_SERVICES);
	__type(key, struct bpfnet_svc_key);
	__type(value, struct bpfnet_svc_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_svc SEC(".maps");

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
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_SERVICES);
	__type(key, __be32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFNET_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct bpfnet_backend);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFNET_MAX_AFFINITY);
	__type(key, struct bpfnet_affinity_key);
	__type(value, struct bpfnet_affinity_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bpfnet_affinity SEC(".maps");

/* Socket hooks: the address a host-local socket asked for, per socket. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bpfnet_sock_orig);
} bpfnet_sock_orig SEC(".maps");

#endif
