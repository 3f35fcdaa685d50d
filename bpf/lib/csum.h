/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Incremental checksum updates (RFC 1624) on raw packet memory, for XDP where
 * there are no skb checksum helpers. tc programs use bpf_l3/l4_csum_replace,
 * which also keep the skb's checksum state (CHECKSUM_PARTIAL/COMPLETE) right.
 */
#ifndef BPFNET_LIB_CSUM_H
#define BPFNET_LIB_CSUM_H

#include "lib/common.h"

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* *field is a one's complement checksum covering `from`; make it cover `to`. */
static __always_inline void csum_replace4(__sum16 *field, __be32 from, __be32 to)
{
	__u32 sum = (__u16) ~*field;
	sum += (__u16)~from + (__u16) ~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	*field = (__sum16)~csum_fold32(sum);
}

static __always_inline void csum_replace2(__sum16 *field, __be16 from, __be16 to)
{
	__u32 sum = (__u16) ~*field;
	sum += (__u16)~from;
	sum += (__u16)to;
	*field = (__sum16)~csum_fold32(sum);
}

#endif
