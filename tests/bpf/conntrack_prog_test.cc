// BPF_PROG_TEST_RUN tests of conntrack itself (bpf/lib/conntrack.h,
// ct_tcp.h): TCP state per direction (half-close), RSTs checked against the
// window, expiry on lookup without the daemon's GC, and a full conntrack
// (unreplied flows displaced, established ones never, new ones refused).
//
// The flows are TCP through A's published port: the client 198.51.100.7
// reaches host:9090 on the XDP uplink program, A (172.18.0.2:80) answers
// through the from-container program (topology: main.cc, nat_prog_test.cc).
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <sched.h>
#include <time.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "bpfnet_abi.h"
#include "datapath/conntrack.h"
#include "datapath/datapath.h"
#include "datapath/events.h"
#include "packet.h"
#include "prog_runner.h"

namespace bpfnet::test {
namespace {

using datapath::EndpointEntry;
using datapath::NetworkEntry;
using datapath::PortMapEntry;

constexpr uint32_t kLo = 1;
constexpr uint8_t kTcp = 6, kUdp = 17;
constexpr uint32_t XDP_DROP_ = 1, XDP_REDIRECT_ = 4;
constexpr uint64_t kSecond = 1'000'000'000;

const Mac kMacA{0x02, 0x42, 0xac, 0x12, 0x00, 0x02};
const Mac kGwA{0x6e, 0, 0, 0, 0, 0x0a};
const Mac kMacB{0x02, 0x42, 0xac, 0x12, 0x00, 0x03};
const Mac kGwB{0x6e, 0, 0, 0, 0, 0x0b};
const Mac kUp0{0x02, 0, 0, 0, 0, 0x01};
const Mac kClientMac{0x02, 0, 0, 0, 0x07, 0x07};

const uint32_t kHost = ip4("192.0.2.1");
const uint32_t kClient = ip4("198.51.100.7");
const uint32_t kIpA = ip4("172.18.0.2");
const uint32_t kIpB = ip4("172.18.0.3");
const uint32_t kGw = ip4("172.18.0.1");

constexpr uint8_t FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;
// MSS 1460, NOP, window scale 7 (what Linux sends, in short).
const Bytes kSynOptions{2, 4, 0x05, 0xb4, 1, 3, 3, 7};
const Bytes kSynAckOptions{1, 3, 3, 7};

// One TCP segment of a flow, as seen by its sender.
struct Seg {
  uint8_t flags;
  uint32_t seq, ack;
  uint16_t win;
  std::string payload;
  Bytes options;
};
Seg seg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, std::string payload = "",
        Bytes options = {}) {
  return Seg{flags, seq, ack, win, std::move(payload), std::move(options)};
}

class ConntrackProgTest : public ::testing::Test {
 protected:
  void SetUp() override { make_datapath(0); }

  void make_datapath(uint32_t ct_max) {
    dp_.reset();
    dp_ = std::make_unique<datapath::Datapath>(datapath::DatapathOptions{"", ct_max});
    uint32_t up0 = if_nametoindex("up0");
    ASSERT_NE(up0, 0u) << "test netns setup (main.cc) missing";
    datapath::MapContents want;
    want.networks[1] = NetworkEntry{
        1, ip4("172.18.0.0"), 16, kGw, BPFNET_NET_F_ICC | BPFNET_NET_F_MASQUERADE, 1500};
    want.add_endpoint(EndpointEntry{kLo, 1, kIpA, kMacA, kGwA});
    want.add_endpoint(EndpointEntry{42, 1, kIpB, kMacB, kGwB});
    want.host_addrs[kHost] = 0;
    want.uplinks[up0] = datapath::UplinkEntry{up0, kHost, kUp0};
    want.add_portmap(PortMapEntry{0, 9090, kTcp, kIpA, 80});
    want.add_portmap(PortMapEntry{0, 5353, kUdp, kIpB, 53});
    dp_->apply(datapath::diff(dp_->read_maps(), want));
  }

