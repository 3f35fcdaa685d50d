/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Fragments follow their flow. Only a datagram's first fragment carries its
 * ports; the later ones would match no flow and could not be translated.
 * The first fragment records its ports in bpfnet_frags under (saddr, daddr,
 * IP id, proto), and each later fragment takes them from there, is matched
 * to the same conntrack entry and has only its addresses rewritten (the L4
 * checksum, in the first fragment, covers the whole datagram).
 *
 * A tracking map rather than reassembly, as Cilium does: BPF cannot hold a
 * packet back, so reassembly would mean handing every fragment to the host
 * stack and losing XDP and the redirect paths; the map costs one LRU update
 * per datagram and one lookup per later fragment. The price: a later
 * fragment that overtakes its first is not matched (Linux sends fragments in
 * order, first first) and is dropped, counted as frag-no-flow.
 */
#ifndef BPFNET_LIB_FRAG_H
#define BPFNET_LIB_FRAG_H

#include "lib/clock.h"
#include "lib/l4.h"
#include "lib/maps.h"

#ifndef IP_MF
#define IP_MF 0x2000
#endif

/*
 * After parse_pkt4 (its result @parsed): marks @p's place in a fragmented
 * datagram (p->frag) and, for a later fragment of a datagram whose first
 * fragment was seen, fills in the ports and returns PARSE_OK. Returns
 * @parsed otherwise (PARSE_NO_PORTS for a later fragment with no entry).
 */
static __always_inline int frag_follow(void *data, void *data_end, struct pkt4 *p, int parsed)
{
	struct iphdr *ip = data + ETH_HLEN;

	if (parsed != PARSE_OK && parsed != PARSE_NO_PORTS)
		return parsed;
	if ((void *)(ip + 1) > data_end)
		return parsed;
	if (!(ip->frag_off & bpf_htons(IP_MF | IP_OFFSET_MASK)))
		return parsed;

	struct bpfnet_frag_key key = {
	    .saddr = ip->saddr, .daddr = ip->daddr, .id = ip->id, .proto = ip->protocol};
	__u64 now = coarse_now_ns();
	if (!(ip->frag_off & bpf_htons(IP_OFFSET_MASK))) {
		p->frag = PKT_FRAG_FIRST;
		if (parsed == PARSE_OK) {
			struct bpfnet_frag_value v = {.expires_ns = now + BPFNET_FRAG_TIMEOUT,
						      .sport = p->key.sport,
						      .dport = p->key.dport};
			bpf_map_update_elem(&bpfnet_frags, &key, &v, BPF_ANY);
		}
		return parsed;
	}
	p->frag = PKT_FRAG_LATER;
	const struct bpfnet_frag_value *v = bpf_map_lookup_elem(&bpfnet_frags, &key);
	if (!v || v->expires_ns < now)
		return PARSE_NO_PORTS;
	p->key.sport = v->sport;
	p->key.dport = v->dport;
	return PARSE_OK;
}

/* A later fragment nothing recorded: the reason it is dropped for. */
static __always_inline int frag_untracked(const struct pkt4 *p)
{
	return p->frag == PKT_FRAG_LATER;
}

#endif
