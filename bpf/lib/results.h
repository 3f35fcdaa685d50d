/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What a pipeline stage returns, in three ranges that cannot meet:
 *   - a verdict: a TC_ACT_* or XDP_* action (what helpers such as
 *     bpf_redirect() give), 0 to TC_ACT_VALUE_MAX;
 *   - a continuation (enum continuation): not a verdict, the next stage goes
 *     on, at CONTINUE_FIRST and above;
 *   - a drop: DROP_ERR(reason), negative, below every -errno value, turned
 *     back into its bpfnet_reason by DROP_REASON() where the hook's verdict is
 *     counted (lib/verdict.h), as Cilium's DROP_* codes are.
 */
#ifndef BPFNET_LIB_RESULTS_H
#define BPFNET_LIB_RESULTS_H

#include "lib/common.h"

enum continuation {
	CONTINUE_FIRST = 0x1000,
	/* Not ours: the kernel gets the packet unchanged, and it is not counted. */
	CONTINUE_PASS = CONTINUE_FIRST,
	/* No translation applies: go on with plain forwarding. */
	CONTINUE_NO_NAT,
	/* Leaves every bpfnet network: the host, or the world (masquerade). */
	CONTINUE_BEYOND_NETWORKS,
	/* tc: the packet became an ICMP error sent back by bpf_redirect()
	 * (lib/icmp_reply.h), its drop counted already. */
	CONTINUE_ANSWERED,
	CONTINUE_LAST = CONTINUE_ANSWERED,
};

#define BPFNET_MAX_ERRNO 4095
#define BPFNET_DROP_ERR_BASE (BPFNET_MAX_ERRNO + 1)
#define DROP_ERR(reason) (-(BPFNET_DROP_ERR_BASE + (int)(reason)))
#define DROP_REASON(err) ((__u8)(-(err)-BPFNET_DROP_ERR_BASE))

_Static_assert(CONTINUE_FIRST > TC_ACT_VALUE_MAX, "a continuation is not a tc action");
_Static_assert(CONTINUE_FIRST > XDP_REDIRECT, "a continuation is not an XDP action");
_Static_assert(CONTINUE_LAST < TC_ACT_JUMP, "a continuation is not an extended tc opcode");
_Static_assert(DROP_ERR(0) < -BPFNET_MAX_ERRNO, "a drop is not a -errno");
_Static_assert(DROP_ERR(0) < TC_ACT_UNSPEC, "a drop is not TC_ACT_UNSPEC");
_Static_assert(DROP_ERR(255) > -0x7fffffff, "every u8 reason has its drop");

#define BPFNET_DROP_ROUND_TRIP(code, id, name, meaning)                                            \
	_Static_assert(DROP_REASON(DROP_ERR(BPFNET_DROP_##id)) == BPFNET_DROP_##id, name);
BPFNET_DROP_REASONS(BPFNET_DROP_ROUND_TRIP)
#undef BPFNET_DROP_ROUND_TRIP

#endif