  static Bytes frame(const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp,
                     uint16_t dp, const Seg& sg) {
    Ipv4Spec spec;
    spec.saddr = s;
    spec.daddr = d;
    spec.sport = sp;
    spec.dport = dp;
    spec.tcp_flags = sg.flags;
    spec.tcp_seq = sg.seq;
    spec.tcp_ack = sg.ack;
    spec.tcp_window = sg.win;
    spec.payload = sg.payload;
    spec.tcp_options = sg.options;
    return ipv4_frame(dst, src, spec);
  }
  // The client's segment to host:9090, through the XDP uplink program.
  template <typename... Args>
  RunResult client(uint16_t port, Args... args) {
    return run_prog(dp_->xdp_uplink_prog_fd(),
                    frame(kUp0, kClientMac, kClient, kHost, port, 9090, seg(args...)));
  }
  // A's segment back to the client, through the from-container program.
  template <typename... Args>
  RunResult from_a(uint16_t port, Args... args) {
    return run_prog(dp_->from_container_prog_fd(),
                    frame(kGwA, kMacA, kIpA, kClient, 80, port, seg(args...)));
  }

  // A connection through the published port, handshake done and one segment
  // of data each way: the client's next seq is 1001, A's 5006.
  void connect(uint16_t port) {
    ASSERT_EQ(client(port, SYN, 1000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_);
    ASSERT_EQ(from_a(port, SYN | ACK, 5000, 1001, 65160, "", kSynAckOptions).retval,
              uint32_t(TC_ACT_REDIRECT));
    ASSERT_EQ(client(port, ACK, 1001, 5001, 502, "").retval, XDP_REDIRECT_);
    ASSERT_EQ(from_a(port, ACK, 5001, 1001, 509, "hello").retval, uint32_t(TC_ACT_REDIRECT));
    ASSERT_EQ(client(port, ACK, 1001, 5006, 502, "").retval, XDP_REDIRECT_);
  }

  std::optional<datapath::CtEntry> ct(uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
                                      uint8_t proto = kTcp) {
    struct bpfnet_ct_key k {};
    k.saddr = htonl(s);
    k.daddr = htonl(d);
    k.sport = htons(sp);
    k.dport = htons(dp);
    k.proto = proto;
    for (const auto& e : dp_->read_conntrack())
      if (std::memcmp(e.key.data(), &k, sizeof(k)) == 0) return e;
    return std::nullopt;
  }
  std::optional<datapath::CtEntry> client_half(uint16_t port) {
    return ct(kClient, kHost, port, 9090);
  }
  std::optional<datapath::CtEntry> a_half(uint16_t port) { return ct(kIpA, kClient, 80, port); }

  uint64_t drops(uint8_t reason) {
    uint64_t n = 0;
    for (const auto& row : dp_->read_metrics())
      if (row.reason == reason) n += row.packets;
    return n;
  }

  // Time passes for the conntrack: every deadline moves @ns closer.
  void age_conntrack(uint64_t ns) {
    int fd = dp_->map_fd(BPFNET_MAP_CT);
    struct bpfnet_ct_key key {
    }, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      struct bpfnet_ct_value v {};
      ASSERT_EQ(bpf_map_lookup_elem(fd, &next, &v), 0);
      v.expires_ns -= ns;
      ASSERT_EQ(bpf_map_update_elem(fd, &next, &v, BPF_EXIST), 0);
      key = next;
      prev = &key;
    }
  }
  static uint64_t monotonic_ns() {
    struct timespec ts {};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * kSecond + uint64_t(ts.tv_nsec);
  }
  // The source port of A's segment once translated: 9090 when its flow
  // reverse-translated it, a masquerade port when it had none.
  static uint16_t source_port(const RunResult& r) { return get16(r.out, kEth + 20); }

