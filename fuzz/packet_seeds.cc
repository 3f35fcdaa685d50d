// The packet fuzzer's seed corpus: the conversations of the BPF program
// tests (tests/bpf), in the packet world, built with their frame builders;
// and probes of issue 12's isolation holes, seeds like the others so that
// every run (fuzz.smoke included) checks them first.
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "bpf/packet.h"
#include "packet_input.h"

namespace bpfnet::fuzz {
namespace {

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1;
const uint32_t kHost = test::ip4("192.0.2.1");
const uint32_t kClient = test::ip4("198.51.100.7");
const uint32_t kRemote = test::ip4("203.0.113.9");
const uint32_t kVip = test::ip4("172.18.255.254");

class SeedWriter {
 public:
  SeedWriter(const PacketWorld& world, std::string dir) : world_(world), dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
  }

  const EndpointFacts& ep(const char* container) const {
    const EndpointFacts* found = world_.endpoint_by_container(container);
    if (found == nullptr) throw std::logic_error(std::string("no container ") + container);
    return *found;
  }
  size_t index(const char* container) const {
    return size_t(&ep(container) - world_.endpoints().data());
  }

  // A frame container `from` sends to daddr:dport.
  Bytes from(const char* container, uint32_t daddr, uint8_t proto, uint16_t dport,
             uint8_t ihl_words = 5) const {
    const EndpointFacts& e = ep(container);
    test::Ipv4Spec s;
    s.saddr = e.ip;
    s.daddr = daddr;
    s.proto = proto;
    s.dport = dport;
    s.sport = 40000;
    Bytes f = test::ipv4_frame(test::Mac(e.gw_mac), test::Mac(e.mac), s);
    if (ihl_words > 5) with_options(f, ihl_words);
    return f;
  }
  // A frame a client on the uplink sends to daddr:dport.
  Bytes client(uint32_t daddr, uint8_t proto, uint16_t dport) const {
    test::Ipv4Spec s;
    s.saddr = kClient;
    s.daddr = daddr;
    s.proto = proto;
    s.dport = dport;
    s.sport = 50000;
    return test::ipv4_frame(test::Mac(world_.uplink_mac()), test::Mac(world_.router_mac()), s);
  }

  void write(const std::string& name, const Bytes& input) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(input.data()), std::streamsize(input.size()));
  }

  Bytes raw_from(const char* container, const Bytes& frame) {
    Bytes input;
    append_raw(input, from_container_kind(world_, index(container)), frame);
    return input;
  }
  Bytes raw_uplink(const Bytes& frame, bool xdp) {
    Bytes input;
    append_raw(input, xdp ? xdp_uplink_kind(world_) : tc_uplink_kind(world_), frame);
    return input;
  }

 private:
  // IP options (NOPs and an end marker): the header grows to ihl_words.
  static void with_options(Bytes& f, uint8_t ihl_words) {
    const size_t extra = (ihl_words - 5) * 4;
    f.insert(f.begin() + 14 + 20, extra, 0x01);
    f[14 + 20 + extra - 1] = 0x00;
    f[14] = uint8_t(0x40 | ihl_words);
    test::put16(f, 16, uint16_t(test::get16(f, 16) + extra));
    test::put16(f, 24, 0);
    test::put16(f, 24, test::ipv4_header_checksum(f));
  }

  const PacketWorld& world_;
  std::string dir_;
};

Bytes then(Bytes input, std::initializer_list<uint8_t> derived) {
  for (uint8_t kind : derived) append_derived(input, kind);
  return input;
}

void write_isolation_probes(const PacketWorld& world, const std::string& dir) {
  SeedWriter w(world, dir);
  const uint32_t loopback = test::ip4("127.0.0.1");
  // Issue 12 item 1: a port published on 127.0.0.1 (c's 7070) answers the
  // uplink, and a container reaches it through its own 127.0.0.1.
  w.write("packet-loopback-publish-from-uplink",
          w.raw_uplink(w.client(loopback, kTcp, 7070), false));
  w.write("packet-loopback-publish-from-container",
          w.raw_from("a", w.from("a", loopback, kTcp, 7070)));
  // Item 1: a martian (to 127.0.0.1, nothing published there) from the
  // uplink goes to the host stack instead of being dropped with a reason.
  w.write("packet-martian", w.raw_uplink(w.client(loopback, kTcp, 22), false));
  // Item 2: c, on n2, reaches the VIP of n1's service (and so a or b).
  w.write("packet-vip-scope", w.raw_from("c", w.from("c", kVip, kTcp, 80)));
  // Item 3: an ICMP error from the uplink to a container's own address,
  // about no flow at all, is handed to the host, which routes it into a.
  test::Ipv4Spec quoted;
  quoted.saddr = w.ep("a").ip;
  quoted.daddr = kRemote;
  Bytes error = test::icmp_error_frame(test::Mac(world.uplink_mac()), test::Mac(world.router_mac()),
                                       test::ip4("192.0.2.254"), w.ep("a").ip, 3, 3,
                                       test::ipv4_frame(test::Mac{}, test::Mac{}, quoted));
  w.write("packet-direct-access", w.raw_uplink(error, false));
}

}  // namespace

