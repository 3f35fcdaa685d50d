// Overlay networks in the datapath: the decapsulation program at tc ingress
// of the collect-metadata VXLAN device, and the two settings the endpoint
// programs tunnel with (bpfnet_config.vxlan_ifindex, .underlay).
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
  update_config([](bpfnet_config& cfg) {
    cfg.vxlan_ifindex = 0;
    cfg.underlay = 0;
  });
  if (vxlan_ifindex != 0) tc_detach_ingress(vxlan_ifindex);
}

}  // namespace bpfnet::datapath
