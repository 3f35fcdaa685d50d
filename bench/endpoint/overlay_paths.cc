// Overlay networks across hosts (issue 13): a container's packet to an
// endpoint on another host, through the from-container tc program, with the
// tunnel map holding `remotes` entries. The verdict is the redirect to the
// VXLAN device, after the tunnel lookup, the isolation rules and the tunnel
// key (bpf_skb_set_tunnel_key); the device's encapsulation is the kernel's.
#include "endpoint/paths.h"
#include "endpoint/worlds.h"

namespace bpfnet::bench {

namespace {

Case overlay_case(const OverlayWorld& w, Bytes frame) {
  Case c;
  c.prog = w.dp->from_container_prog_fd();
  c.frame = std::move(frame);
  c.want = kRedirect;
  return c;
}

void BM_OverlayEncap(benchmark::State& s) {  // A -> the last remote endpoint
  const OverlayWorld& w = overlay_world(s);
  measure(s, overlay_case(w, udp(kMacB, kMacA, ip4("10.50.0.2"), w.target, 33000, 53)));
}

}  // namespace

const std::vector<Path> kOverlayPaths = {
    {"overlay_encap", BM_OverlayEncap},
};

}  // namespace bpfnet::bench
