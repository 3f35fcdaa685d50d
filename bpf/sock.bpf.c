// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup socket hooks: host processes reach published ports on 127.0.0.1 or
 * any host address without a proxy. connect4/sendmsg4 rewrite the
 * destination to the container before the socket routes; getpeername4 and
 * recvmsg4 show the address the application asked for. Only sockets of the
 * daemon's own network namespace are touched.
 */
#include "lib/common.h"
#include "lib/frontend.h"
#include "lib/maps.h"

static __always_inline int in_host_netns(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	return cfg && cfg->host_netns_cookie && bpf_get_netns_cookie(ctx) == cfg->host_netns_cookie;
}

/* Destination rewrite for connect() and unconnected sendmsg(). */
static __always_inline void xlate_dest(struct bpf_sock_addr *ctx)
{
	if (!in_host_netns(ctx))
		return;
	__be32 ip = ctx->user_ip4;
	__be16 port = (__be16)ctx->user_port;
	__u8 proto = (__u8)ctx->protocol;
	struct frontend_target t;

	if (frontend_target(ip, port, proto,
			    FRONTEND_VIPS | FRONTEND_HOST_ADDRS | FRONTEND_LOOPBACK, &t))
		return;
	if (t.svc) {
		/* No source port yet: the socket cookie stands in for it. The
		 * client is the host itself (address 0 for affinity). */
		__u64 cookie = bpf_get_socket_cookie(ctx);
		struct bpfnet_ct_key k = {.saddr = 0,
					  .daddr = t.addr,
					  .sport =
					      (__u16)(cookie ^ (cookie >> 16) ^ (cookie >> 32)),
					  .dport = t.port,
					  .proto = proto};
		if (lb_select(t.svc, &k, &t.addr))
			return; /* no backend: the connect fails on its own */
	}
	struct bpfnet_sock_orig *orig =
	    bpf_sk_storage_get(&bpfnet_sock_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (orig) {
		orig->orig_ip = ip;
		orig->orig_port = port;
		orig->backend_ip = t.addr;
		orig->backend_port = t.port;
	}
	ctx->user_ip4 = t.addr;
	ctx->user_port = t.port;
}

/* The reverse, for getpeername() and the source of received datagrams. */
static __always_inline void xlate_source(struct bpf_sock_addr *ctx)
{
	struct bpfnet_sock_orig *orig = bpf_sk_storage_get(&bpfnet_sock_orig, ctx->sk, 0, 0);
	if (orig && ctx->user_ip4 == orig->backend_ip &&
	    (__be16)ctx->user_port == orig->backend_port) {
		ctx->user_ip4 = orig->orig_ip;
		ctx->user_port = orig->orig_port;
	}
}

/* A socket hook @name in section @sec: @xlate the address, let the call go on. */
#define SOCK_ADDR_HOOK(sec, name, xlate)                                                           \
	SEC(sec) int name(struct bpf_sock_addr *ctx)                                               \
	{                                                                                          \
		xlate(ctx);                                                                        \
		return 1;                                                                          \
	}

SOCK_ADDR_HOOK("cgroup/connect4", bpfnet_sock_connect4, xlate_dest)
SOCK_ADDR_HOOK("cgroup/sendmsg4", bpfnet_sock_sendmsg4, xlate_dest)
SOCK_ADDR_HOOK("cgroup/recvmsg4", bpfnet_sock_recvmsg4, xlate_source)
SOCK_ADDR_HOOK("cgroup/getpeername4", bpfnet_sock_getpeername4, xlate_source)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
