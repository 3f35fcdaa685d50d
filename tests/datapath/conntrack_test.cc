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
      ct(1, 2, 100), ct(2, 1, 100),  // both expired: both go
      ct(3, 4, 100), ct(4, 3, 900),  // one-way stream: kept while the reply lives
      ct(5, 9, 100),                 // expired, other half gone: goes
      ct(6, 9, 900),                 // alive: kept
  };
  EXPECT_EQ(gc_conntrack(datapath, 500), 3u);
  std::vector<uint8_t> deleted;
  for (const auto& key : datapath.ct_deleted) deleted.push_back(key[0]);
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<uint8_t>{1, 2, 5}));
}

// A flow as the datapath writes it: forward half (`key`) and reply half.
std::vector<CtEntry> flow(uint8_t key, uint8_t reply, uint32_t backend, uint8_t extra_flags) {
  CtEntry fwd = ct(key, reply, 1000);
  fwd.flags = extra_flags;
  fwd.rewrite_daddr = backend;
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

}  // namespace
}  // namespace bpfnet::datapath