void write_packet_seeds(const PacketWorld& world, const std::string& dir) {
  SeedWriter w(world, dir);
  const auto& a = w.ep("a");
  const auto& b = w.ep("b");
  // Between containers: same network, other network, no ICC, internal.
  w.write("a-to-b-tcp", then(w.raw_from("a", w.from("a", b.ip, kTcp, 80)), {kKindReply}));
  w.write("a-to-c-isolated", w.raw_from("a", w.from("a", w.ep("c").ip, kTcp, 70)));
  w.write("e-to-f-no-icc", w.raw_from("e", w.from("e", w.ep("f").ip, kTcp, 80)));
  w.write("d-to-its-gateway", w.raw_from("d", w.from("d", test::ip4("172.20.0.1"), kIcmp, 0)));
  w.write("d-to-the-world", w.raw_from("d", w.from("d", kRemote, kUdp, 53)));
  w.write("a-ip-options", w.raw_from("a", w.from("a", b.ip, kTcp, 80, 7)));
  // ARP: the gateway, a peer, a spoofed sender.
  Bytes arp = test::arp_frame(test::Mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, test::Mac(a.mac), 1,
                              test::Mac(a.mac), a.ip, test::Mac{}, test::ip4("172.18.0.1"));
  w.write("a-arp-gateway", w.raw_from("a", arp));
  test::put32(arp, 38, b.ip);
  w.write("a-arp-peer", w.raw_from("a", arp));
  // Masquerade: out, the reply, an ICMP error about it from the router.
  w.write("a-masquerade-tcp",
          then(w.raw_from("a", w.from("a", kRemote, kTcp, 443)), {kKindReply, kKindReply | 1}));
  w.write("a-masquerade-udp-xdp-reply",
          then(w.raw_from("a", w.from("a", kRemote, kUdp, 53)), {kKindReply | kFromXdp}));
  w.write("a-masquerade-ping", then(w.raw_from("a", w.from("a", kRemote, kIcmp, 0)), {kKindReply}));
  w.write("a-masquerade-frag-needed", then(w.raw_from("a", w.from("a", kRemote, kTcp, 443)),
                                           {kKindIcmpError | kFromRouter | 1}));
  // Published ports from the uplink (tc and XDP), a service's, and replies.
  w.write("client-to-8080-tc",
          then(w.raw_uplink(w.client(kHost, kTcp, 8080), false), {kKindReply}));
  w.write("client-to-8080-xdp",
          then(w.raw_uplink(w.client(kHost, kTcp, 8080), true), {kKindReply}));
  w.write("client-to-5353-udp",
          then(w.raw_uplink(w.client(kHost, kUdp, 5353), false), {kKindReply, kKindIcmpError}));
  w.write("client-to-service-8081",
          then(w.raw_uplink(w.client(kHost, kTcp, 8081), true), {kKindReply, kKindReply | 1}));
  w.write("client-to-unpublished", w.raw_uplink(w.client(kHost, kTcp, 22), false));
  w.write("client-direct-to-b", w.raw_uplink(w.client(b.ip, kTcp, 80), false));
  Bytes fragment = w.client(kHost, kUdp, 5353);
  test::put16(fragment, 20, 0x2000);  // more fragments
  test::put16(fragment, 24, 0);
  test::put16(fragment, 24, test::ipv4_header_checksum(fragment));
  w.write("client-fragment-to-5353", w.raw_uplink(fragment, false));
  // Hairpin: a container to a published port of a host address (itself, a
  // peer), and to the service VIP.
  w.write("a-hairpin-to-itself",
          then(w.raw_from("a", w.from("a", kHost, kTcp, 9090)), {kKindReply}));
  w.write("a-hairpin-to-b-udp",
          then(w.raw_from("a", w.from("a", kHost, kUdp, 5353)), {kKindReply}));
  w.write("a-to-vip", then(w.raw_from("a", w.from("a", kVip, kTcp, 80)), {kKindReply}));
  w.write("b-to-vip-udp", then(w.raw_from("b", w.from("b", kVip, kUdp, 53)), {kKindReply}));
  // The host to a container (to-container program).
  Bytes input;
  append_raw(input, to_container_kind(world, w.index("b")),
             w.from("a", b.ip, kTcp, 80));  // as the host routes it
  w.write("host-to-b", input);
  write_isolation_probes(world, dir);
}

}  // namespace bpfnet::fuzz
