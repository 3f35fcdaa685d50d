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

/* 2: bpfnet_ct_value grew (40 -> 64 bytes) by the delivery cache `dest`;
 *    new map bpfnet_ep_gen.
 * 3: new map bpfnet_frags (fragments follow their flow); bpfnet_network
 *    grew (24 -> 28 bytes) by lb_addr (services with backends on other hosts).
 * 4: bpfnet_ct is a preallocated hash (was an LRU) and bpfnet_ct_value grew
 *    (64 -> 96 bytes) by per-direction TCP tracking, per-direction counters
 *    (packets, bytes) and the flow's creation time (bpfnetctl flows); new
 *    maps bpfnet_events (ring buffer), bpfnet_monitor, bpfnet_mon_cpu.
 * 5: bpfnet_config grew (24 -> 32 bytes) by underlay_ifindex and
 *    underlay_mask (VXLAN encapsulated and decapsulated in BPF). */
#define BPFNET_ABI_VERSION 5

/* Map capacities. The C++ side validates requests against the same numbers. */
#define BPFNET_MAX_ENDPOINTS 65536
#define BPFNET_MAX_NETWORKS 4096
#define BPFNET_MAX_METRICS 65536
/* Interfaces with an ifindex below this count forwarded packets in
 * bpfnet_if_counters (a per-CPU array: no hashing on the per-packet path);
 * drops and larger ifindexes go to bpfnet_metrics. 4096 x 32 bytes per CPU. */
#define BPFNET_FAST_COUNTER_IFINDEXES 4096
#define BPFNET_MAX_PORTMAPS 65536
#define BPFNET_MAX_HOST_ADDRS 1024
#define BPFNET_MAX_UPLINKS 64
#define BPFNET_MAX_TUNNELS 65536 /* remote endpoints of overlay networks */
/* Default conntrack size (entries; two per flow). bpfnetd --ct-max changes it
 * when the map is first created. */
#define BPFNET_CT_DEFAULT_MAX 262144
/* New flows each CPU remembers (bpfnet_ct_recent) as candidates for early
 * drop when the conntrack is full: only unreplied ones are displaced. */
#define BPFNET_CT_RECENT_SLOTS 65536
/* Recent flows a new flow looks at for an unreplied one to displace (the
 * kernel's NF_CT_EVICTION_RANGE). */
#define BPFNET_CT_EARLY_DROP_TRIES 8

/* Source ports masquerade and hairpin SNAT allocate from when the daemon has
 * not set bpfnet_config.nat_port_min/max (it takes them from outside the
 * host's ip_local_port_range, so host sockets and NATed flows do not collide
 * on the uplink address): above the kernel's default ephemeral range. */
#define BPFNET_NAT_PORT_MIN 61000
#define BPFNET_NAT_PORT_MAX 65535
/* Tries per new flow: a random start, then a walk (Cilium's SNAT_COLLISION_RETRIES). */
#define BPFNET_NAT_RETRIES 128
#define BPFNET_MAX_SERVICES 16384 /* (VIP, port, proto) entries */
#define BPFNET_MAX_SERVICE_TABLES 4096
#define BPFNET_MAX_BACKENDS 65536
#define BPFNET_MAX_AFFINITY 262144
/* Datagrams in fragments at once (an LRU: Cilium's default size). */
#define BPFNET_MAX_FRAGS 8192
#define BPFNET_NO_BACKEND 0xffffffffU /* empty Maglev slot */

