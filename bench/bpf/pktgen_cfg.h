/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Configuration of bpf/pktgen.bpf.c, shared with bench/pktgen.cc. */
#ifndef BENCH_PKTGEN_CFG_H
#define BENCH_PKTGEN_CFG_H

#include <linux/types.h>

#define PKTGEN_TPL_LEN 56 /* Ethernet + IPv4 + TCP (54) rounded up to 8 */

/* PKTGEN_FLOW_ADDR_PORT: flow k has source port base_port + (k mod 65536)
 * (wrapping) and source address base_saddr + k / 65536, so up to 2^24
 * distinct tuples (new-flow floods larger than any conntrack). */
enum pktgen_flow_field {
	PKTGEN_FLOW_SPORT = 0,
	PKTGEN_FLOW_SADDR = 1,
	PKTGEN_FLOW_DPORT = 2,
	PKTGEN_FLOW_ADDR_PORT = 3,
};

struct pktgen_cfg {
	__u8 tpl[PKTGEN_TPL_LEN]; /* header of flow 0, checksums included */
	__u32 ifindex;		  /* redirect target; 0 = XDP_TX */
	__u32 nflows;		  /* >= 1 */
	__u32 flow_field;	  /* enum pktgen_flow_field */
	__u32 l4proto;		  /* 17 or 6 */
	__u32 base_saddr;	  /* host order */
	__u32 base_port;	  /* host order: sport or dport of flow 0 */
};

#endif
