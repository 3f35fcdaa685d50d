/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * TCP sequence tracking for conntrack, per direction, after Linux's
 * nf_conntrack_proto_tcp (tcp_in_window): each entry keeps the end of what
 * its direction sent, the end of what it lets the other direction send (ack +
 * window) and its largest window. A RST is believed only inside that window,
 * so a blind one from outside cannot tear down a flow.
 */
#ifndef BPFNET_LIB_CT_TCP_H
#define BPFNET_LIB_CT_TCP_H

#include "lib/l4.h"
#include "lib/maps.h"

/* The largest window scale (RFC 7323): assumed until a direction's SYN is seen. */
#define CT_TCP_MAX_WSCALE 14
/* Linux's MAXACKWINDOW() for a direction that announced no window yet. */
#define CT_TCP_MAX_ACK_WINDOW 66000

static __always_inline int seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline int seq_after(__u32 a, __u32 b)
{
	return seq_before(b, a);
}

/*
 * @p's window in bytes. A SYN's window is never scaled; a flow picked up
 * mid-stream (its SYN unseen) gets the largest scale, so that its window is
 * never under-estimated and no valid RST is refused (Linux is liberal there too).
 */
static __always_inline __u32 ct_tcp_window(const struct bpfnet_ct_value *v, const struct pkt4 *p)
{
	if (p->tcp_flags & TCP_FLAG_SYN)
		return p->tcp_win;
	__u8 scale = (v->tcp_track & BPFNET_CT_TRK_SCALE) ? v->tcp_wscale : CT_TCP_MAX_WSCALE;
	return (__u32)p->tcp_win << scale;
}

/* Records @p (of @v's direction) in @v's sequence tracking. Writes only what
 * moves, so the entry's cache line stays clean for pure ACKs of one side. */
static __always_inline void ct_tcp_track(struct bpfnet_ct_value *v, const struct pkt4 *p)
{
	__u8 f = p->tcp_flags;
	__u32 end = p->tcp_seq + p->tcp_len + !!(f & TCP_FLAG_SYN) + !!(f & TCP_FLAG_FIN);

	if (f & TCP_FLAG_SYN) {
		v->tcp_wscale = p->tcp_wscale;
		v->tcp_track |= BPFNET_CT_TRK_SCALE;
	}
	if (!(v->tcp_track & BPFNET_CT_TRK_END) || seq_after(end, v->tcp_end)) {
		v->tcp_end = end;
		v->tcp_track |= BPFNET_CT_TRK_END;
	}
	if (!(f & TCP_FLAG_ACK))
		return;
	__u32 win = ct_tcp_window(v, p);
	__u32 maxend = p->tcp_ack + (win ? win : 1);
	if (!(v->tcp_track & BPFNET_CT_TRK_WIN)) {
		v->tcp_maxend = maxend;
		v->tcp_maxwin = win;
		v->tcp_track |= BPFNET_CT_TRK_WIN;
		return;
	}
	if (seq_after(maxend, v->tcp_maxend))
		v->tcp_maxend = maxend;
	if (win > v->tcp_maxwin)
		v->tcp_maxwin = win;
}

/*
 * Whether RST @p, sent in @v's direction to @peer's, is in the window as
 * tcp_in_window() checks it: its sequence at most the receiver's ack + window
 * and above what the receiver already acknowledged minus its largest window;
 * its ack (if any) within what the receiver sent. A bound not yet known is
 * not checked.
 */
static __always_inline int ct_tcp_rst_in_window(const struct bpfnet_ct_value *v,
						const struct bpfnet_ct_value *peer,
						const struct pkt4 *p)
{
	__u32 seq = p->tcp_seq;

	if (!peer)
		return 1;
	if (peer->tcp_track & BPFNET_CT_TRK_WIN) {
		if (!seq_before(seq, peer->tcp_maxend + 1))
			return 0;
		if ((v->tcp_track & BPFNET_CT_TRK_END) &&
		    !seq_after(seq, v->tcp_end - peer->tcp_maxwin - 1))
			return 0;
	}
	if ((p->tcp_flags & TCP_FLAG_ACK) && (peer->tcp_track & BPFNET_CT_TRK_END)) {
		__u32 maxack = (v->tcp_track & BPFNET_CT_TRK_WIN) && v->tcp_maxwin
				   ? v->tcp_maxwin
				   : CT_TCP_MAX_ACK_WINDOW;
		if (!seq_before(p->tcp_ack, peer->tcp_end + 1) ||
		    !seq_after(p->tcp_ack, peer->tcp_end - maxack - 1))
			return 0;
	}
	return 1;
}

#endif