/* Pinned map names (LIBBPF_PIN_BY_NAME under the daemon's --bpffs dir). */
#define BPFNET_MAP_EP_BY_IP "bpfnet_ep_ip"
#define BPFNET_MAP_EP_BY_IFINDEX "bpfnet_ep_if"
#define BPFNET_MAP_NETWORKS "bpfnet_nets"
#define BPFNET_MAP_SUBNETS "bpfnet_subnets"
#define BPFNET_MAP_METRICS "bpfnet_metrics"
#define BPFNET_MAP_IF_COUNTERS "bpfnet_if_counters"
#define BPFNET_MAP_PORTMAP "bpfnet_portmap"
#define BPFNET_MAP_HOST_ADDRS "bpfnet_hostaddr"
#define BPFNET_MAP_UPLINKS "bpfnet_uplinks"
#define BPFNET_MAP_CT "bpfnet_ct"
#define BPFNET_MAP_CONFIG "bpfnet_config"
#define BPFNET_MAP_SOCK_ORIG "bpfnet_sock_orig"
#define BPFNET_MAP_SERVICES "bpfnet_svc"
#define BPFNET_MAP_MAGLEV "bpfnet_maglev"
#define BPFNET_MAP_BACKENDS "bpfnet_backends"
#define BPFNET_MAP_AFFINITY "bpfnet_affinity"
#define BPFNET_MAP_VIPS "bpfnet_vips"
#define BPFNET_MAP_EP_GENERATION "bpfnet_ep_gen"
#define BPFNET_MAP_TUNNELS "bpfnet_tunnels"
#define BPFNET_MAP_FRAGS "bpfnet_frags"
#define BPFNET_MAP_EVENTS "bpfnet_events"
#define BPFNET_MAP_MONITOR "bpfnet_monitor"
#define BPFNET_MAP_MONITOR_CPU "bpfnet_mon_cpu"

/* bpfnet_network.flags */
#define BPFNET_NET_F_ICC (1U << 0)	  /* enable_icc: containers may talk */
#define BPFNET_NET_F_MASQUERADE (1U << 1) /* enable_ip_masquerade */
#define BPFNET_NET_F_INTERNAL (1U << 2)	  /* --internal: subnet-only traffic */
#define BPFNET_NET_F_OVERLAY (1U << 3)	  /* spans hosts: remote endpoints in bpfnet_tunnels */

/* One bridge network, keyed by its small numeric index (u32). */
struct bpfnet_network {
	__be32 subnet;	/* network address */
	__be32 mask;	/* netmask, e.g. 0xffff0000 for a /16 (network order) */
	__be32 gateway; /* the host's address on this network */
	__u32 flags;	/* BPFNET_NET_F_* */
	__u32 mtu;
	__u32 vni; /* overlay networks (BPFNET_NET_F_OVERLAY): its VXLAN network identifier */
	/* Overlay networks: this host's own address on the network (its "lb"
	 * endpoint in the cluster), the source of published flows it balances
	 * to backends on other hosts, so that their replies come back here for
	 * reverse NAT. 0: none yet (no service on the network here). */
	__be32 lb_addr;
};

/*
 * One container endpoint (a veth pair). Stored twice, keyed by the
 * container's IPv4 address (forwarding) and by the host-side ifindex
 * (anti-spoofing and accounting of what the container sends).
 */
struct bpfnet_endpoint {
	__u32 ifindex;	/* host-side veth, in the daemon's namespace */
	__u32 network;	/* index of its network (bpfnet_nets key) */
	__be32 ip;	/* the container's address */
	__u8 mac[6];	/* the container's MAC (eth0 inside the namespace) */
	__u8 gw_mac[6]; /* host-side veth MAC: the gateway as the container sees it */
	__u32 flags;	/* reserved */
	__u32 pad;
};

/* LPM key for bpfnet_subnets: which network owns an address. */
struct bpfnet_subnet_key {
	__u32 prefixlen;
	__be32 addr;
};

/*
 * Drop reasons, defined once: X(code, ID, name, meaning) for each, which makes
 * BPFNET_DROP_<ID> = code in enum bpfnet_reason, the name `bpfnetctl stats`
 * shows (userspace/core/drop_reasons.cc) and the README's "Drop reasons" row
 * (a unit test compares the table with this list). Codes are stored as a u8 in
 * the pinned bpfnet_metrics map and names are user-visible: append new
 * reasons, never renumber or rename one.
 */
