/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Configuration of bpf/runner.bpf.c, shared with bench/endpoint/harness.cc. */
#ifndef BENCH_RUNNER_CFG_H
#define BENCH_RUNNER_CFG_H

#include <linux/types.h>

#define RUNNER_FRAME_LEN 64	/* every benchmark frame: Ethernet without FCS, padded */
#define RUNNER_SPORT_OFF 34	/* Ethernet + IPv4 without options */
#define RUNNER_TC_FAILED 0x7e57 /* tc verdict when the harness itself failed */

struct runner_cfg {
	__u8 tpl[RUNNER_FRAME_LEN]; /* the frame every run starts from */
	__u32 vary;		    /* 1: source port = base_sport + run number */
	__u32 base_sport;	    /* host order */
};

#endif
