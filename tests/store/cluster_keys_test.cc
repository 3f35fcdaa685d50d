#include "store/cluster_keys.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "store/cluster_records.h"
#include "store/store_url.h"

namespace bpfnet::store {
namespace {

using core::Ipv4;
using Kind = keys::ParsedKey::Kind;

TEST(ClusterKeys, LayoutUnderOneVersionedRoot) {
  EXPECT_EQ(keys::host("h1"), "/bpfnet/v1/hosts/h1");
  EXPECT_EQ(keys::network("abc"), "/bpfnet/v1/networks/abc");
  EXPECT_EQ(keys::vni(4096), "/bpfnet/v1/vnis/4096");
  EXPECT_EQ(keys::address("abc", Ipv4::parse("10.0.0.2")), "/bpfnet/v1/ipam/abc/10.0.0.2");
  EXPECT_EQ(keys::addresses_prefix("abc"), "/bpfnet/v1/ipam/abc/");
  EXPECT_EQ(keys::endpoint("abc", "e1"), "/bpfnet/v1/endpoints/abc/e1");
  EXPECT_EQ(keys::endpoints_prefix("abc"), "/bpfnet/v1/endpoints/abc/");
  EXPECT_EQ(keys::backends_prefix("s1"), "/bpfnet/v1/backends/s1/");
  EXPECT_EQ(keys::backend("s1", "e1"), "/bpfnet/v1/backends/s1/e1");
  EXPECT_EQ(keys::check("s1", "e1"), "/bpfnet/v1/checks/s1/e1");
  auto check = keys::parse("/bpfnet/v1/checks/s1/e1");
  EXPECT_EQ(check.kind, Kind::kCheck);
  EXPECT_EQ(check.first, "s1");
  EXPECT_EQ(check.second, "e1");
  EXPECT_EQ(keys::parse("/bpfnet/v1/backends/s1/e1").kind, Kind::kBackend);
  EXPECT_EQ(keys::parse("/bpfnet/v1/backends/s1/").kind, Kind::kOther);
  EXPECT_EQ(keys::parse("/bpfnet/v1/checks/s1").kind, Kind::kOther);
  EXPECT_EQ(keys::service("web"), "/bpfnet/v1/services/web");
  EXPECT_EQ(keys::services_prefix(), "/bpfnet/v1/services/");
  auto service = keys::parse("/bpfnet/v1/services/web");
  EXPECT_EQ(service.kind, Kind::kService);
  EXPECT_EQ(service.first, "web");
  EXPECT_EQ(keys::parse("/bpfnet/v1/services/web/x").kind, Kind::kOther);
}

TEST(ClusterKeys, ParseNamesWhatAKeyIs) {
  auto endpoint = keys::parse("/bpfnet/v1/endpoints/abc/e1");
  EXPECT_EQ(endpoint.kind, Kind::kEndpoint);
  EXPECT_EQ(endpoint.first, "abc");
  EXPECT_EQ(endpoint.second, "e1");
  EXPECT_EQ(keys::parse("/bpfnet/v1/hosts/h1").kind, Kind::kHost);
  EXPECT_EQ(keys::parse("/bpfnet/v1/ipam/abc/10.0.0.2").second, "10.0.0.2");
  for (const char* junk : {"/bpfnet/v1/hosts/", "/bpfnet/v1/hosts/a/b", "/bpfnet/v1/endpoints/abc",
                           "/bpfnet/v1/endpoints/abc/", "/bpfnet/v1/endpoints//e", "/other/hosts/h",
                           "/bpfnet/v2/hosts/h", "/bpfnet/v1/endpoints/a/b/c"}) {
    EXPECT_EQ(keys::parse(junk).kind, Kind::kOther) << junk;
  }
}

TEST(ClusterRecords, RoundTrip) {
  HostRecord host{"h1", Ipv4::parse("192.0.2.1"), {core::Cidr::parse("172.17.0.0/16")}};
  EXPECT_EQ(host_from_json("k", to_json(host)), host);
  NetworkRecord network{"id1",
                        "ov",
                        "2026-01-01T00:00:00Z",
                        core::Cidr::parse("10.0.0.0/24"),
                        Ipv4::parse("10.0.0.1"),
                        core::Cidr::parse("10.0.0.128/25"),
                        true,
                        {{"com.docker.network.driver.mtu", "1400"}},
                        4097,
                        "h1"};
  EXPECT_EQ(network_from_json("k", to_json(network)), network);
  network.ip_range.reset();
  EXPECT_EQ(network_from_json("k", to_json(network)), network);
  AddressRecord address{"h1", "e1"};
  EXPECT_EQ(address_from_json("k", to_json(address)), address);
  EndpointRecord endpoint{
      "id1", "e1", "web", "h1", Ipv4::parse("10.0.0.2"), core::mac_for_ip(Ipv4::parse("10.0.0.2"))};
  EXPECT_EQ(endpoint_from_json("k", to_json(endpoint)), endpoint);
  core::HealthCheck http{core::HealthCheck::kHttp, "/ready", 204, 500, 200, 2, 2};
  CheckRecord check{"web", "h1", "id1", "e1", "h2", 80, http};
  EXPECT_EQ(check_from_json("k", to_json(check)), check);
  check.health = core::HealthCheck{};
  EXPECT_EQ(check_from_json("k", to_json(check)), check);
  BackendHealthRecord health{"h2", false, "connect 10.0.0.2:80: Connection refused"};
  EXPECT_EQ(backend_health_from_json("k", to_json(health)), health);
  ServiceRecord service{"h1", core::Service{}};
  service.service.id = std::string(64, 'a');
  service.service.name = "web";
  service.service.network_id = "id1";
  service.service.vip = Ipv4::parse("10.0.0.9");
  service.service.ports = {{core::Proto::kTcp, 80}};
  service.service.backends = {{"b1@h1", 1, 1}, {"b2@h2", 2, 0}};
  service.service.global = true;
  EXPECT_EQ(service_from_json("k", to_json(service)), service);
  EXPECT_THROW(service_from_json("/bpfnet/v1/services/web", R"({"created_by":"h1"})"),
               core::UserError);
}

TEST(ClusterRecords, BadChecksNameTheKeyAndField) {
  auto error_of = [](const char* json) {
    try {
      check_from_json("/bpfnet/v1/checks/s/e", json);
    } catch (const core::UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string fields =
      R"("service_host":"h1","network_id":"n","endpoint_id":"e","host":"h2")";
  EXPECT_EQ(error_of(("{" + fields + R"(,"port":0,"health":{}})").c_str()),
            "/bpfnet/v1/checks/s/e: port: must be 1..65535");
  EXPECT_EQ(error_of(("{" + fields + R"(,"port":80,"health":{"interval_ms":5}})").c_str()),
            "/bpfnet/v1/checks/s/e: health: invalid health check interval_ms 5: must be "
            "100..3600000");
  EXPECT_EQ(error_of(("{" + fields + R"(,"port":80})").c_str()),
            "/bpfnet/v1/checks/s/e: health: missing");
  EXPECT_THROW(backend_health_from_json("k", R"({"host":"h2"})"), core::UserError);
}

TEST(ClusterRecords, BadRecordsNameTheKeyAndField) {
  try {
    host_from_json("/bpfnet/v1/hosts/h1", R"({"name":"h1","underlay":"x"})");
    FAIL();
  } catch (const core::UserError& e) {
    EXPECT_STREQ(e.what(), "/bpfnet/v1/hosts/h1: underlay: invalid IPv4 address \"x\"");
  }
  EXPECT_THROW(endpoint_from_json("k", "{"), core::UserError);
  EXPECT_THROW(network_from_json("k", R"({"id":"a"})"), core::UserError);
  // Fields from a newer bpfnetd are ignored.
  EXPECT_NO_THROW(address_from_json("k", R"({"host":"h","owner":"e","future":1})"));
}

TEST(ClusterRecords, RequestedVni) {
  EXPECT_EQ(requested_vni({}), std::nullopt);
  EXPECT_EQ(requested_vni({{std::string(kVxlanIdListOption), "4097"}}), 4097u);
  EXPECT_EQ(requested_vni({{std::string(kVxlanIdListOption), "1"}}), 1u);
  for (const char* bad : {"", "0", "4097,4098", "x", "16777216", "04097"}) {
    EXPECT_THROW(requested_vni({{std::string(kVxlanIdListOption), bad}}), core::UserError) << bad;
  }
}

TEST(StoreUrl, ParsesEndpointsAndDefaultsThePort) {
  EXPECT_EQ(parse_store_url("etcd://h1:2379,h2:22379,10.0.0.3"),
            (std::vector<std::string>{"h1:2379", "h2:22379", "10.0.0.3:2379"}));
  for (const char* bad : {"h1:2379", "etcd://", "etcd://h1:", "etcd://h1:0", "etcd://h1:70000",
                          "etcd://h1,,h2", "etcd://:2379", "etcd://h1/x", "http://h1:2379"}) {
    try {
      parse_store_url(bad);
      ADD_FAILURE() << bad;
    } catch (const core::UserError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("invalid store address \"", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace bpfnet::store