  std::unique_ptr<datapath::Datapath> dp_;
};

TEST_F(ConntrackProgTest, AnAckWithoutSynEstablishesOnlyItsOwnDirection) {
  ASSERT_EQ(client(40000, SYN, 1000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_);
  from_a(40000, SYN | ACK, 5000, 1001, 65160, "", kSynAckOptions);
  EXPECT_EQ(client_half(40000)->state, BPFNET_CT_NEW);
  EXPECT_EQ(a_half(40000)->state, BPFNET_CT_NEW) << "a SYN-ACK alone does not establish";
  client(40000, ACK, 1001, 5001, 502, "");
  EXPECT_EQ(client_half(40000)->state, BPFNET_CT_ESTABLISHED);
  EXPECT_EQ(a_half(40000)->state, BPFNET_CT_NEW);
  from_a(40000, ACK, 5001, 1001, 509, "hello");
  EXPECT_EQ(a_half(40000)->state, BPFNET_CT_ESTABLISHED);
}

// Issue 12 item 6: a FIN closes its own direction only. The client shuts
// down its side, the connection idles past the closing timeout (10 s) and
// the daemon's GC runs: A's direction still delivers, reverse-translated.
TEST_F(ConntrackProgTest, HalfClosedConnectionKeepsTheOtherDirectionWhenIdle) {
  connect(40010);
  ASSERT_EQ(client(40010, FIN | ACK, 1001, 5006, 502, "").retval, XDP_REDIRECT_);
  EXPECT_EQ(client_half(40010)->state, BPFNET_CT_CLOSING);
  EXPECT_EQ(a_half(40010)->state, BPFNET_CT_ESTABLISHED) << "A has not closed its side";

  age_conntrack(BPFNET_CT_TIMEOUT_TCP_CLOSE + 2 * kSecond);
  datapath::gc_conntrack(*dp_, monotonic_ns());
  RunResult r = from_a(40010, ACK, 5006, 1002, 509, "later");
  ASSERT_EQ(r.retval, uint32_t(TC_ACT_REDIRECT));
  EXPECT_EQ(get32(r.out, kEth + 12), kHost);
  EXPECT_EQ(source_port(r), 9090) << "still the published port's flow";
  // The client acknowledges on its closed side: the same flow, not a new one.
  EXPECT_EQ(client(40010, ACK, 1002, 5011, 502, "").retval, XDP_REDIRECT_);
  EXPECT_EQ(client_half(40010)->state, BPFNET_CT_CLOSING);
  // A closes too: both directions closing.
  from_a(40010, FIN | ACK, 5011, 1002, 509, "");
  EXPECT_EQ(a_half(40010)->state, BPFNET_CT_CLOSING);
}

// An RST outside the receiver's window (a blind one from outside) is dropped
// and counted; the flow stays established. One in the window closes both.
TEST_F(ConntrackProgTest, RstOutsideTheWindowIsDroppedAndKeepsTheFlow) {
  connect(40020);
  // The most A let the client send: its SYN-ACK's window (unscaled, larger
  // than 509 << 7 since) from ack 1001.
  const uint32_t a_maxend = 1001 + 65160;
  const struct {
    uint8_t flags;
    uint32_t seq, ack;
  } blind[] = {
      {RST, 1001 + 0x80000000u, 0},           // far away
      {RST, a_maxend + 1, 0},                 // just past the window
      {RST, 1001 - (65160u + 1), 0},          // below what A acknowledged, minus its window
      {RST | ACK, 1001, 5006 + 0x40000000u},  // acknowledges what A never sent
  };
  for (const auto& b : blind) {
    uint64_t before = drops(BPFNET_DROP_TCP_RST_WINDOW);
    EXPECT_EQ(client(40020, b.flags, b.seq, b.ack, 0, "").retval, XDP_DROP_)
        << "seq " << b.seq << " ack " << b.ack;
    EXPECT_EQ(drops(BPFNET_DROP_TCP_RST_WINDOW), before + 1);
    EXPECT_EQ(client_half(40020)->state, BPFNET_CT_ESTABLISHED);
    EXPECT_EQ(a_half(40020)->state, BPFNET_CT_ESTABLISHED);
  }
  // The same from A's side (tc), towards the client.
  EXPECT_EQ(from_a(40020, RST, 5006 + 0x80000000u, 0, 0, "").retval, uint32_t(TC_ACT_SHOT));
  EXPECT_EQ(a_half(40020)->state, BPFNET_CT_ESTABLISHED);

  // In the window (the edge included): believed, both directions close.
  EXPECT_EQ(client(40020, RST, a_maxend, 0, 0, "").retval, XDP_REDIRECT_);
  EXPECT_EQ(client_half(40020)->state, BPFNET_CT_CLOSING);
  EXPECT_EQ(a_half(40020)->state, BPFNET_CT_CLOSING);
}

// The window scale a SYN announces is found wherever its options put it, as
// the kernel's tcp_parse_options walks them; none is read past the end of
// options, past the header or from an option of impossible length. (The
// walk runs in a subprogram on a copy: inline, its paths took the verifier
// past its 1M-instruction budget.)
TEST_F(ConntrackProgTest, SynWindowScaleIsFoundWhereverTheOptionsPutIt) {
  const Bytes kEol{0}, kNop{1}, kMss{2, 4, 0x05, 0xb4}, kSackOk{4, 2},
      kTimestamps{8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
  auto cat = [](std::initializer_list<Bytes> parts) {
    Bytes b;
    for (const auto& p : parts) b.insert(b.end(), p.begin(), p.end());
    return b;
  };
  const struct {
    const char* what;
    Bytes options;
    uint8_t wscale;
  } cases[] = {
      {"Linux's SYN", cat({kMss, kSackOk, kTimestamps, kNop, Bytes{3, 3, 7}}), 7},
      {"after 16 no-ops", cat({Bytes(16, 1), Bytes{3, 3, 9}, kNop}), 9},
      {"a shift above 14 is 14", cat({kNop, Bytes{3, 3, 20}}), 14},
      {"after the end of options", cat({kMss, kEol, Bytes{3, 3, 7}}), 0},
      {"cut by the header's end", cat({kNop, kNop, kNop, Bytes{3}}), 0},
      {"after an option of length 1", cat({Bytes{30, 1, 0, 0}, Bytes{3, 3, 7}, kNop}), 0},
      {"at the end of 40 bytes", cat({Bytes(37, 1), Bytes{3, 3, 11}}), 11},
      {"none", cat({kMss}), 0},
  };
  uint16_t port = 40100;
  for (const auto& c : cases) {
    ASSERT_EQ(c.options.size() % 4, 0u) << c.what;
    ASSERT_EQ(client(port, SYN, 1000, 0, 64240, "", c.options).retval, XDP_REDIRECT_) << c.what;
    struct bpfnet_ct_key k {};
    k.saddr = htonl(kClient);
    k.daddr = htonl(kHost);
    k.sport = htons(port);
    k.dport = htons(9090);
    k.proto = kTcp;
    struct bpfnet_ct_value v {};
    ASSERT_EQ(bpf_map_lookup_elem(dp_->map_fd(BPFNET_MAP_CT), &k, &v), 0) << c.what;
    EXPECT_EQ(v.tcp_wscale, c.wscale) << c.what;
    ++port;
  }
}

// A flow past its deadline is absent to the datapath itself, with no GC
// (the daemon down): A's packet is not reverse-translated by the dead flow,
// and the client's next packet starts a new one.
TEST_F(ConntrackProgTest, ExpiredFlowIsAbsentWithoutGc) {
  connect(40030);
  age_conntrack(BPFNET_CT_TIMEOUT_TCP_EST + kSecond);
  RunResult r = from_a(40030, ACK, 5006, 1001, 509, "stale");
  EXPECT_NE(source_port(r), 9090) << "the expired flow still translated A's packet";
  EXPECT_FALSE(client_half(40030)) << "both halves of the expired flow deleted";

  connect(40031);
  age_conntrack(BPFNET_CT_TIMEOUT_TCP_EST + kSecond);
  EXPECT_EQ(client(40031, ACK, 1001, 5006, 502, "").retval, XDP_REDIRECT_);
  EXPECT_EQ(client_half(40031)->state, BPFNET_CT_NEW) << "a new flow, not the expired one";
  EXPECT_EQ(a_half(40031)->state, BPFNET_CT_NEW);
}

// A full conntrack (32 flows here): a flood of new tuples displaces only
// unreplied flows, never an established one nor half of one; once nothing
// is left to displace, a new flow is refused and counted (ct-full).
// bpfnetctl flows: each entry counts the packets and IP bytes of its own
// direction, the first one included, on the XDP uplink (the client's) and
// the tc from-container program (A's); both halves carry the creation time.
TEST_F(ConntrackProgTest, EachDirectionCountsItsPacketsAndBytes) {
  const uint64_t before = monotonic_ns();
  connect(40300);
  const uint64_t after = monotonic_ns();
  auto ip_len = [](const Mac& dst, const Mac& src, uint32_t s, uint32_t d, uint16_t sp, uint16_t dp,
                   const Seg& sg) { return frame(dst, src, s, d, sp, dp, sg).size() - 14; };
  auto by_client = [&](const Seg& sg) {
    return ip_len(kUp0, kClientMac, kClient, kHost, 40300, 9090, sg);
  };
  auto by_a = [&](const Seg& sg) { return ip_len(kGwA, kMacA, kIpA, kClient, 80, 40300, sg); };
  const uint64_t client_bytes = by_client(seg(SYN, 1000, 0, 64240, "", kSynOptions)) +
                                2 * by_client(seg(ACK, 1001, 5001, 502, ""));
  const uint64_t a_bytes = by_a(seg(SYN | ACK, 5000, 1001, 65160, "", kSynAckOptions)) +
                           by_a(seg(ACK, 5001, 1001, 509, "hello"));
  auto c = client_half(40300), a = a_half(40300);
  ASSERT_TRUE(c && a);
  EXPECT_EQ(c->packets, 3u);
  EXPECT_EQ(c->bytes, client_bytes);
  EXPECT_EQ(a->packets, 2u);
  EXPECT_EQ(a->bytes, a_bytes);
  // Within a tick of the clock (coarse_now_ns: up to 10 ms behind).
  EXPECT_GE(c->created_ns + 20'000'000, before);
  EXPECT_LE(c->created_ns, after);
  EXPECT_EQ(a->created_ns, c->created_ns);

  // A UDP flow: the first datagram counts on creation.
  Ipv4Spec spec;
  spec.proto = kUdp;
  spec.saddr = kClient;
  spec.daddr = kHost;
  spec.sport = 40301;
  spec.dport = 5353;
  spec.payload = "query";
  const Bytes q = ipv4_frame(kUp0, kClientMac, spec);
  ASSERT_EQ(run_prog(dp_->xdp_uplink_prog_fd(), q).retval, XDP_REDIRECT_);
  ASSERT_EQ(run_prog(dp_->xdp_uplink_prog_fd(), q).retval, XDP_REDIRECT_);
  auto u = ct(kClient, kHost, 40301, 5353, kUdp);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->packets, 2u);
  EXPECT_EQ(u->bytes, 2 * (q.size() - 14));
}

TEST_F(ConntrackProgTest, FullConntrackDisplacesUnrepliedFlowsThenRefuses) {
  // The displaceable flows are remembered per CPU: stay on one.
  cpu_set_t old_set, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(old_set), &old_set), 0);
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  make_datapath(64);

