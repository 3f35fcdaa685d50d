// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only wrappers around the overlay pipeline (bpf/lib/overlay.h), for
 * what BPF_PROG_TEST_RUN cannot show by itself: a test run's skb carries no
 * tunnel metadata in, and what a program puts on it is not returned.
 *   probe_encap: the container IPv4 pipeline, then the tunnel key it set,
 *                read back with bpf_skb_get_tunnel_key into probe_key.
 *   probe_decap: sets the tunnel key a VXLAN device would have left
 *                (probe_outer_src, probe_vni), then the VXLAN device's
 *                program body, then reads the key back into probe_key (an
 *                answer sent back into the tunnel sets its own).
 * Both count their verdicts as the real programs do. The maps are the
 * Datapath's (the test reuses their fds).
 */
#include "lib/from_container.h"
#include "lib/overlay.h"
#include "lib/verdict.h"

struct bpf_tunnel_key probe_key;
int probe_key_rc;
__u32 probe_outer_src; /* host order, as bpf_tunnel_key */
__u32 probe_vni;

SEC("tc")
int probe_encap(struct __sk_buff* skb) {
  struct fwd_result fwd = {};
  __u32 ifindex = skb->ifindex;
  __u32 len = skb->len;
  const struct bpfnet_endpoint* src = bpf_map_lookup_elem(&bpfnet_ep_if, &ifindex);
  int ret =
      src ? ipv4_from_container(skb, ifindex, src, &fwd) : DROP_ERR(BPFNET_DROP_UNKNOWN_ENDPOINT);

  __builtin_memset(&probe_key, 0, sizeof(probe_key));
  probe_key_rc = bpf_skb_get_tunnel_key(skb, &probe_key, sizeof(probe_key), 0);
  return tc_verdict(skb, ret, ifindex, BPFNET_DIR_FROM_CONTAINER, fwd.peer_ifindex, len);
}

SEC("tc")
int probe_decap(struct __sk_buff* skb) {
  struct fwd_result fwd = {};
  __u32 ifindex = skb->ifindex;
  __u32 len = skb->len;
  /* The kernel keeps one (src, dst) pair per key: set for sending, "local"
   * is the outer source; read back, "remote" is the outer source, as for
   * what a VXLAN device received. */
  struct bpf_tunnel_key key = {.tunnel_id = probe_vni, .local_ipv4 = probe_outer_src};

  if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), 0) < 0) return TC_ACT_UNSPEC;
  int ret = overlay_from_tunnel(skb, &fwd);

  __builtin_memset(&probe_key, 0, sizeof(probe_key));
  probe_key_rc = bpf_skb_get_tunnel_key(skb, &probe_key, sizeof(probe_key), 0);
  return tc_verdict(skb, ret, ifindex, BPFNET_DIR_FROM_UPLINK, fwd.peer_ifindex, len);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
