/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Includes and small helpers every bpfnet program needs. */
#ifndef BPFNET_LIB_COMMON_H
#define BPFNET_LIB_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bpfnet_abi.h"

#define ETH_ALEN_BYTES 6

/*
 * A global subprogram: the verifier checks it once, on its own, rather than
 * inline at every call site in every state its callers reach. For a loop
 * whose states the verifier cannot merge (lib/l4.h's TCP option walk), that
 * is the difference between a few hundred instructions and the 1M budget.
 * Its pointer arguments are declared non-null (BPF_ARG_NONNULL, kernel >=
 * 6.8) and point to memory of their type's size.
 */
#define BPF_SUBPROG __attribute__((noinline))
#define BPF_ARG_NONNULL __attribute__((btf_decl_tag("arg:nonnull")))

static __always_inline int mac_equal(const __u8 *a, const __u8 *b)
{
	/* 4 + 2 bytes: two compares instead of a six-iteration loop. */
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

static __always_inline void mac_copy(__u8 *dst, const __u8 *src)
{
	/* memcpy, not word copies: sources on the stack may be unaligned. */
	__builtin_memcpy(dst, src, ETH_ALEN_BYTES);
}

/*
 * skb->data and skb->data_end, each loaded by one instruction at its fixed
 * offset. With many plain reads of them inlined into one program, clang may
 * compute &skb->data_end once into a register and load through it, which the
 * verifier refuses ("dereference of modified ctx ptr").
 */
#define SKB_CTX_LOAD(skb, field)                                                                   \
	({                                                                                         \
		long _v;                                                                           \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                                              \
			     : "=r"(_v)                                                            \
			     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, field)));        \
		(void *)_v;                                                                        \
	})
#define skb_data(skb) SKB_CTX_LOAD(skb, data)
#define skb_data_end(skb) SKB_CTX_LOAD(skb, data_end)

/* Makes the first @len bytes of the packet direct-access (a no-op when they
 * are already linear); the caller re-reads skb->data and data_end. */
static __always_inline void skb_pull_headers(struct __sk_buff *skb, __u32 len)
{
	if ((void *)(long)skb->data + len > (void *)(long)skb->data_end && skb->len >= len)
		bpf_skb_pull_data(skb, len);
}

#endif