  for (uint16_t i = 0; i < 10; ++i) connect(uint16_t(41000 + i));
  // The recent flows are looked at oldest first, BPFNET_CT_EARLY_DROP_TRIES
  // per new flow: the 10 established ones at the front refuse at most 2.
  uint64_t delivered = 0;
  for (uint32_t i = 0; i < 2000; ++i) {
    Ipv4Spec spec;
    spec.proto = kUdp;
    spec.saddr = kClient + 1 + i / 1000;
    spec.daddr = kHost;
    spec.sport = uint16_t(10000 + i % 1000);
    spec.dport = 5353;
    RunResult r = run_prog(dp_->xdp_uplink_prog_fd(), ipv4_frame(kUp0, kClientMac, spec));
    delivered += r.retval == XDP_REDIRECT_;
  }
  EXPECT_GE(delivered, 1998u) << "unreplied flows make room for new ones";
  EXPECT_EQ(drops(BPFNET_DROP_CT_FULL), 2000 - delivered);
  EXPECT_EQ(dp_->read_conntrack().size(), 64u) << "full";
  for (uint16_t i = 0; i < 10; ++i) {
    auto c = client_half(uint16_t(41000 + i)), a = a_half(uint16_t(41000 + i));
    ASSERT_TRUE(c && a) << "established flow " << i << " lost a half";
    EXPECT_EQ(c->state, BPFNET_CT_ESTABLISHED);
    EXPECT_EQ(a->state, BPFNET_CT_ESTABLISHED);
  }

