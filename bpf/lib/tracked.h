/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A packet of a flow conntrack translates, wherever it enters (a container's
 * veth, the VXLAN device): rewritten to the tuple its entry holds and
 * delivered where the entry's cached destination says.
 */
#ifndef BPFNET_LIB_TRACKED_H
#define BPFNET_LIB_TRACKED_H

#include "lib/conntrack.h"
#include "lib/deliver.h"
#include "lib/nat.h"

/* CONTINUE_NO_NAT when @p's tuple has no flow. */
static __always_inline int tracked_deliver(struct __sk_buff *skb, __u32 ifindex,
					   const struct pkt4 *p, struct fwd_result *fwd)
{
	struct bpfnet_ct_value *ct;
	int rc = ct_lookup_live(p, &ct);
	if (rc)
		return rc;
	if (!ct)
		return CONTINUE_NO_NAT;
	struct bpfnet_ct_key to = {};
	struct bpfnet_ct_dest dest = {};
	ct_rewrite_of(ct, &to);
	dest_of(ct->daddr, &ct->dest, &dest);
	int err = xlate_skb(skb, p, &to);
	if (err)
		return err;
	return deliver_skb(skb, ifindex, to.saddr, to.daddr, &dest, p, fwd);
}

#endif
