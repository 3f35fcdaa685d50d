// Conntrack logic over an in-memory datapath: GC, load-balanced flows by
// backend, purging a backend's flows, usage.
#include "datapath/conntrack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "bpfnet_abi.h"
#include "fakes/fake_datapath.h"

namespace bpfnet::datapath {
namespace {

using fakes::FakeDatapath;

constexpr uint64_t kS = 1'000'000'000;

CtEntry ct(uint8_t key, uint8_t peer, uint64_t expires_ns) {
  CtEntry e;
  e.key[0] = key;
  e.peer[0] = peer;
  e.expires_ns = expires_ns;
  return e;
}

TEST(ConntrackTest, GcKeepsAFlowWhileEitherDirectionLives) {
  FakeDatapath datapath;
  datapath.conntrack = {
      ct(1, 2, kS),     ct(2, 1, kS),      // both expired: both go
      ct(3, 4, kS),     ct(4, 3, 9 * kS),  // one-way stream: kept while the reply lives
      ct(5, 9, kS),                        // expired, other half gone: goes
      ct(6, 9, 9 * kS),                    // alive: kept
  };
  EXPECT_EQ(gc_conntrack(datapath, 5 * kS), 3u);
  std::vector<uint8_t> deleted;
  for (const auto& key : datapath.ct_deleted) deleted.push_back(key[0]);
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<uint8_t>{1, 2, 5}));
}

TEST(ConntrackTest, GcDeletesBothHalvesTogetherAndOrphansAlone) {
  FakeDatapath datapath;
  datapath.conntrack = {
      ct(1, 2, kS),     ct(2, 1, 3 * kS),  // both past: one flow, both halves in one pass
      ct(3, 4, kS),     ct(4, 7, 9 * kS),  // 3's peer now belongs to another flow: 3 goes alone
      ct(7, 4, 9 * kS), ct(5, 6, 4 * kS + kS / 2),  // past, but less than a second (the datapath's
      ct(6, 5, kS),                                 // clock may lag): kept
  };
  EXPECT_EQ(gc_conntrack(datapath, 5 * kS), 3u);
  std::vector<uint8_t> deleted;
  for (const auto& key : datapath.ct_deleted) deleted.push_back(key[0]);
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<uint8_t>{1, 2, 3}));
}

// With `ended`, each flow GC removes is a monitor flow end (gc): one per
// flow, told from its original direction, with both halves' counters; an
// orphaned half is one too.
TEST(ConntrackTest, GcReportsEachRemovedFlowOnce) {
  FakeDatapath datapath;
  CtEntry orig = ct(1, 2, kS), reply = ct(2, 1, kS);
  orig.tuple = CtTuple{10, 20, 1000, 80, 6};
  orig.rewrite = CtTuple{10, 30, 1000, 8080, 6};
  orig.packets = 5;
  reply.flags = BPFNET_CT_F_REPLY;
  reply.tuple = CtTuple{30, 10, 8080, 1000, 6};
  reply.packets = 4;
  datapath.conntrack = {reply, orig, ct(5, 9, kS), ct(6, 7, 9 * kS)};
  std::vector<FlowRecord> ended;
  EXPECT_EQ(gc_conntrack(datapath, 5 * kS, &ended), 3u);
  ASSERT_EQ(ended.size(), 2u);
  const FlowRecord& f = ended[0].orig == orig.tuple ? ended[0] : ended[1];
  EXPECT_EQ(f.phase, FlowPhase::kEndGc);
  EXPECT_EQ(f.xlat, orig.rewrite);
  EXPECT_EQ(f.packets_orig, 5u);
  EXPECT_EQ(f.packets_reply, 4u);
}

// A flow as the datapath writes it: forward half (`key`) and reply half.
std::vector<CtEntry> flow(uint8_t key, uint8_t reply, uint32_t backend, uint8_t extra_flags) {
  CtEntry fwd = ct(key, reply, 1000);
  fwd.flags = extra_flags;
  fwd.rewrite.daddr = backend;
  CtEntry rev = ct(reply, key, 1000);
  rev.flags = extra_flags | BPFNET_CT_F_REPLY;
  return {fwd, rev};
}

