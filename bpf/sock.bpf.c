// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * cgroup socket hooks: host processes reach published ports on 127.0.0.1 or
 * any host address without a proxy. connect4/sendmsg4 rewrite the
 * destination to the container before the socket routes; getpeername4 and
 * recvmsg4 show the address the application asked for. Only sockets of the
 * daemon's own network namespace are touched.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/lb.h"
#include "lib/portmap.h"

static __always_inline int in_host_netns(struct bpf_sock_addr *ctx)
{
	__u32 zero = 0;
	const struct bpfnet_config *cfg = bpf_map_lookup_elem(&bpfnet_config, &zero);
	return cfg && cfg->host_netns_cookie && bpf_get_netns_cookie(ctx) == cfg->host_netns_cookie;
}

static __always_inline int is_loopback(__be32 addr)
{
	return (bpf_ntohl(addr) >> 24) == 127;
}

/* Destination rewrite for connect() and unconnected sendmsg(). */
static __always_inline void xlate_dest(struct bpf_sock_addr *ctx)
{
	if (!in_host_netns(ctx))
		return;
	__be32 ip = ctx->user_ip4;
	__be16 port = (__be16)ctx->user_port;
	__u8 proto = (__u8)ctx->protocol;
	struct bpfnet_portmap_value target = {.backend_ip = ip, .backend_port = port};

	if (!lb_lookup(ip, port, proto)) {
		if (!is_loopback(ip) && !is_host_addr(ip))
			return;
		const struct bpfnet_portmap_value *pm = portmap_lookup(ip, port, proto);
		if (!pm)
			return;
		target = *pm;
	}
	const struct bpfnet_svc_value *svc =
	    lb_lookup(target.backend_ip, target.backend_port, proto);
	if (svc) {
		/* No source port yet: the socket cookie stands in for it. The
		 * client is the host itself (address 0 for affinity). */
		__u64 cookie = bpf_get_socket_cookie(ctx);
		struct bpfnet_ct_key k = {.saddr = 0,
					  .daddr = target.backend_ip,
					  .sport =
					      (__u16)(cookie ^ (cookie >> 16) ^ (cookie >> 32)),
					  .dport = target.backend_port,
					  .proto = proto};
		if (lb_select(svc, &k, &target.backend_ip))
			return; /* no backend: the connect fails on its own */
	}
	const struct bpfnet_portmap_value *pm = &target;
	struct bpfnet_sock_orig *orig =
	    bpf_sk_storage_get(&bpfnet_sock_orig, ctx->sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (orig) {
		orig->orig_ip = ip;
		orig->orig_port = port;
		orig->backend_ip = pm->backend_ip;
		orig->backend_port = pm->backend_port;
	}
	ctx->user_ip4 = pm->backend_ip;
	ctx->user_port = pm->backend_port;
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

SEC("cgroup/connect4")
int bpfnet_sock_connect4(struct bpf_sock_addr *ctx)
{
	xlate_dest(ctx);
	return 1;
}

SEC("cgroup/sendmsg4")
int bpfnet_sock_sendmsg4(struct bpf_sock_addr *ctx)
{
	xlate_dest(ctx);
	return 1;
}

SEC("cgroup/recvmsg4")
int bpfnet_sock_recvmsg4(struct bpf_sock_addr *ctx)
{
	xlate_source(ctx);
	return 1;
}

SEC("cgroup/getpeername4")
int bpfnet_sock_getpeername4(struct bpf_sock_addr *ctx)
{
	xlate_source(ctx);
	return 1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
