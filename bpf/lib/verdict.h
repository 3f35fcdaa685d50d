/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one place per hook where a pipeline's result (lib/results.h) becomes
 * the action the kernel gets and is counted: a drop by its reason on the
 * interface the packet arrived on; anything else that passes through us as
 * forwarded, there and on the container it was delivered to, if any.
 * CONTINUE_PASS (not ours) is handed to the kernel uncounted. Every drop
 * and forwarded packet passes here, so this is also where the monitor's
 * events are sent from (lib/events.h), when someone listens.
 */
#ifndef BPFNET_LIB_VERDICT_H
#define BPFNET_LIB_VERDICT_H

#include "lib/events.h"
#include "lib/metrics.h"
#include "lib/results.h"

/* Counts a packet that arrived on @ifindex (@in_dir) with result @rc;
 * @peer_ifindex is the host veth it was delivered through, 0 if none.
 * Returns whether it is a drop. */
static __always_inline int count_result(int rc, __u32 ifindex, __u8 in_dir, __u32 peer_ifindex,
					__u32 len)
{
	if (rc < 0) {
		metrics_count(ifindex, DROP_REASON(rc), in_dir, len);
		return 1;
	}
	metrics_count(ifindex, BPFNET_OK, in_dir, len);
	if (peer_ifindex)
		metrics_count(peer_ifindex, BPFNET_OK, BPFNET_DIR_TO_CONTAINER, len);
	return 0;
}

/* tc: a host veth's ingress (BPFNET_DIR_FROM_CONTAINER) or an uplink's
 * (BPFNET_DIR_FROM_UPLINK). */
static __always_inline int tc_verdict(struct __sk_buff *skb, int rc, __u32 ifindex, __u8 in_dir,
				      __u32 peer_ifindex, __u32 len)
{
	if (rc == CONTINUE_PASS)
		return TC_ACT_OK;
	if (rc == CONTINUE_ANSWERED)
		return TC_ACT_REDIRECT;
	int drop = count_result(rc, ifindex, in_dir, peer_ifindex, len);

	if (monitor_wants(drop))
		bpfnet_event_skb(skb, ifindex, peer_ifindex,
				 EVENT_META(drop ? BPFNET_EVENT_DROP : BPFNET_EVENT_TRACE,
					    drop ? DROP_REASON(rc) : BPFNET_OK, in_dir,
					    BPFNET_HOOK_TC));
	return drop ? TC_ACT_SHOT : rc;
}

/* XDP runs on uplinks only: what arrives there comes from clients. */
static __always_inline int xdp_verdict(struct xdp_md *ctx, int rc, __u32 ifindex,
				       __u32 peer_ifindex, __u32 len)
{
	if (rc == CONTINUE_PASS)
		return XDP_PASS;
	int drop = count_result(rc, ifindex, BPFNET_DIR_FROM_UPLINK, peer_ifindex, len);

	if (monitor_wants(drop))
		bpfnet_event_xdp(ctx, ifindex, peer_ifindex,
				 EVENT_META(drop ? BPFNET_EVENT_DROP : BPFNET_EVENT_TRACE,
					    drop ? DROP_REASON(rc) : BPFNET_OK,
					    BPFNET_DIR_FROM_UPLINK, BPFNET_HOOK_XDP));
	return drop ? XDP_DROP : rc;
}

#endif