std::vector<CtEntry> flows(std::initializer_list<std::vector<CtEntry>> parts) {
  std::vector<CtEntry> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(ConntrackTest, LoadBalancedFlowsAreCountedByBackend) {
  FakeDatapath datapath;
  datapath.conntrack =
      flows({flow(1, 2, 0x0a000002, BPFNET_CT_F_LB), flow(3, 4, 0x0a000002, BPFNET_CT_F_LB),
             flow(5, 6, 0x0a000003, BPFNET_CT_F_LB),
             flow(7, 8, 0x0a000003, BPFNET_CT_F_DNAT)});  // not balanced
  EXPECT_EQ(lb_flows_by_backend(datapath),
            (std::map<uint32_t, uint64_t>{{0x0a000002, 2}, {0x0a000003, 1}}));
}

TEST(ConntrackTest, PurgeDropsBothHalvesOfTheBackendsBalancedFlowsOnly) {
  FakeDatapath datapath;
  datapath.conntrack =
      flows({flow(1, 2, 0x0a000002, BPFNET_CT_F_LB), flow(3, 4, 0x0a000003, BPFNET_CT_F_LB),
             flow(5, 6, 0x0a000002, BPFNET_CT_F_DNAT)});
  purge_lb_flows_to(datapath, {0x0a000002});
  std::vector<uint8_t> deleted;
  for (const auto& key : datapath.ct_deleted) deleted.push_back(key[0]);
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<uint8_t>{1, 2}));
}

TEST(ConntrackTest, PurgeOfNoBackendsReadsNothing) {
  FakeDatapath datapath;
  datapath.conntrack = flow(1, 2, 0x0a000002, BPFNET_CT_F_LB);
  purge_lb_flows_to(datapath, {});
  EXPECT_TRUE(datapath.ct_deleted.empty());
}

TEST(ConntrackTest, Usage) {
  FakeDatapath datapath;
  datapath.conntrack = flows({flow(1, 2, 1, 0), flow(3, 4, 1, 0)});
  const ConntrackUsage usage = conntrack_usage(datapath);
  EXPECT_EQ(usage.entries, 4u);
  EXPECT_EQ(usage.capacity, 1024u);
  EXPECT_DOUBLE_EQ(usage.pressure(), 4.0 / 1024);
  EXPECT_DOUBLE_EQ(ConntrackUsage{}.pressure(), 0.0);
}

// A published-port flow as the uplink creates it: client -> host:hport
// rewritten to container:cport, and the container's reply half.
std::vector<CtEntry> published(uint8_t key, uint8_t reply, uint32_t client, uint32_t host,
                               uint16_t hport, uint32_t container, uint16_t cport) {
  CtEntry fwd = ct(key, reply, 1000);
  fwd.flags = BPFNET_CT_F_DNAT;
  fwd.tuple = CtTuple{client, host, 40000, hport, 17};
  fwd.rewrite = CtTuple{client, container, 40000, cport, 17};
  CtEntry rev = ct(reply, key, 1000);
  rev.flags = BPFNET_CT_F_DNAT | BPFNET_CT_F_REPLY;
  rev.tuple = CtTuple{container, client, cport, 40000, 17};
  rev.rewrite = CtTuple{host, client, hport, 40000, 17};
  return {fwd, rev};
}

// A masqueraded flow of a container: container -> server, reply to the uplink.
std::vector<CtEntry> masqueraded(uint8_t key, uint8_t reply, uint32_t container, uint32_t uplink) {
  CtEntry fwd = ct(key, reply, 1000);
  fwd.flags = BPFNET_CT_F_SNAT;
  fwd.tuple = CtTuple{container, 0x08080808, 5000, 53, 17};
  fwd.rewrite = CtTuple{uplink, 0x08080808, 61000, 53, 17};
  CtEntry rev = ct(reply, key, 1000);
  rev.flags = BPFNET_CT_F_SNAT | BPFNET_CT_F_REPLY;
  rev.tuple = CtTuple{0x08080808, uplink, 53, 61000, 17};
  rev.rewrite = CtTuple{0x08080808, container, 53, 5000, 17};
  return {fwd, rev};
}

std::vector<uint8_t> deleted_ids(const FakeDatapath& datapath) {
  std::vector<uint8_t> out;
  for (const auto& key : datapath.ct_deleted) out.push_back(key[0]);
  std::sort(out.begin(), out.end());
  return out;
}

constexpr uint32_t kClient = 0xc0000202, kHost = 0xc0000201, kWeb = 0x0a000002, kDb = 0x0a000003;

