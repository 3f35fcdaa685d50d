// Programs one "host" of tests/e2e/overlay_datapath.sh without the control
// plane: the VXLAN device, the real BPF programs (Datapath, maps pinned under
// --pin) and one overlay network with its local and remote endpoints written
// as MapContents, as the daemon's projection would. Run inside the host's
// namespace (ip netns exec).
//
//   overlay_host program --pin DIR --underlay IFACE --underlay-ip IP --vni N
//       --subnet A.B.C.D/LEN --gateway IP [--no-icc] [--internal] [--encap bpf|device]
//       --local HOSTVETH,IP,MAC ... --remote IP,MAC,HOSTIP ...
//   overlay_host counters --pin DIR
//       one line per counter: IFNAME REASON DIR PACKETS
#include <arpa/inet.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bpfnet_abi.h"
#include "core/drop_reasons.h"
#include "datapath/datapath.h"
#include "netlink/rtnetlink.h"

namespace {

using namespace bpfnet;

constexpr uint32_t kNetwork = 1;
constexpr unsigned kVxlanOverhead = 50;  // outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8

uint32_t parse_ip(const std::string& s) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) throw std::invalid_argument("bad IPv4 address " + s);
  return ntohl(a.s_addr);
}

datapath::MacBytes parse_mac(const std::string& s) {
  datapath::MacBytes m{};
  unsigned v[6];
  if (std::sscanf(s.c_str(), "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
    throw std::invalid_argument("bad MAC " + s);
  for (int i = 0; i < 6; ++i) m[i] = static_cast<uint8_t>(v[i]);
  return m;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);) out.push_back(part);
  return out;
}

struct Args {
  std::string command;
  std::map<std::string, std::vector<std::string>> options;  // --name -> values
  std::string one(const std::string& name) const {
    auto it = options.find(name);
    if (it == options.end() || it->second.size() != 1)
      throw std::invalid_argument("need exactly one --" + name);
    return it->second.front();
  }
  const std::vector<std::string>& all(const std::string& name) const {
    static const std::vector<std::string> none;
    auto it = options.find(name);
    return it == options.end() ? none : it->second;
  }
  bool flag(const std::string& name) const { return options.contains(name); }
};

Args parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("usage: overlay_host program|counters --pin DIR ...");
  Args a{argv[1], {}};
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) throw std::invalid_argument("unexpected argument " + arg);
    std::string name = arg.substr(2);
    bool is_flag = name == "no-icc" || name == "internal";
    if (is_flag) {
      a.options[name];
    } else {
      if (i + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      a.options[name].push_back(argv[++i]);
    }
  }
  return a;
}

int program(const Args& a) {
  netlink::Netlink nl;
  netlink::LinkInfo underlay = nl.get_link(a.one("underlay"));
  netlink::LinkInfo vxlan = nl.ensure_vxlan_device("bpfnet_vxlan", 4789, underlay.mtu);

  datapath::Datapath dp(datapath::DatapathOptions{.pin_dir = a.one("pin")});
  const uint32_t underlay_ip = parse_ip(a.one("underlay-ip"));
  dp.attach_overlay(static_cast<uint32_t>(vxlan.ifindex), underlay_ip);
  // VXLAN in BPF on the underlay interface, as bpfnetd's default
  // (--overlay-encap bpf), or through the device only.
  const std::string encap = a.options.contains("encap") ? a.one("encap") : "bpf";
  if (encap != "bpf" && encap != "device") throw std::invalid_argument("--encap bpf|device");
  unsigned prefix_len = 0;
  for (const auto& addr : nl.list_addresses(a.one("underlay")))
    if (addr.addr == underlay_ip) prefix_len = static_cast<unsigned>(addr.prefix_len);
  if (encap == "bpf" && prefix_len == 0)
    throw std::invalid_argument("--underlay-ip is not an address of --underlay");
  dp.attach_underlay(encap == "bpf" ? static_cast<uint32_t>(underlay.ifindex) : 0, prefix_len);

  auto subnet = split(a.one("subnet"), '/');
  if (subnet.size() != 2) throw std::invalid_argument("--subnet wants A.B.C.D/LEN");
  uint32_t flags = BPFNET_NET_F_OVERLAY;
  if (!a.flag("no-icc")) flags |= BPFNET_NET_F_ICC;
  if (a.flag("internal")) flags |= BPFNET_NET_F_INTERNAL;
  const uint32_t vni = static_cast<uint32_t>(std::stoul(a.one("vni")));

  datapath::MapContents want;
  want.networks[kNetwork] = datapath::NetworkEntry{kNetwork,
                                                   parse_ip(subnet[0]),
                                                   static_cast<uint8_t>(std::stoi(subnet[1])),
                                                   parse_ip(a.one("gateway")),
                                                   flags,
                                                   underlay.mtu - kVxlanOverhead,
                                                   vni};
  for (const auto& spec : a.all("local")) {
    auto f = split(spec, ',');
    if (f.size() != 3) throw std::invalid_argument("--local wants HOSTVETH,IP,MAC");
    netlink::LinkInfo veth = nl.get_link(f[0]);
    auto ifindex = static_cast<uint32_t>(veth.ifindex);
    dp.attach_endpoint(ifindex);
    want.add_endpoint(
        datapath::EndpointEntry{ifindex, kNetwork, parse_ip(f[1]), parse_mac(f[2]), veth.mac});
  }
  for (const auto& spec : a.all("remote")) {
    auto f = split(spec, ',');
    if (f.size() != 3) throw std::invalid_argument("--remote wants IP,MAC,HOSTIP");
    uint32_t ip = parse_ip(f[0]);
    want.tunnels[ip] = datapath::TunnelEntry{ip, parse_ip(f[2]), vni, kNetwork, parse_mac(f[1])};
  }
  dp.apply(datapath::diff(dp.read_maps(), want));
  if (dp.read_maps() != want) throw std::runtime_error("maps differ from what was written");
  std::cout << "programmed: vxlan ifindex " << vxlan.ifindex << ", mtu " << vxlan.mtu << "\n";
  return 0;
}

int counters(const Args& a) {
  datapath::Datapath dp(datapath::DatapathOptions{.pin_dir = a.one("pin")});
  for (const auto& row : dp.read_metrics()) {
    char name[IF_NAMESIZE] = {};
    const char* ifname = if_indextoname(row.ifindex, name) ? name : "?";
    std::cout << ifname << " " << core::drop_reason_name(row.reason) << " "
              << static_cast<int>(row.dir) << " " << row.packets << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args a = parse(argc, argv);
    if (a.command == "program") return program(a);
    if (a.command == "counters") return counters(a);
    throw std::invalid_argument("unknown command " + a.command);
  } catch (const std::exception& e) {
    std::cerr << "overlay_host: " << e.what() << "\n";
    return 1;
  }
}