  // Established connections take the rest, until one is refused.
  uint16_t port = 42000;
  for (; port < 42100; ++port) {
    RunResult syn = client(port, SYN, 1000, 0, 64240, "", kSynOptions);
    if (syn.retval == XDP_DROP_) break;
    client(port, ACK, 1001, 5001, 502, "");
  }
  EXPECT_LT(port, 42100) << "never refused";
  EXPECT_EQ(drops(BPFNET_DROP_CT_FULL), 2000 - delivered + 1);
  EXPECT_FALSE(ct(kClient, kHost, port, 9090).has_value()) << "nothing of the refused flow";
  EXPECT_FALSE(ct(kIpA, kClient, 80, port).has_value());
  for (uint16_t i = 0; i < 10; ++i)
    EXPECT_TRUE(client_half(uint16_t(41000 + i)) && a_half(uint16_t(41000 + i)));
  sched_setaffinity(0, sizeof(old_set), &old_set);
}

// A flood received on one CPU fills the conntrack; a connection opened on
// another CPU, which created none of those flows, still displaces one of
// them (found in the flood CPU's ring) instead of being refused.
TEST_F(ConntrackProgTest, FullConntrackMakesRoomForAnotherCpusNewFlow) {
  cpu_set_t old_set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(old_set), &old_set), 0);
  std::vector<int> cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &old_set)) cpus.push_back(c);
  if (cpus.size() < 2) GTEST_SKIP() << "needs two CPUs";
  auto run_on = [](int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof(one), &one);
  };
  make_datapath(64);

  ASSERT_EQ(run_on(cpus[0]), 0);
  for (uint32_t i = 0; i < 40; ++i) {  // 32 flows fill 64 entries
    Ipv4Spec spec;
    spec.proto = kUdp;
    spec.saddr = kClient + 1;
    spec.daddr = kHost;
    spec.sport = uint16_t(10000 + i);
    spec.dport = 5353;
    run_prog(dp_->xdp_uplink_prog_fd(), ipv4_frame(kUp0, kClientMac, spec));
  }
  ASSERT_EQ(dp_->read_conntrack().size(), 64u) << "full";
  const uint64_t refused = drops(BPFNET_DROP_CT_FULL);

  ASSERT_EQ(run_on(cpus[1]), 0);
  for (uint16_t port = 43000; port < 43004; ++port) {
    EXPECT_EQ(client(port, SYN, 1000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_)
        << "port " << port << ": refused on a CPU without flows of its own";
    EXPECT_TRUE(client_half(port).has_value());
  }
  EXPECT_EQ(drops(BPFNET_DROP_CT_FULL), refused);
  EXPECT_EQ(dp_->read_conntrack().size(), 64u);
  sched_setaffinity(0, sizeof(old_set), &old_set);
}

