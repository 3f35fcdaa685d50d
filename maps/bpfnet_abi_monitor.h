/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Part of the map ABI (bpfnet_abi.h, which includes it at its end: include
 * that one): the monitor's ring buffer records and settings.
 */
#ifndef BPFNET_MAPS_ABI_MONITOR_H
#define BPFNET_MAPS_ABI_MONITOR_H

#ifndef BPFNET_MAPS_ABI_H
#error "include bpfnet_abi.h"
#endif

/*
 * Monitor events (bpfnetctl monitor). The datapath writes them to the ring
 * buffer bpfnet_events only while bpfnet_monitor[0].subscribers says that
 * someone listens (bpfnetd sets it while a monitor is connected), as Cilium's
 * monitor does: with nobody listening an event costs one array lookup and a
 * branch at the verdict site (bpf/lib/events.h).
 */
enum bpfnet_event_type {
	BPFNET_EVENT_DROP = 1,	/* a drop at a hook's verdict: reason says why */
	BPFNET_EVENT_TRACE = 2, /* a sampled forwarded packet */
	BPFNET_EVENT_FLOW = 3,	/* a flow created or removed: data[] holds its bpfnet_flow_record */
};

/* bpfnet_monitor.subscribers: which event types someone listens to. */
#define BPFNET_MON_F_DROP (1U << BPFNET_EVENT_DROP)
#define BPFNET_MON_F_TRACE (1U << BPFNET_EVENT_TRACE)
#define BPFNET_MON_F_FLOW (1U << BPFNET_EVENT_FLOW)

/* bpfnet_event.hook (0 for flow events: the conntrack, not a verdict site) */
enum bpfnet_hook {
	BPFNET_HOOK_TC = 1,
	BPFNET_HOOK_XDP = 2,
};

/* Bytes of the packet an event carries (from its Ethernet header). */
#define BPFNET_EVENT_CAPTURE 128
/* Events per second per CPU when bpfnet_monitor.rate is 0; the burst is a
 * second's worth when bpfnet_monitor.burst is 0. */
#define BPFNET_EVENT_DEFAULT_RATE 1000
#define BPFNET_EVENTS_RING_BYTES (1U << 22) /* 4 MiB: ~25k events */

/* One record of bpfnet_events. */
struct bpfnet_event {
	__u64 time_ns;	    /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u32 ifindex;	    /* the interface the packet arrived on */
	__u32 peer_ifindex; /* trace: the container veth it was delivered to; 0: none */
	__u32 orig_len;	    /* the packet's length */
	__u16 cap_len;	    /* bytes of data[] that hold the packet (<= orig_len) */
	__u8 type;	    /* enum bpfnet_event_type */
	__u8 reason;	    /* drop: enum bpfnet_reason; trace: BPFNET_OK; flow: 0 */
	__u8 dir;	    /* enum bpfnet_dir at ifindex */
	__u8 hook;	    /* enum bpfnet_hook */
	__u16 pad;
	__u32 pad2;
	__u8 data[BPFNET_EVENT_CAPTURE];
};

/* bpfnet_flow_record.phase: a flow's start, or its end and why. */
enum bpfnet_flow_phase {
	BPFNET_FLOW_START = 1,	       /* the datapath created it */
	BPFNET_FLOW_END_EXPIRED = 2,   /* found expired by a packet, and removed */
	BPFNET_FLOW_END_REOPENED = 3,  /* closed (FIN, RST), removed for a new SYN's flow */
	BPFNET_FLOW_END_DISPLACED = 4, /* unreplied, removed for a new flow (conntrack full) */
	BPFNET_FLOW_END_GC = 5,	       /* expired, removed by bpfnetd's conntrack GC */
	BPFNET_FLOW_END_PURGED = 6,    /* removed by bpfnetd: its container, published
					* port or service backend went away */
};

/*
 * A flow event's bpfnet_event.data (cap_len 0: no packet is captured; the
 * event keeps its size, hence no ABI version bump). The flow as its
 * conntrack entries hold it, told from the side of its first packet
 * ("orig"), whichever entry the datapath had in hand.
 */
struct bpfnet_flow_record {
	struct bpfnet_ct_key orig; /* the first packet's tuple */
	struct bpfnet_ct_key xlat; /* what orig's packets are rewritten to (orig when no NAT) */
	__u64 packets_orig;	   /* what each direction forwarded (start: the first packet) */
	__u64 bytes_orig;
	__u64 packets_reply;
	__u64 bytes_reply;
	__u64 created_ns; /* the flow's creation (bpf_ktime_get_ns()) */
	__u8 phase;	  /* enum bpfnet_flow_phase */
	__u8 flags;	  /* BPFNET_CT_F_* of orig's entry */
	__u8 state_orig;  /* enum bpfnet_ct_state of each direction */
	__u8 state_reply;
	__u32 pad;
};

/* bpfnet_monitor[0]: set by bpfnetd while monitors are connected. */
struct bpfnet_monitor {
	__u32 subscribers; /* BPFNET_MON_F_*; 0: nobody listens, nothing is written */
	__u32 trace_every; /* trace 1 forwarded packet in N (per CPU); 0: none */
	__u32 rate;	   /* events per second per CPU; 0: BPFNET_EVENT_DEFAULT_RATE */
	__u32 burst;	   /* bucket size (events); 0: one second's worth */
};

/* bpfnet_mon_cpu[0], per CPU: the rate limit's token bucket and what it skipped. */
struct bpfnet_monitor_cpu {
	__u64 tokens;	   /* events that may be sent now */
	__u64 refill_ns;   /* when tokens were last added */
	__u64 lost;	   /* events skipped: over the rate, or the ring was full */
	__u64 trace_count; /* forwarded packets seen while tracing (sampling) */
};

BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_event) == 32 + BPFNET_EVENT_CAPTURE,
		     "bpfnet_event layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_flow_record) == 80, "bpfnet_flow_record layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_flow_record) <= BPFNET_EVENT_CAPTURE,
		     "a flow record fits an event's data");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_monitor) == 16, "bpfnet_monitor layout");
BPFNET_STATIC_ASSERT(sizeof(struct bpfnet_monitor_cpu) == 32, "bpfnet_monitor_cpu layout");

#endif /* BPFNET_MAPS_ABI_MONITOR_H */