#define BPFNET_DROP_REASONS(X)                                                                     \
	X(1, MALFORMED, "malformed", "truncated or invalid headers")                               \
	X(2, UNKNOWN_ENDPOINT, "unknown-endpoint", "packet on a veth bpfnet has no endpoint for")  \
	X(3, INVALID_SMAC, "invalid-source-mac", "source MAC is not the endpoint's")               \
	X(4, INVALID_SIP, "invalid-source-ip", "source IP is not the endpoint's")                  \
	X(5, INVALID_ARP, "invalid-arp", "ARP with a spoofed sender or a bad shape")               \
	X(6, ARP_NO_TARGET, "arp-no-target", "ARP for an address nobody on the network has")       \
	X(7, ISOLATION, "isolation", "destination on another network")                             \
	X(8, ICC, "icc-disabled", "between containers of a network with enable_icc=false")         \
	X(9, INTERNAL, "internal-network", "internal network traffic leaving its subnet")          \
	X(10, NO_ENDPOINT, "no-endpoint", "address in the subnet with no container")               \
	X(11, UNSUPPORTED_L3, "unsupported-l3",                                                    \
	  "neither IPv4 nor ARP (IPv6 is not supported yet)")                                      \
	X(12, NO_NETWORK, "no-network", "endpoint whose network is missing")                       \
	X(13, CT_INSERT, "ct-insert", "conntrack entry could not be created")                      \
	X(14, NAT_NO_PORT, "nat-no-port", "no free source port for masquerade/hairpin SNAT")       \
	X(15, NO_PORTMAP, "no-portmap",                                                            \
	  "from an uplink straight to a container address (not published)")                        \
	X(16, FIB, "fib", "no route for a translated packet")                                      \
	X(17, CSUM, "csum", "checksum rewrite failed")                                             \
	X(18, NO_BACKEND, "no-backend", "service without a usable backend")                        \
	X(19, MARTIAN, "martian", "to 127/8 or 0/8 from an interface (loopback is host-only)")     \
	X(20, DIRECT_ACCESS, "direct-access",                                                      \
	  "routed to a container from an interface that is not its own")                           \
	X(21, TUNNEL_SPOOF, "tunnel-spoof",                                                        \
	  "VXLAN packet whose inner source is no endpoint of the sending host on that VNI")        \
	X(22, NO_VXLAN, "no-vxlan", "to a remote overlay endpoint with no VXLAN device attached")  \
	X(23, CT_FULL, "ct-full",                                                                  \
	  "new flow refused: conntrack full of replied flows (none unreplied to displace)")        \
	X(24, TCP_RST_WINDOW, "tcp-rst-window",                                                    \
	  "TCP RST outside the receiver's window (the flow is kept)")                              \
	X(25, FRAG_NO_FLOW, "frag-no-flow",                                                        \
	  "non-first fragment whose first fragment was not seen (no bpfnet_frags entry)")          \
	X(26, NAT_UNSUPPORTED, "nat-unsupported",                                                  \
	  "masqueraded out of an uplink with no ports to translate (GRE, SCTP, ...)")              \
	X(27, FRAG_NEEDED, "frag-needed",                                                          \
	  "too big for the next hop (answered with ICMP fragmentation needed when DF is set)")     \
	X(28, TTL_EXCEEDED, "ttl-exceeded",                                                        \
	  "TTL ran out on a routed hop (answered with ICMP time exceeded)")                        \
	X(29, NO_LB_ADDRESS, "no-lb-address",                                                      \
	  "published flow to a backend on another host, no address of this host on its overlay")

/* Verdict reasons: 0 is "forwarded/passed", every other value a drop. */
enum bpfnet_reason {
	BPFNET_OK = 0,
	BPFNET_REASON_MAX = 32, /* every code is below */
#define BPFNET_REASON_ENUMERATOR(code, id, name, meaning) BPFNET_DROP_##id = code,
	BPFNET_DROP_REASONS(BPFNET_REASON_ENUMERATOR)
#undef BPFNET_REASON_ENUMERATOR
};

