/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Martian destinations: addresses no interface may deliver to (RFC 1122
 * 3.2.1.3), which Linux drops as martians on input. bpfnet sees packets
 * before the stack does, so it must drop them itself: otherwise a frame sent
 * to 127.0.0.1 at the host's MAC would match a port published on 127.0.0.1,
 * which only the host itself may reach (through the socket hooks).
 */
#ifndef BPFNET_LIB_MARTIAN_H
#define BPFNET_LIB_MARTIAN_H

#include "lib/common.h"

/* 127/8 (loopback) and 0/8 ("this network"). */
static __always_inline int is_martian_daddr(__be32 daddr)
{
	__u32 first_octet = bpf_ntohl(daddr) >> 24;
	return first_octet == 127 || first_octet == 0;
}

#endif