TEST(ConntrackTest, ADisconnectedContainerLosesItsFlows) {
  FakeDatapath datapath;
  datapath.conntrack =
      flows({published(1, 2, kClient, kHost, 8080, kWeb, 80), masqueraded(3, 4, kWeb, kHost),
             published(5, 6, kClient, kHost, 9090, kDb, 90), masqueraded(7, 8, kDb, kHost)});
  MapDelta applied;
  applied.endpoints_by_ip.deletes = {{kWeb, EndpointEntry{5, 1, kWeb, {}, {}}}};
  purge_flows_of(datapath, applied);
  EXPECT_EQ(deleted_ids(datapath), (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(ConntrackTest, AnAddressThatIsStillAnEndpointKeepsItsFlows) {
  FakeDatapath datapath;
  datapath.conntrack = masqueraded(3, 4, kWeb, kHost);
  MapDelta applied;  // the same address, a recreated veth
  applied.endpoints_by_ip.deletes = {{kWeb, EndpointEntry{5, 1, kWeb, {}, {}}}};
  applied.endpoints_by_ip.upserts = {{kWeb, EndpointEntry{6, 1, kWeb, {}, {}}}};
  purge_flows_of(datapath, applied);
  EXPECT_TRUE(datapath.ct_deleted.empty());
}

TEST(ConntrackTest, ARemovedPublishedPortLosesItsFlowsOnly) {
  FakeDatapath datapath;
  datapath.conntrack =
      flows({published(1, 2, kClient, kHost, 8080, kWeb, 80),
             published(3, 4, kClient, kHost, 8081, kWeb, 81), masqueraded(5, 6, kWeb, kHost)});
  MapDelta applied;  // 0.0.0.0:8080/udp -> web:80 went
  applied.portmaps.deletes = {{PortMapKey{0, 8080, 17}, PortMapEntry{0, 8080, 17, kWeb, 80}}};
  purge_flows_of(datapath, applied);
  EXPECT_EQ(deleted_ids(datapath), (std::vector<uint8_t>{1, 2}));
  datapath.ct_deleted.clear();
  applied.portmaps.deletes = {
      {PortMapKey{kHost, 8081, 17}, PortMapEntry{kHost, 8081, 17, kWeb, 81}}};
  purge_flows_of(datapath, applied);  // bound to the host's address
  EXPECT_EQ(deleted_ids(datapath), (std::vector<uint8_t>{3, 4}));
}

// With `ended`, each purged flow is a monitor flow end (purged): one per
// flow, told from its original direction whichever half matched.
TEST(ConntrackTest, APurgeReportsEachFlowOnceFromItsOriginalDirection) {
  FakeDatapath datapath;
  datapath.conntrack =
      flows({published(1, 2, kClient, kHost, 8080, kWeb, 80), masqueraded(3, 4, kWeb, kHost),
             published(5, 6, kClient, kHost, 9090, kDb, 90)});
  MapDelta applied;
  applied.endpoints_by_ip.deletes = {{kWeb, EndpointEntry{5, 1, kWeb, {}, {}}}};
  std::vector<FlowRecord> ended;
  purge_flows_of(datapath, applied, &ended);
  EXPECT_EQ(deleted_ids(datapath), (std::vector<uint8_t>{1, 2, 3, 4}));
  ASSERT_EQ(ended.size(), 2u);
  std::vector<CtTuple> told;
  for (const FlowRecord& f : ended) {
    EXPECT_EQ(f.phase, FlowPhase::kEndPurged);
    EXPECT_FALSE(f.flags & BPFNET_CT_F_REPLY);
    told.push_back(f.orig);
  }
  EXPECT_NE(std::find(told.begin(), told.end(), CtTuple{kClient, kHost, 40000, 8080, 17}),
            told.end());
  EXPECT_NE(std::find(told.begin(), told.end(), CtTuple{kWeb, 0x08080808, 5000, 53, 17}),
            told.end());

  FakeDatapath lb;  // a backend's balanced flows, likewise
  lb.conntrack = flows({flow(1, 2, kWeb, BPFNET_CT_F_LB), flow(3, 4, kDb, BPFNET_CT_F_LB)});
  ended.clear();
  purge_lb_flows_to(lb, {kWeb}, &ended);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].phase, FlowPhase::kEndPurged);
  EXPECT_EQ(ended[0].xlat.daddr, kWeb);
}

TEST(ConntrackTest, NothingGoneNothingRead) {
  FakeDatapath datapath;
  datapath.conntrack = published(1, 2, kClient, kHost, 8080, kWeb, 80);
  purge_flows_of(datapath, MapDelta{});
  EXPECT_TRUE(datapath.ct_deleted.empty());
}

}  // namespace
}  // namespace bpfnet::datapath