/* bpfnet_metrics_key.dir: which way the packet crossed ifindex. */
enum bpfnet_dir {
	BPFNET_DIR_FROM_CONTAINER = 0, /* arrived on a host veth: what its container sent */
	BPFNET_DIR_TO_CONTAINER = 1,   /* delivered to a container through its host veth */
	/* Arrived on an uplink: what clients sent. Slot 0 as well: an interface
	 * is a veth or an uplink, never both, and bpfnet_if_counters holds two
	 * directions per interface. */
	BPFNET_DIR_FROM_UPLINK = 0,
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

/* bpfnet_if_counters[ifindex]: forwarded packets by direction (bpfnet_dir),
 * the same figures as bpfnet_metrics rows with reason BPFNET_OK. */
struct bpfnet_if_counters {
	struct bpfnet_metrics_value dir[2];
};

/* Published port: (host address, port, protocol) -> container address and port.
 * addr 0 means every host address (Docker's 0.0.0.0). */
struct bpfnet_portmap_key {
	__be32 addr;
	__be16 port;
	__u8 proto; /* IPPROTO_TCP / UDP / SCTP */
	__u8 pad;
};

struct bpfnet_portmap_value {
	__be32 backend_ip;
	__be16 backend_port;
	__u16 pad;
};

/*
 * A remote endpoint of an overlay network (one on another host), keyed by
 * its address (__be32; overlay subnets are unique in the cluster and overlap
 * no local network): the host to tunnel its packets to, and the network it
 * belongs to for isolation. Packets arriving through the tunnel are checked
 * against it too: their inner source must be an endpoint of the host they
 * came from.
 */
struct bpfnet_tunnel {
	__be32 remote; /* underlay address of the endpoint's host */
	__u32 vni;     /* VXLAN network identifier of its network */
	__u32 network; /* local index of its (overlay) network: bpfnet_nets key */
	__u8 mac[6];   /* the endpoint's MAC: ARP for it is answered locally */
	__u16 pad;
};

/* An uplink (host interface facing clients), keyed by ifindex. */
struct bpfnet_uplink {
#ifdef BPFNET_ABI_TEST_UPGRADE
	/* Only in the "next build" the upgrade test starts over this build's
	 * pinned maps (tests/e2e/upgrade.sh): a field that moves every other. */
	__u32 upgrade_test_tag;
#endif
	__be32 ip; /* address masquerade rewrites to */
	__u8 mac[6];
	__u16 pad;
};

/* Connection tracking. Two entries per flow, one per direction, each keyed by
 * the tuple as the datapath sees it before translation and holding the
 * tuple to rewrite to. proto is the L4 protocol; for ICMP echo the identifier
 * stands in sport (request) or dport (reply). */
struct bpfnet_ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* bpfnet_ct_value.state: of the entry's own direction. A flow lives while
 * either of its two entries does. */
enum bpfnet_ct_state {
	BPFNET_CT_NEW = 0,	   /* TCP: only SYNs sent this way; others: no reply yet */
	BPFNET_CT_ESTABLISHED = 1, /* TCP: an ACK without SYN sent; others: replied */
	BPFNET_CT_CLOSING = 2,	   /* TCP: this direction sent FIN, or a RST closed the flow */
};

/* bpfnet_ct_value.tcp_track: which of the TCP tracking fields hold data. */
#define BPFNET_CT_TRK_END (1U << 0)   /* tcp_end */
#define BPFNET_CT_TRK_WIN (1U << 1)   /* tcp_maxend, tcp_maxwin */
#define BPFNET_CT_TRK_SCALE (1U << 2) /* tcp_wscale: this direction's SYN was seen */

/* bpfnet_ct_value.flags */
#define BPFNET_CT_F_REPLY (1U << 0) /* entry of the reply direction */
#define BPFNET_CT_F_DNAT (1U << 1)  /* published port */
#define BPFNET_CT_F_SNAT (1U << 2)  /* masquerade / hairpin source rewrite */
#define BPFNET_CT_F_LB (1U << 3)    /* backend picked by a service */

/*
 * Where a conntrack entry's packets are delivered once rewritten: the
 * endpoint that owns its daddr (a container's veth and MACs), or none (out of
 * the host by FIB lookup). A cache of bpfnet_ep_ip, so that a packet of an
 * established flow needs one map lookup, not two: valid while gen ==
 * bpfnet_ep_gen[0] + 1 (0: never filled), and bpfnetd bumps bpfnet_ep_gen
 * whenever bpfnet_ep_ip changes.
 */
struct bpfnet_ct_dest {
	__u32 ifindex; /* the endpoint's host veth; 0: daddr is no endpoint's */
	__u32 gen;
	__u8 mac[6];	/* the endpoint's MAC */
	__u8 gw_mac[6]; /* its gateway's, as it knows it */
};

struct bpfnet_ct_value {
	__u64 expires_ns; /* bpf_ktime_get_ns() deadline; the daemon's GC reads it */
	__be32 saddr;	  /* rewrite the packet to this tuple */
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 state;		    /* enum bpfnet_ct_state */
	__u8 flags;		    /* BPFNET_CT_F_* */
	__u8 tcp_wscale;	    /* window scale this direction announced in its SYN */
	__u8 tcp_track;		    /* BPFNET_CT_TRK_* */
	struct bpfnet_ct_key peer;  /* the other direction's key */
	struct bpfnet_ct_dest dest; /* filled and read by the datapath only */
	/*
	 * TCP, as Linux's conntrack tracks each direction (td_end, td_maxend,
	 * td_maxwin; host order): the sequence after the last byte this
	 * direction sent; the highest ack + window it announced (the end of what
	 * the other direction may send); its largest window.
	 */
	__u32 tcp_end;
	__u32 tcp_maxend;
	__u32 tcp_maxwin;
	/*
	 * What this direction forwarded (bytes: IP total length), added
	 * atomically by every CPU that handles one of its packets; the first
	 * packet included. created_ns: when the flow was created (the same in
	 * both entries; bpf_ktime_get_ns() within a tick). Offset 72: 8-aligned.
	 */
	__u64 packets;
	__u64 bytes;
	__u64 created_ns;
};

/* Lifetimes (ns) by state: Cilium's for established TCP; unreplied flows
 * (NEW: a SYN, a datagram without answer) 30 s as Linux's UDP, so a flood of
 * new tuples drains. */
#define BPFNET_CT_TIMEOUT_NEW (30ULL * 1000000000ULL)
#define BPFNET_CT_TIMEOUT_TCP_SYN BPFNET_CT_TIMEOUT_NEW
#define BPFNET_CT_TIMEOUT_TCP_EST (21600ULL * 1000000000ULL)
#define BPFNET_CT_TIMEOUT_TCP_CLOSE (10ULL * 1000000000ULL)
#define BPFNET_CT_TIMEOUT_UDP (60ULL * 1000000000ULL)
#define BPFNET_CT_TIMEOUT_ICMP (30ULL * 1000000000ULL)

/* Load-balanced service frontend: VIP:port/proto -> its Maglev table. */
struct bpfnet_svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct bpfnet_svc_value {
	__u32 index;		  /* key of its table in bpfnet_maglev */
	__u32 table_size;	  /* prime; slots of the inner array */
	__u32 affinity_timeout_s; /* 0: no client-IP affinity */
	__u32 pad;
};

/* Backend by stable id (what Maglev slots hold). */
struct bpfnet_backend {
	__be32 ip;
	__u32 flags; /* reserved */
};

/* Client-IP affinity: (service, client) -> backend, with last use. */
struct bpfnet_affinity_key {
	__u32 index;
	__be32 client;
};

struct bpfnet_affinity_value {
	__u64 last_ns;
	__u32 backend;
	__u32 pad;
};

/* Global settings (array map, key 0). */
struct bpfnet_config {
	__u64 host_netns_cookie; /* socket hooks act only in the daemon's netns */
	__u32 flags;
	__u32 vxlan_ifindex; /* the collect-metadata VXLAN device overlays use; 0: none */
	__be32 underlay;     /* this host's underlay address (tunnels' outer source) */
	__u16 nat_port_min;  /* masquerade source ports (host order); 0: the defaults */
	__u16 nat_port_max;
	/* The interface the underlay address is on, where tunnelled packets
	 * leave and arrive without the VXLAN device (lib/vxlan.h); 0: through
	 * the device only. */
	__u32 underlay_ifindex;
	__be32 underlay_mask; /* its subnet: remote hosts in it are next hops */
};

/*
 * Fragment tracking (bpfnet_frags, an LRU): a datagram's first fragment
 * records its ports under (saddr, daddr, IP id, proto) as it arrives, so its
 * later fragments, which carry no L4 header, follow the same flow (as
 * Cilium's ipv4_frag_datagrams map). Addresses and ports as in the packet.
 */
struct bpfnet_frag_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;
	__u8 proto;
	__u8 pad;
};

