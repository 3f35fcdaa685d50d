#include "packet_invariants.h"

#include <fmt/format.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <optional>

#include "packet_frames.h"

namespace bpfnet::fuzz {
namespace {

bool is_loopback(uint32_t ip) { return (ip >> 24) == 127; }

std::string ip_text(uint32_t ip) { return core::Ipv4{ip}.to_string(); }

std::string mac_text(const uint8_t* mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

bool tc(Program program) { return program != Program::kXdpUplink; }

// Whether the frame reaches the container whose address it is for: the
// program redirects it, or (tc) hands it to the host, which routes it there
// over the container's /32.
bool reaches(const Run& run) {
  if (!tc(run.program)) return run.verdict == XDP_REDIRECT;
  return run.verdict == TC_ACT_REDIRECT || run.verdict == TC_ACT_OK;
}

bool joined(const Run& run, uint32_t a, uint32_t b) { return run.flows_before.contains({a, b}); }

// Whether conntrack already joined the parties of the frame before it ran:
// its own addresses (in or out), or for an ICMP error the flow it quotes,
// delivered to a party of that flow (and, from a container, sent by one).
bool in_known_flow(const Run& run, const Ipv4View& in, const Ipv4View& out, uint32_t to) {
  if (!in.icmp_error) return joined(run, in.saddr, in.daddr) || joined(run, out.saddr, out.daddr);
  if (!in.quoted || !out.quoted) return false;
  const auto& [qs, qd] = *in.quoted;
  const auto& [os, od] = *out.quoted;
  if (!joined(run, qs, qd) && !joined(run, os, od)) return false;
  if (os != to && od != to) return false;
  return run.program != Program::kFromContainer ||
         (qs == run.endpoint->ip || qd == run.endpoint->ip);
}

bool through_published_port(const PacketWorld& world, const Ipv4View& in, uint32_t to) {
  return in.ports && !is_loopback(in.daddr) && world.is_host_address(in.daddr) &&
         world.forwarded_to(in.daddr, in.ports->second, in.proto, to);
}

class Checker {
 public:
  Checker(const PacketWorld& world, const Run& run) : world_(world), run_(run) {}

  std::vector<Violation> check() {
    check_verdict();
    if (dropped(run_)) return std::move(found_);
    if (run_.out.size() > run_.in.size() + kMaxGrowth)
      add("length", fmt::format("{} bytes in, {} out", run_.in.size(), run_.out.size()));
    in_ = ipv4_view(run_.in);
    out_ = ipv4_view(run_.out);
    if (run_.program == Program::kFromContainer) check_sender();
    if (in_ && out_ && reaches(run_)) check_destination();
    if (in_ && run_.program != Program::kToContainer && is_loopback(in_->daddr))
      add("martian", fmt::format("to {} not dropped", ip_text(in_->daddr)));
    check_checksums();
    return std::move(found_);
  }

 private:
  void add(std::string invariant, std::string detail) {
    found_.push_back(Violation{std::move(invariant), std::move(detail)});
  }

  void check_verdict() {
    const uint32_t v = run_.verdict;
    const bool known = tc(run_.program)
                           ? (v == TC_ACT_OK || v == TC_ACT_SHOT || v == TC_ACT_REDIRECT)
                           : (v == XDP_DROP || v == XDP_PASS || v == XDP_TX || v == XDP_REDIRECT);
    if (!known) add("verdict", fmt::format("verdict {}", v));
  }

  void check_sender() {
    const EndpointFacts& x = *run_.endpoint;
    const Bytes& f = run_.in;
    if (f.size() < 14 || !std::equal(x.mac.begin(), x.mac.end(), f.begin() + 6)) {
      add("anti-spoofing",
          fmt::format("source MAC {} from {}", f.size() < 14 ? "?" : mac_text(&f[6]), x.container));
      return;
    }
    if (in_ && in_->saddr != x.ip)
      add("anti-spoofing", fmt::format("source {} from {}", ip_text(in_->saddr), x.container));
    if (auto arp = arp_sender(f)) {
      if (!std::equal(x.mac.begin(), x.mac.end(), arp->first.begin()) ||
          (arp->second != x.ip && arp->second != 0))
        add("anti-spoofing", fmt::format("ARP sender {} {} from {}", mac_text(arp->first.data()),
                                         ip_text(arp->second), x.container));
    }
  }

  void check_destination() {
    const EndpointFacts* y = world_.endpoint_by_ip(out_->daddr);
    if (run_.program == Program::kFromContainer) {
      from_container(y);
    } else if (run_.program != Program::kToContainer && y != nullptr) {
      from_uplink(*y);
    }
  }

  void from_container(const EndpointFacts* y) {
    const EndpointFacts& x = *run_.endpoint;
    const NetworkFacts& net = world_.network(x.network_id);
    const std::string what = fmt::format("{} ({}) to {} reaches {}", x.container, ip_text(x.ip),
                                         ip_text(in_->daddr), ip_text(out_->daddr));
    if (y != nullptr && y != &x) {
      if (in_known_flow(run_, *in_, *out_, y->ip)) return;
      if (y->network_id != x.network_id) {
        if (through_published_port(world_, *in_, y->ip)) return;
        add(in_->icmp_error             ? "icmp-error-scope"
            : world_.is_vip(in_->daddr) ? "vip-scope"
            : is_loopback(in_->daddr)   ? "loopback-publish"
                                        : "isolation",
            what + " on another network");
        return;
      }
      if (!net.icc) add("icc", what + " without ICC");
      return;
    }
    if (net.internal && !net.subnet.contains(core::Ipv4{out_->daddr}) &&
        !in_known_flow(run_, *in_, *out_, out_->daddr))
      add("internal", what + " outside its internal network");
  }

  void from_uplink(const EndpointFacts& y) {
    if (in_known_flow(run_, *in_, *out_, y.ip) || through_published_port(world_, *in_, y.ip))
      return;
    add(is_loopback(in_->daddr) ? "loopback-publish" : "direct-access",
        fmt::format("{} to {} reaches {} ({})", ip_text(in_->saddr), ip_text(in_->daddr),
                    y.container, ip_text(y.ip)));
  }

  void check_checksums() {
    if (!in_ || !out_ || run_.in == run_.out) return;
    if (header_checksum_ok(run_.in, *in_) && !header_checksum_ok(run_.out, *out_))
      add("checksums", "IPv4 header checksum broken");
    const std::optional<bool> l4_in = l4_checksum_ok(run_.in, *in_);
    if (l4_in != true || in_->proto != out_->proto) return;
    const std::optional<bool> l4_out = l4_checksum_ok(run_.out, *out_);
    if (l4_out == false) add("checksums", fmt::format("protocol {} checksum broken", in_->proto));
    if (!l4_out && in_->proto == 17 && !out_->fragment && out_->complete)
      add("checksums", "UDP checksum rewritten to 0 (none)");
  }

  const PacketWorld& world_;
  const Run& run_;
  std::optional<Ipv4View> in_, out_;
  std::vector<Violation> found_;
};

}  // namespace

bool dropped(const Run& run) {
  return tc(run.program) ? run.verdict == TC_ACT_SHOT : run.verdict == XDP_DROP;
}

std::vector<Violation> check_run(const PacketWorld& world, const Run& run) {
  return Checker(world, run).check();
}

}  // namespace bpfnet::fuzz