// ------------------------------------------------------------ flow events
// bpfnetctl monitor --type flow: the conntrack's creation and removal of a
// flow are events with the flow's tuple, translation and counters
// (bpf/lib/flow_events.h), read back from the ring buffer.

class FlowEventProgTest : public ConntrackProgTest {
 protected:
  void SetUp() override {
    ConntrackProgTest::SetUp();
    reader_ = std::make_unique<datapath::EventReader>(
        *dp_, [this](const datapath::MonitorEvent& e) { events_.push_back(e); });
    datapath::set_monitor(*dp_, datapath::MonitorSettings{{datapath::EventType::kFlow}});
  }
  void TearDown() override {
    datapath::set_monitor(*dp_, datapath::MonitorSettings{});
    reader_.reset();
  }
  std::vector<datapath::MonitorEvent> drain() {
    reader_->drain();
    return std::exchange(events_, {});
  }
  // The flow events among `events`.
  static std::vector<datapath::FlowRecord> flows(
      const std::vector<datapath::MonitorEvent>& events) {
    std::vector<datapath::FlowRecord> out;
    for (const auto& e : events) {
      EXPECT_EQ(e.type, datapath::EventType::kFlow);
      EXPECT_TRUE(e.packet.empty()) << "a flow event captures no packet";
      if (e.flow) out.push_back(*e.flow);
    }
    return out;
  }

