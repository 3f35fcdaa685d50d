/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map ABI shared by the BPF programs (bpf/) and the C++ daemon
 * (userspace/datapath). Every struct here is a key or value of a pinned map,
 * so its layout is a compatibility contract with maps that survive a daemon
 * restart: append fields only, never reorder, and bump BPFNET_ABI_VERSION when
 * a layout changes.
 *
 * Addresses and ports are stored in network byte order (as they appear in the
 * packet) so the datapath never converts them.
 */
#ifndef BPFNET_MAPS_ABI_H
#define BPFNET_MAPS_ABI_H

#include <linux/types.h>

#define BPFNET_ABI_VERSION 1

/* Map capacities. The C++ side validates requests against the same numbers. */
#define BPFNET_MAX_ENDPOINTS 65536
#define BPFNET_MAX_NETWORKS 4096
#define BPFNET_MAX_METRICS 65536

/* Pinned map names (LIBBPF_PIN_BY_NAME under the daemon's --bpffs dir). */
#define BPFNET_MAP_EP_BY_IP "bpfnet_ep_ip"
#define BPFNET_MAP_EP_BY_IFINDEX "bpfnet_ep_if"
#define BPFNET_MAP_NETWORKS "bpfnet_nets"
#define BPFNET_MAP_SUBNETS "bpfnet_subnets"
#define BPFNET_MAP_METRICS "bpfnet_metrics"

/* bpfnet_network.flags */
#define BPFNET_NET_F_ICC (1U << 0)        /* enable_icc: containers may talk */
#define BPFNET_NET_F_MASQUERADE (1U << 1) /* enable_ip_masquerade */
#define BPFNET_NET_F_INTERNAL (1U << 2)   /* --internal: subnet-only traffic */

/* One bridge network, keyed by its small numeric index (u32). */
struct bpfnet_network {
	__be32 subnet;  /* network address */
	__be32 mask;    /* netmask, e.g. 0xffff0000 for a /16 (network order) */
	__be32 gateway; /* the host's address on this network */
	__u32 flags;    /* BPFNET_NET_F_* */
	__u32 mtu;
	__u32 pad;
};

/*
 * One container endpoint (a veth pair). Stored twice, keyed by the
 * container's IPv4 address (forwarding) and by the host-side ifindex
 * (anti-spoofing and accounting of what the container sends).
 */
struct bpfnet_endpoint {
	__u32 ifindex;    /* host-side veth, in the daemon's namespace */
	__u32 network;    /* index of its network (bpfnet_nets key) */
	__be32 ip;        /* the container's address */
	__u8 mac[6];      /* the container's MAC (eth0 inside the namespace) */
	__u8 gw_mac[6];   /* host-side veth MAC: the gateway as the container sees it */
	__u32 flags;      /* reserved */
	__u32 pad;
};

/* LPM key for bpfnet_subnets: which network owns an address. */
struct bpfnet_subnet_key {
	__u32 prefixlen;
	__be32 addr;
};

/*
 * Verdict reasons. 0 is "forwarded/passed"; every other value is a drop.
 * Names (bpfnet_drop_reason_name in userspace) are user-visible and stable.
 */
enum bpfnet_reason {
	BPFNET_OK = 0,
	BPFNET_DROP_MALFORMED = 1,       /* truncated or invalid headers */
	BPFNET_DROP_UNKNOWN_ENDPOINT = 2, /* packet on a veth with no endpoint */
	BPFNET_DROP_INVALID_SMAC = 3,    /* source MAC is not the endpoint's */
	BPFNET_DROP_INVALID_SIP = 4,     /* source IP is not the endpoint's */
	BPFNET_DROP_INVALID_ARP = 5,     /* ARP with spoofed sender or bad shape */
	BPFNET_DROP_ARP_NO_TARGET = 6,   /* ARP request nobody on the network owns */
	BPFNET_DROP_ISOLATION = 7,       /* destination on another network */
	BPFNET_DROP_ICC = 8,             /* enable_icc=false */
	BPFNET_DROP_INTERNAL = 9,        /* internal network leaving its subnet */
	BPFNET_DROP_NO_ENDPOINT = 10,    /* address in the subnet, nobody there */
	BPFNET_DROP_UNSUPPORTED_L3 = 11, /* neither IPv4 nor ARP (e.g. IPv6) */
	BPFNET_DROP_NO_NETWORK = 12,     /* endpoint's network missing */
	BPFNET_REASON_MAX = 32,
};

/* bpfnet_metrics_key.dir */
enum bpfnet_dir {
	BPFNET_DIR_FROM_CONTAINER = 0, /* host-veth ingress: what a container sent */
	BPFNET_DIR_TO_CONTAINER = 1,   /* delivered to a container */
};

/*
 * Per-CPU counters. reason 0 counts forwarded packets; other values count
 * drops by reason. ifindex is the host-side veth (or uplink) concerned.
 */
struct bpfnet_metrics_key {
	__u32 ifindex;
	__u8 reason;
	__u8 dir;
	__u16 pad;
};

struct bpfnet_metrics_value {
	__u64 packets;
	__u64 bytes;
};

#ifdef __cplusplus
static_assert(sizeof(struct bpfnet_network) == 24, "bpfnet_network layout");
static_assert(sizeof(struct bpfnet_endpoint) == 32, "bpfnet_endpoint layout");
static_assert(sizeof(struct bpfnet_subnet_key) == 8, "bpfnet_subnet_key layout");
static_assert(sizeof(struct bpfnet_metrics_key) == 8, "bpfnet_metrics_key layout");
static_assert(sizeof(struct bpfnet_metrics_value) == 16, "bpfnet_metrics_value layout");
#else
_Static_assert(sizeof(struct bpfnet_network) == 24, "bpfnet_network layout");
_Static_assert(sizeof(struct bpfnet_endpoint) == 32, "bpfnet_endpoint layout");
_Static_assert(sizeof(struct bpfnet_subnet_key) == 8, "bpfnet_subnet_key layout");
_Static_assert(sizeof(struct bpfnet_metrics_key) == 8, "bpfnet_metrics_key layout");
_Static_assert(sizeof(struct bpfnet_metrics_value) == 16, "bpfnet_metrics_value layout");
#endif

#endif /* BPFNET_MAPS_ABI_H */