struct bpfnet_frag_value {
	__u64 expires_ns; /* bpf_ktime_get_ns() deadline: IP ids wrap */
	__be16 sport;
	__be16 dport;
	__u32 pad;
};

/* A datagram's fragments arrive within Linux's ipfrag_time. */
#define BPFNET_FRAG_TIMEOUT (30ULL * 1000000000ULL)

/* Socket hooks: what a connected socket originally asked for. */
struct bpfnet_sock_orig {
	__be32 orig_ip;
	__be16 orig_port;
	__u16 pad;
	__be32 backend_ip;
	__be16 backend_port;
	__u16 pad2;
};

/* Layouts are a contract with pinned maps; C and C++ check them alike. */
#ifdef __cplusplus
#define BPFNET_STATIC_ASSERT static_assert
#else
#define BPFNET_STATIC_ASSERT _Static_assert
#endif
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_network) == 28, "bpfnet_network layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_endpoint) == 32, "bpfnet_endpoint layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_subnet_key) == 8, "bpfnet_subnet_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_metrics_key) == 8, "bpfnet_metrics_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_metrics_value) == 16, "bpfnet_metrics_value layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_if_counters) == 32, "bpfnet_if_counters layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_portmap_key) == 8, "bpfnet_portmap_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_portmap_value) == 8, "bpfnet_portmap_value layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_tunnel) == 20, "bpfnet_tunnel layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_config) == 32, "bpfnet_config layout");
#ifdef BPFNET_ABI_TEST_UPGRADE
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_uplink) == 16, "bpfnet_uplink layout");
#else
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_uplink) == 12, "bpfnet_uplink layout");
#endif
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_ct_key) == 16, "bpfnet_ct_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_ct_dest) == 20, "bpfnet_ct_dest layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_ct_value) == 96, "bpfnet_ct_value layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_svc_key) == 8, "bpfnet_svc_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_svc_value) == 16, "bpfnet_svc_value layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_backend) == 8, "bpfnet_backend layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_affinity_key) == 8, "bpfnet_affinity_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_affinity_value) == 16, "bpfnet_affinity_value layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_frag_key) == 12, "bpfnet_frag_key layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_frag_value) == 16, "bpfnet_frag_value layout");

/* The monitor's ring records and settings (a file of their own: size). */
#include "bpfnet_abi_monitor.h"

/* Every reason fits bpfnet_metrics_key.reason and is below BPFNET_REASON_MAX. */
#define BPFNET_REASON_BELOW_MAX(code, id, name, meaning)                                           \
	BPFNET_STATIC_ASSERT(code > BPFNET_OK && code < BPFNET_REASON_MAX, name);
BPFNET_DROP_REASONS(BPFNET_REASON_BELOW_MAX)
#undef BPFNET_REASON_BELOW_MAX

#endif /* BPFNET_MAPS_ABI_H */
