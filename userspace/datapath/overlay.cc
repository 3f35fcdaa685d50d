// Overlay networks in the datapath: the decapsulation programs at tc ingress
// of the collect-metadata VXLAN device and of the underlay interface, and
// the settings the endpoint programs tunnel with (bpfnet_config.vxlan_ifindex,
// .underlay, .underlay_ifindex, .underlay_mask).
#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include "bpfnet_abi.h"
#include "datapath/bpf_calls.h"
#include "datapath/datapath.h"
#include "overlay_bpf.skel.h"

namespace bpfnet::datapath {

using namespace bpf_calls;

int Datapath::from_overlay_prog_fd() const {
  return bpf_program__fd(overlay_->progs.bpfnet_from_overlay);
}

int Datapath::from_underlay_prog_fd() const {
  return bpf_program__fd(overlay_->progs.bpfnet_from_underlay);
}

void Datapath::attach_overlay(uint32_t vxlan_ifindex, uint32_t underlay_ip) {
  if (vxlan_ifindex == 0) throw DatapathError("attach overlay: no VXLAN device (ifindex 0)");
  if (underlay_ip == 0) throw DatapathError("attach overlay: no underlay address (0.0.0.0)");
  // The program first: the endpoint programs tunnel only once the device
  // delivers what comes back.
  tc_attach(vxlan_ifindex, from_overlay_prog_fd(), -1);
  update_config([&](bpfnet_config& cfg) {
    cfg.vxlan_ifindex = vxlan_ifindex;
    cfg.underlay = htonl(underlay_ip);
  });
}

void Datapath::detach_overlay(uint32_t vxlan_ifindex) {
  uint32_t underlay_ifindex = 0;
  update_config([&](bpfnet_config& cfg) {
    underlay_ifindex = cfg.underlay_ifindex;
    cfg.vxlan_ifindex = 0;
    cfg.underlay = 0;
    cfg.underlay_ifindex = 0;
    cfg.underlay_mask = 0;
  });
  if (underlay_ifindex != 0) tc_detach_ingress(underlay_ifindex, kTcUnderlayHandle);
  if (vxlan_ifindex != 0) tc_detach_ingress(vxlan_ifindex);
}

void Datapath::attach_underlay(uint32_t ifindex, unsigned prefix_len) {
  if (prefix_len > 32) throw DatapathError(fmt::format("attach underlay: prefix /{}", prefix_len));
  uint32_t before = 0;
  update_config([&](bpfnet_config& cfg) { before = cfg.underlay_ifindex; });
  // Decapsulation first: what the endpoint programs then send in BPF comes
  // back through it. Taken off and put back: tc tries filters of one
  // priority newest first, and an uplink's on the same interface must come
  // after it (else the uplink program passes VXLAN on to the VXLAN device:
  // still delivered, the slow way).
  if (ifindex != 0) {
    tc_detach_ingress(ifindex, kTcUnderlayHandle);
    tc_attach(ifindex, from_underlay_prog_fd(), -1, kTcUnderlayHandle);
  }
  const uint32_t mask = prefix_len == 0 ? 0 : ~uint32_t{0} << (32 - prefix_len);
  update_config([&](bpfnet_config& cfg) {
    cfg.underlay_ifindex = ifindex;
    cfg.underlay_mask = htonl(mask);
  });
  if (before != 0 && before != ifindex) tc_detach_ingress(before, kTcUnderlayHandle);
}

}  // namespace bpfnet::datapath