  std::unique_ptr<datapath::EventReader> reader_;
  std::vector<datapath::MonitorEvent> events_;
};

using datapath::CtTuple;
using datapath::FlowPhase;

// A client's SYN to the published port host:9090 (XDP uplink) starts a flow:
// one event with the client's real address, the DNAT to A:80 and the first
// packet counted; no more events while the flow only carries packets.
TEST_F(FlowEventProgTest, APublishedPortFlowStartIsAnEvent) {
  const uint64_t before = monotonic_ns();
  ASSERT_EQ(client(41000, SYN, 1000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_);
  const auto events = drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].xdp) << "a flow event is the conntrack's, not a hook's";
  EXPECT_GE(events[0].time_ns, before);
  const auto f = flows(events);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].phase, FlowPhase::kStart);
  EXPECT_EQ(f[0].orig, (CtTuple{kClient, kHost, 41000, 9090, kTcp}));
  EXPECT_EQ(f[0].xlat, (CtTuple{kClient, kIpA, 41000, 80, kTcp}));
  EXPECT_EQ(f[0].flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(f[0].state_orig, BPFNET_CT_NEW);
  EXPECT_EQ(f[0].packets_orig, 1u);
  EXPECT_EQ(f[0].bytes_orig, frame(kUp0, kClientMac, kClient, kHost, 41000, 9090,
                                   seg(SYN, 1000, 0, 64240, "", kSynOptions))
                                     .size() -
                                 14);
  EXPECT_EQ(f[0].packets_reply, 0u);
  EXPECT_EQ(f[0].created_ns, client_half(41000)->created_ns);

  ASSERT_EQ(from_a(41000, SYN | ACK, 5000, 1001, 65160, "", kSynAckOptions).retval,
            uint32_t(TC_ACT_REDIRECT));
  EXPECT_TRUE(drain().empty()) << "the reply belongs to the flow: no new one";

  // Nobody listens to flows (drops only): a new flow writes nothing.
  datapath::set_monitor(*dp_, datapath::MonitorSettings{{datapath::EventType::kDrop}});
  ASSERT_EQ(client(41001, SYN, 1000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_);
  EXPECT_TRUE(drain().empty());
}

// A container's new flow (tc from-container): A's DNS query to the host's
// published UDP port 5353 is translated to B:53.
TEST_F(FlowEventProgTest, AFromContainerFlowStartIsAnEvent) {
  Ipv4Spec spec;
  spec.proto = kUdp;
  spec.saddr = kIpA;
  spec.daddr = kHost;
  spec.sport = 41100;
  spec.dport = 5353;
  spec.payload = "query";
  const Bytes q = ipv4_frame(kGwA, kMacA, spec);
  ASSERT_EQ(run_prog(dp_->from_container_prog_fd(), q).retval, uint32_t(TC_ACT_REDIRECT));
  const auto f = flows(drain());
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].phase, FlowPhase::kStart);
  EXPECT_EQ(f[0].orig, (CtTuple{kIpA, kHost, 41100, 5353, kUdp}));
  EXPECT_EQ(f[0].xlat, (CtTuple{kIpA, kIpB, 41100, 53, kUdp}));
  EXPECT_EQ(f[0].flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(f[0].packets_orig, 1u);
  EXPECT_EQ(f[0].bytes_orig, q.size() - 14);
}

