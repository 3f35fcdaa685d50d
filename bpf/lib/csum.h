/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Incremental checksum updates (RFC 1624) on raw packet memory, and the
 * 32-bit differences (a kernel __wsum) that bpf_l4_csum_replace() applies in
 * one call: XDP rewrites checksums itself; tc leaves the L4 checksum to the
 * helper, which also keeps the skb's checksum state (CHECKSUM_PARTIAL,
 * COMPLETE) right, and writes the rest itself (the IP header checksum is
 * never partial, and kept consistent it leaves a COMPLETE sum unchanged).
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

/* One's complement sum of two 32-bit words (the kernel's csum_add). */
static __always_inline __u32 csum_add32(__u32 a, __u32 b)
{
	a += b;
	return a + (a < b);
}

/* What turns a sum over @from into one over @to (as bpf_csum_diff would). */
static __always_inline __u32 csum_diff32(__u32 from, __u32 to)
{
	return csum_add32(~from, to);
}

/* *field is a one's complement checksum; add the difference @diff to it. */
static __always_inline void csum_apply(__sum16 *field, __u32 diff)
{
	__u32 sum = csum_add32(diff, (__u16) ~*field);
	*field = (__sum16)~csum_fold32(sum);
}

#endif
