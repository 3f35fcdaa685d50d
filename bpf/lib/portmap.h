/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Published ports: which container a host address:port leads to. */
#ifndef BPFNET_LIB_PORTMAP_H
#define BPFNET_LIB_PORTMAP_H

#include "lib/maps.h"

static __always_inline int is_host_addr(__be32 addr)
{
	return bpf_map_lookup_elem(&bpfnet_hostaddr, &addr) != 0;
}

/* Exact host address first, then the 0.0.0.0 binding. Two O(1) lookups. */
static __always_inline const struct bpfnet_portmap_value *portmap_lookup(__be32 addr, __be16 port,
									 __u8 proto)
{
	struct bpfnet_portmap_key key = {.addr = addr, .port = port, .proto = proto};
	const struct bpfnet_portmap_value *v = bpf_map_lookup_elem(&bpfnet_portmap, &key);
	if (v)
		return v;
	key.addr = 0;
	return bpf_map_lookup_elem(&bpfnet_portmap, &key);
}

#endif