// The datapath removes a flow that an in-window RST closed when a new SYN
// takes its tuple: an end event (reopened) with both directions' counters as
// the entries held them and the flow's creation time, then the new flow's
// start.
TEST_F(FlowEventProgTest, AFlowClosedByRstEndsWithItsCountersWhenReopened) {
  connect(41200);
  ASSERT_EQ(client(41200, RST, 1001, 0, 0, "").retval, XDP_REDIRECT_);
  const auto c = client_half(41200), a = a_half(41200);
  ASSERT_TRUE(c && a);
  ASSERT_EQ(c->state, BPFNET_CT_CLOSING);
  drain();  // the start

  ASSERT_EQ(client(41200, SYN, 9000, 0, 64240, "", kSynOptions).retval, XDP_REDIRECT_);
  const auto f = flows(drain());
  ASSERT_EQ(f.size(), 2u) << "the old flow's end, the new one's start";
  EXPECT_EQ(f[0].phase, FlowPhase::kEndReopened);
  EXPECT_EQ(f[0].orig, (CtTuple{kClient, kHost, 41200, 9090, kTcp}));
  EXPECT_EQ(f[0].xlat, (CtTuple{kClient, kIpA, 41200, 80, kTcp}));
  EXPECT_EQ(f[0].flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(f[0].packets_orig, 4u) << "SYN, ACK, ACK, RST";
  EXPECT_EQ(f[0].packets_orig, c->packets);
  EXPECT_EQ(f[0].bytes_orig, c->bytes);
  EXPECT_EQ(f[0].packets_reply, 2u);
  EXPECT_EQ(f[0].packets_reply, a->packets);
  EXPECT_EQ(f[0].bytes_reply, a->bytes);
  EXPECT_EQ(f[0].state_orig, BPFNET_CT_CLOSING);
  EXPECT_EQ(f[0].state_reply, BPFNET_CT_CLOSING);
  EXPECT_EQ(f[0].created_ns, c->created_ns);
  EXPECT_EQ(f[1].phase, FlowPhase::kStart);
  EXPECT_EQ(f[1].packets_orig, 1u);
}

// A flow found expired by one of its packets is removed: an end event
// (expired), told from the original direction even when the packet that
// found it was the reply's (A's, through tc).
TEST_F(FlowEventProgTest, AnExpiredFlowFoundByAPacketEnds) {
  connect(41300);
  drain();
  age_conntrack(BPFNET_CT_TIMEOUT_TCP_EST + kSecond);
  from_a(41300, ACK, 5006, 1001, 509, "stale");
  const auto f = flows(drain());
  ASSERT_GE(f.size(), 1u);
  EXPECT_EQ(f[0].phase, FlowPhase::kEndExpired);
  EXPECT_EQ(f[0].orig, (CtTuple{kClient, kHost, 41300, 9090, kTcp}));
  EXPECT_EQ(f[0].xlat, (CtTuple{kClient, kIpA, 41300, 80, kTcp}));
  EXPECT_EQ(f[0].flags, BPFNET_CT_F_DNAT);
  EXPECT_EQ(f[0].packets_orig, 3u);
  EXPECT_EQ(f[0].packets_reply, 2u);
  EXPECT_FALSE(client_half(41300));
}

}  // namespace
}  // namespace bpfnet::test
