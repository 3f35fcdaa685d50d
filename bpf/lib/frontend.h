/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Frontends: addresses that stand for a container (or several). A service VIP
 * stands for its backends; a host address's published port for the
 * container port it maps to, which may itself be a service VIP. Every hook
 * that sets up a new flow (uplink, from a container, host sockets) resolves a
 * frontend here; they differ only in which kinds of frontend they serve.
 */
#ifndef BPFNET_LIB_FRONTEND_H
#define BPFNET_LIB_FRONTEND_H

#include "lib/lb.h"
#include "lib/portmap.h"
#include "lib/results.h"

/* Which frontends a hook serves (frontend_target's @kinds). */
#define FRONTEND_VIPS (1U << 0)	      /* service VIPs, addressed directly */
#define FRONTEND_HOST_ADDRS (1U << 1) /* published ports of host addresses */
#define FRONTEND_LOOPBACK (1U << 2)   /* with FRONTEND_HOST_ADDRS: 127/8 too */

/* Where a frontend leads before load balancing. */
struct frontend_target {
	__be32 addr;
	__be16 port;
	const struct bpfnet_svc_value *svc; /* when addr:port is a service VIP */
};

static __always_inline int is_loopback(__be32 addr)
{
	return (bpf_ntohl(addr) >> 24) == 127;
}

/*
 * Resolves @addr:@port/@proto among the frontends of @kinds. Returns 0 with
 * @t filled in; CONTINUE_PASS for a host address whose port is not published
 * (a service of the host itself); CONTINUE_NO_NAT when it is no frontend.
 */
static __always_inline int frontend_target(__be32 addr, __be16 port, __u8 proto, __u32 kinds,
					   struct frontend_target *t)
{
	if (kinds & FRONTEND_VIPS) {
		t->svc = lb_lookup(addr, port, proto);
		if (t->svc) {
			t->addr = addr;
			t->port = port;
			return 0;
		}
	}
	if (!(kinds & FRONTEND_HOST_ADDRS))
		return CONTINUE_NO_NAT;
	if (!((kinds & FRONTEND_LOOPBACK) && is_loopback(addr)) && !is_host_addr(addr))
		return CONTINUE_NO_NAT;
	const struct bpfnet_portmap_value *pm = portmap_lookup(addr, port, proto);
	if (!pm)
		return CONTINUE_PASS;
	t->addr = pm->backend_ip;
	t->port = pm->backend_port;
	t->svc = lb_lookup(t->addr, t->port, proto);
	return 0;
}

/*
 * The translation of a new flow @p to a frontend of @kinds: @xlat is @p's
 * tuple with the destination the frontend leads to (a service's backend
 * picked by a hash of @p's tuple), @flags the conntrack flags it gets.
 * Returns 0, frontend_target's continuations, or a drop.
 */
static __always_inline int frontend_resolve(const struct pkt4 *p, __u32 kinds,
					    struct bpfnet_ct_key *xlat, __u8 *flags)
{
	struct frontend_target t;
	int rc = frontend_target(p->key.daddr, p->key.dport, p->key.proto, kinds, &t);
	if (rc)
		return rc;
	*xlat = p->key;
	xlat->daddr = t.addr;
	xlat->dport = t.port;
	*flags = BPFNET_CT_F_DNAT;
	if (!t.svc)
		return 0;
	*flags |= BPFNET_CT_F_LB;
	return lb_select(t.svc, &p->key, &xlat->daddr);
}

#endif
