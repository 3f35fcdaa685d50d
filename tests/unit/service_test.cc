// Services: create/add-backend/rm-backend/drain/rm with their errors and the
// strong guarantee, VIPs in the network's address space, published ports
// shared with containers, the Maglev input, the inspect JSON, the state file
// and the config file.
#include "core/service.h"

#include <gtest/gtest.h>

#include "core/config.h"
#include "core/engine.h"
#include "core/portmap.h"
#include "test_support.h"

namespace bpfnet::core {
namespace {

using testing::attach;
using testing::bridge;
using testing::error_of;
using testing::expect_error_and_unchanged;
using testing::FakeIds;
using testing::fresh_state;
using testing::ip;
using testing::kNow;

constexpr Proto kTcp = Proto::kTcp;
constexpr Proto kUdp = Proto::kUdp;

ServiceCreate service_request(std::string name, std::string network,
                              std::vector<std::string> ports = {"80/tcp"}) {
  ServiceCreate request;
  request.name = std::move(name);
  request.network = std::move(network);
  request.ports = std::move(ports);
  return request;
}

// front 10.1.0.0/24: web1 10.1.0.2, web2 10.1.0.3; back (internal)
// 10.2.0.0/24: db 10.2.0.2.
class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_network(state, bridge("front", "10.1.0.0/24"), {}, ids, kNow);
    NetworkCreate back = bridge("back", "10.2.0.0/24");
    back.internal = true;
    create_network(state, back, {}, ids, kNow);
    connect(state, attach("front", "web1"), ids);
    connect(state, attach("front", "web2"), ids);
    connect(state, attach("back", "db"), ids);
  }

  const Service& create(const ServiceCreate& request) {
    return create_service(state, request, ids, env);
  }
  const Service& create(std::string name, std::string network = "front",
                        std::vector<std::string> ports = {"80/tcp"}) {
    return create(service_request(std::move(name), std::move(network), std::move(ports)));
  }
  void expect_create_fails(const ServiceCreate& request, const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { create_service(s, request, ids, env); }, message);
  }
  std::string container_id(const std::string& container) {
    return state.endpoints_of_container(container).front()->container_id;
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment env;
};

// ------------------------------------------------------------------ create

TEST_F(ServiceTest, CreateTakesDefaults) {
  const Service& service = create("api");
  EXPECT_EQ(service.name, "api");
  EXPECT_TRUE(is_hex_id(service.id)) << service.id;
  EXPECT_EQ(service.network_id, state.get_network("front").id);
  EXPECT_EQ(service.vip, ip("10.1.0.4")) << "lowest address no endpoint uses";
  EXPECT_EQ(service.ports, (std::vector<std::pair<Proto, uint16_t>>{{kTcp, 80}}));
  EXPECT_TRUE(service.published.empty());
  EXPECT_FALSE(service.affinity_timeout_s.has_value());
  EXPECT_EQ(service.table_size, 16381u);
  EXPECT_EQ(service.health, HealthCheck{});
  EXPECT_TRUE(service.backends.empty());
  EXPECT_EQ(service.index, 1u);
  EXPECT_EQ(state.services.size(), 1u);
  EXPECT_NO_THROW(validate_state(state));
  EXPECT_EQ(create("second").index, 2u);
  EXPECT_EQ(state.services[1].vip, ip("10.1.0.5"));
}

TEST_F(ServiceTest, CreateTakesEverySetting) {
  ServiceCreate request = service_request("api", "front", {"443", "80/TCP", "53/udp", "53/tcp"});
  request.vip = "10.1.0.200";
  request.affinity = "client-ip:60";
  request.table_size = 251;
  request.health = HealthCheckSpec{"http", "/healthz", 204, 5000, 1000, 3, 2};
  const Service& service = create(request);
  EXPECT_EQ(service.vip, ip("10.1.0.200"));
  EXPECT_EQ(service.ports, (std::vector<std::pair<Proto, uint16_t>>{
                               {kTcp, 53}, {kUdp, 53}, {kTcp, 80}, {kTcp, 443}}))
      << "sorted by port, then protocol";
  EXPECT_EQ(service.affinity_timeout_s, 60u);
  EXPECT_EQ(service.table_size, 251u);
  EXPECT_EQ(service.health.type, HealthCheck::kHttp);
  EXPECT_EQ(service.health.path, "/healthz");
  EXPECT_EQ(service.health.expect, 204);
  EXPECT_EQ(service.health.interval_ms, 5000u);
  EXPECT_EQ(service.health.rise, 3u);
  EXPECT_EQ(service.health.fall, 2u);
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceTest, DynamicVipHonoursTheIpRange) {
  NetworkCreate ranged = bridge("ranged", "10.5.0.0/16");
  ranged.ip_range = "10.5.7.0/24";
  create_network(state, ranged, {}, ids, kNow);
  EXPECT_EQ(create("api", "ranged").vip, ip("10.5.7.0"));
  connect(state, attach("ranged", "web1"), ids);
  EXPECT_EQ(state.endpoint(state.get_network("ranged").id, "web1")->ip, ip("10.5.7.1"));
  EXPECT_EQ(
      create_service(state, service_request("other", "ranged"), ids, env, {ip("10.5.7.2")}).vip,
      ip("10.5.7.3"))
      << "keep_free is skipped";
}

TEST_F(ServiceTest, EndpointsSkipVipsAndCannotTakeThem) {
  create("api");  // 10.1.0.4
  EXPECT_EQ(connect(state, attach("front", "web3"), ids).ip, ip("10.1.0.5"));
  expect_error_and_unchanged(
      state, [&](State& s) { connect(s, attach("front", "web4", "10.1.0.4"), ids); },
      "Address already in use: 10.1.0.4 is the VIP of service api");
}

TEST_F(ServiceTest, StaticVipIsCheckedLikeAnIp) {
  create("api");  // 10.1.0.4
  auto with_vip = [](std::string vip) {
    ServiceCreate request = service_request("other", "front");
    request.vip = std::move(vip);
    return request;
  };
  expect_create_fails(with_vip("10.9.0.5"),
                      "Invalid address 10.9.0.5: It does not belong to any of this network's "
                      "subnets");
  expect_create_fails(with_vip("10.1.0.1"),
                      "Address already in use: 10.1.0.1 is the gateway of network front");
  expect_create_fails(with_vip("10.1.0.2"),
                      "Address already in use: 10.1.0.2 is used by container web1");
  expect_create_fails(with_vip("10.1.0.4"),
                      "Address already in use: 10.1.0.4 is the VIP of service api");
  expect_create_fails(with_vip("10.1.0.0"),
                      "Invalid address 10.1.0.0: it is the network address of 10.1.0.0/24");
  expect_create_fails(with_vip("10.1.0.255"),
                      "Invalid address 10.1.0.255: it is the broadcast address of 10.1.0.0/24");
  expect_create_fails(with_vip("10.1.0"), "invalid IPv4 address \"10.1.0\"");
}

TEST_F(ServiceTest, FullNetworkHasNoVip) {
  create_network(state, bridge("tiny", "10.7.0.0/30"), {}, ids, kNow);
  create("api", "tiny");  // 10.7.0.2, the only host address besides the gateway
  expect_create_fails(service_request("other", "tiny"),
                      fmt::format("no available IPv4 addresses on this network's address pools: "
                                  "tiny ({})",
                                  state.get_network("tiny").id));
}

TEST_F(ServiceTest, CreateRejectsBadNamesAndNetworks) {
  create("api");
  expect_create_fails(service_request("api", "front"), "service with name api already exists");
  expect_create_fails(service_request("", "front"), "service name must not be empty");
  expect_create_fails(service_request("bad/name", "front"),
                      "invalid service name (bad/name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                      "allowed");
  expect_create_fails(service_request("x", "missing"), "network missing not found");
  expect_create_fails(service_request("x", "host"),
                      "service x cannot use the builtin network host: only bridge networks take "
                      "services");
}

struct BadPorts {
  std::vector<std::string> ports;
  std::string message;
};

void PrintTo(const BadPorts& bad, std::ostream* out) { *out << bad.message; }

class ServicePortsRejectTest : public ServiceTest,
                               public ::testing::WithParamInterface<BadPorts> {};

TEST_P(ServicePortsRejectTest, NamesThePort) {
  expect_create_fails(service_request("api", "front", GetParam().ports), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Ports, ServicePortsRejectTest,
    ::testing::Values(
        BadPorts{{}, "a service needs at least one port, e.g. 80/tcp"},
        BadPorts{{"0"},
                 "invalid service port \"0\": expected PORT[/PROTO] with PORT 1..65535, e.g. "
                 "80/tcp"},
        BadPorts{{"70000/tcp"},
                 "invalid service port \"70000/tcp\": expected PORT[/PROTO] with PORT 1..65535, "
                 "e.g. 80/tcp"},
        BadPorts{{"80-90"},
                 "invalid service port \"80-90\": expected PORT[/PROTO] with PORT 1..65535, e.g. "
                 "80/tcp"},
        BadPorts{{"http"},
                 "invalid service port \"http\": expected PORT[/PROTO] with PORT 1..65535, e.g. "
                 "80/tcp"},
        BadPorts{{"/tcp"},
                 "invalid service port \"/tcp\": expected PORT[/PROTO] with PORT 1..65535, e.g. "
                 "80/tcp"},
        BadPorts{{"80/icmp"}, "Invalid proto: icmp"}, BadPorts{{"80/"}, "Invalid proto: <empty>"},
        BadPorts{{"80", "443", "80/tcp"}, "service port 80/tcp is listed twice"}));

TEST(ServicePortTest, ParsesAndPrints) {
  EXPECT_EQ(parse_service_port("80"), std::pair(kTcp, uint16_t{80}));
  EXPECT_EQ(parse_service_port("53/UDP"), std::pair(kUdp, uint16_t{53}));
  EXPECT_EQ(parse_service_port("9/sctp"), std::pair(Proto::kSctp, uint16_t{9}));
  EXPECT_EQ(parse_service_port("65535/tcp"), std::pair(kTcp, uint16_t{65535}));
  EXPECT_EQ(service_port_string({kUdp, 53}), "53/udp");
}

TEST(AffinityTest, ParsesTheThreeForms) {
  EXPECT_EQ(parse_affinity("none"), std::nullopt);
  EXPECT_EQ(parse_affinity("client-ip"), 10800u);
  EXPECT_EQ(parse_affinity("client-ip:1"), 1u);
  EXPECT_EQ(parse_affinity("client-ip:86400"), 86400u);
  for (const char* bad : {"sticky", "", "client-ip:", "client-ip:abc", "client-ip:-5", "Client-IP",
                          "client-ip:60s", "client-ip:99999999999999"}) {
    EXPECT_EQ(error_of([&] { parse_affinity(bad); }),
              fmt::format("invalid affinity \"{}\": expected \"none\", \"client-ip\" or "
                          "\"client-ip:SECONDS\"",
                          bad));
  }
  EXPECT_EQ(error_of([] { parse_affinity("client-ip:0"); }),
            "invalid affinity timeout 0 in \"client-ip:0\": must be 1..86400 seconds");
  EXPECT_EQ(error_of([] { parse_affinity("client-ip:86401"); }),
            "invalid affinity timeout 86401 in \"client-ip:86401\": must be 1..86400 seconds");
}

TEST_F(ServiceTest, CreateRejectsBadSettings) {
  ServiceCreate request = service_request("api", "front");
  request.affinity = "sticky";
  expect_create_fails(
      request,
      "invalid affinity \"sticky\": expected \"none\", \"client-ip\" or \"client-ip:SECONDS\"");
  request = service_request("api", "front");
  request.affinity = "none";
  EXPECT_FALSE(create(request).affinity_timeout_s.has_value());
  remove_service(state, "api");

  for (uint64_t size : {0ULL, 250ULL, 16383ULL, 131101ULL, 5000000000ULL}) {
    request = service_request("api", "front");
    request.table_size = size;
    expect_create_fails(
        request,
        fmt::format("invalid table size {}: must be a prime between 251 and 131071", size));
  }
  request = service_request("api", "front");
  request.health = HealthCheckSpec{};
  request.health->rise = 0;
  expect_create_fails(request, "invalid health check rise 0: must be 1..100");
}

TEST_F(ServiceTest, IndexesAreLowestFreeAndLimited) {
  create_network(state, bridge("big", "10.100.0.0/16"), {}, ids, kNow);
  for (uint32_t i = 1; i < kMaxServices; ++i) create(fmt::format("s{}", i), "big");
  EXPECT_EQ(state.services.back().index, kMaxServices - 1);
  expect_create_fails(service_request("one-more", "big"),
                      "cannot create service: bpfnet supports at most 1023 services");
  remove_service(state, "s7");
  EXPECT_EQ(create("again", "big").index, 7u);
  EXPECT_NO_THROW(validate_state(state));
}

// --------------------------------------------------------------- publish

TEST_F(ServiceTest, PublishesServicePortsOnTheHost) {
  ServiceCreate request = service_request("api", "front", {"80/tcp", "53/udp"});
  request.publish = {"8080:80", "127.0.0.1:5353:53/udp", "80"};
  env.ephemeral_low = 40000;
  env.ephemeral_high = 40010;
  const Service& service = create(request);
  EXPECT_EQ(service.published, (std::vector<PortBinding>{{kTcp, 80, ip("0.0.0.0"), 8080},
                                                         {kTcp, 80, ip("0.0.0.0"), 40000},
                                                         {kUdp, 53, ip("127.0.0.1"), 5353}}))
      << "sorted";
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceTest, PublishUsesTheNetworksHostBindingIpv4) {
  NetworkCreate local = bridge("local", "10.8.0.0/24");
  local.options = {{"com.docker.network.bridge.host_binding_ipv4", "127.0.0.1"}};
  create_network(state, local, {}, ids, kNow);
  ServiceCreate request = service_request("api", "local");
  request.publish = {"8080:80"};
  EXPECT_EQ(create(request).published.front().host_ip, ip("127.0.0.1"));
}

TEST_F(ServiceTest, PublishRejectsForeignPortsAndInternalNetworks) {
  ServiceCreate request = service_request("api", "front", {"80/tcp"});
  request.publish = {"8080:81"};
  expect_create_fails(request, "cannot publish 8080:81: 81/tcp is not a port of service api");
  request.publish = {"8080:80/udp"};
  expect_create_fails(request, "cannot publish 8080:80/udp: 80/udp is not a port of service api");
  request.publish = {"80-81"};
  expect_create_fails(request, "cannot publish 80-81: 81/tcp is not a port of service api");
  request.publish = {"80:"};
  expect_create_fails(request, "No port specified: 80:<empty>");
  request = service_request("cache", "back", {"6379"});
  request.publish = {"6379:6379"};
  expect_create_fails(request, "cannot publish ports of service cache: network back is internal");
}

TEST_F(ServiceTest, HostPortsAreSharedWithContainers) {
  add_ports(state, "web1", {"8080:80"}, std::nullopt, env);
  ServiceCreate request = service_request("api", "front");
  request.publish = {"8080:80"};
  expect_create_fails(request, "Bind for 0.0.0.0:8080 failed: port is already allocated");
  request.publish = {"127.0.0.1:8080:80"};
  expect_create_fails(request, "Bind for 127.0.0.1:8080 failed: port is already allocated");
  request.publish = {"9090:80"};
  create(request);
  expect_error_and_unchanged(
      state, [&](State& s) { add_ports(s, "web2", {"9090:80"}, std::nullopt, env); },
      "Bind for 0.0.0.0:9090 failed: port is already allocated");
  expect_error_and_unchanged(
      state, [&](State& s) { add_ports(s, "web2", {"10.0.0.1:9090:80"}, std::nullopt, env); },
      "Bind for 10.0.0.1:9090 failed: port is already allocated");
  // Services conflict with each other too, and dynamic picks skip them.
  ServiceCreate other = service_request("other", "front");
  other.publish = {"9090:80"};
  expect_create_fails(other, "Bind for 0.0.0.0:9090 failed: port is already allocated");
  other.publish = {"9089-9091:80"};
  EXPECT_EQ(create(other).published.front().host_port, 9089);
  EXPECT_EQ(add_ports(state, "web2", {"9089-9091:80"}, std::nullopt, env).front().host_port, 9091);
  // port rm leaves services' bindings alone.
  expect_error_and_unchanged(
      state, [&](State& s) { remove_ports(s, "web2", "9090"); },
      "no public port '9090/tcp' published for web2");
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceTest, HostListenersRefuseServiceBinds) {
  env.host_listening = [](Proto proto, Ipv4, uint16_t port) {
    return proto == Proto::kTcp && port == 8080;
  };
  ServiceCreate request = service_request("api", "front");
  request.publish = {"8080:80"};
  expect_create_fails(request, "failed to bind host port 0.0.0.0:8080/tcp: address already in use");
}

// -------------------------------------------------------------- backends

TEST_F(ServiceTest, AddBackendTakesLowestFreeIdsAcrossServices) {
  create("api");
  const Service& api = add_backend(state, "api", "web1");
  ASSERT_EQ(api.backends.size(), 1u);
  EXPECT_EQ(api.backends[0], (ServiceBackend{"web1", 1, 1}));
  add_backend(state, "api", container_id("web2"), 3);  // by container ID
  EXPECT_EQ(state.services[0].backends[1], (ServiceBackend{"web2", 2, 3}));
  create("admin");
  add_backend(state, "admin", "web1");
  EXPECT_EQ(state.services[1].backends[0].id, 3u) << "IDs are unique over all services";
  remove_backend(state, "api", "web1");
  add_backend(state, "admin", "web2");
  EXPECT_EQ(state.services[1].backends[1].id, 1u) << "a freed ID is reused";
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceTest, AddBackendErrors) {
  create("api");
  add_backend(state, "api", "web1");
  auto fails = [&](const std::string& service, const std::string& container, int64_t weight,
                   const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { add_backend(s, service, container, weight); }, message);
  };
  fails("nope", "web1", 1, "service nope not found");
  fails("api", "ghost", 1, "No such container: ghost");
  fails("api", "db", 1, "container db is not connected to network front of service api");
  fails("api", "web1", 1, "container web1 is already a backend of service api");
  fails("api", container_id("web1"), 1, "container web1 is already a backend of service api");
  for (int64_t weight : {int64_t{0}, int64_t{-1}, int64_t{65536}}) {
    fails("api", "web2", weight,
          fmt::format("invalid weight {}: must be 1..65535 (drain a backend to stop sending it new "
                      "flows)",
                      weight));
  }
  drain_backend(state, "api", "web1");
  fails("api", "web1", 1,
        "container web1 is already a backend of service api (draining: remove it and add it again "
        "to undrain)");
  EXPECT_EQ(add_backend(state, "api", "web2", 65535).backends[1].weight, 65535u);
}

TEST_F(ServiceTest, TableSizeLimitsTheBackends) {
  ServiceCreate request = service_request("small", "front");
  request.table_size = 251;  // 2 backends
  create(request);
  connect(state, attach("front", "web3"), ids);
  add_backend(state, "small", "web1");
  add_backend(state, "small", "web2");
  expect_error_and_unchanged(
      state, [&](State& s) { add_backend(s, "small", "web3"); },
      "service small already has 2 backends, the most a table of 251 slots balances within 1% "
      "(one per 100 slots): recreate it with a larger table_size");
}

TEST_F(ServiceTest, RemoveBackend) {
  create("api");
  add_backend(state, "api", "web1");
  add_backend(state, "api", "web2");
  const Service& api = remove_backend(state, "api", "web1");
  ASSERT_EQ(api.backends.size(), 1u);
  EXPECT_EQ(api.backends[0].container, "web2");
  remove_backend(state, "api", container_id("web2"));
  EXPECT_TRUE(state.services[0].backends.empty());
  expect_error_and_unchanged(
      state, [&](State& s) { remove_backend(s, "api", "web1"); },
      "container web1 is not a backend of service api");
  expect_error_and_unchanged(
      state, [&](State& s) { remove_backend(s, "nope", "web1"); }, "service nope not found");
}

TEST_F(ServiceTest, DrainSetsWeightZeroAndIsIdempotent) {
  create("api");
  add_backend(state, "api", "web1", 5);
  add_backend(state, "api", "web2");
  const Service& api = drain_backend(state, "api", "web1");
  EXPECT_EQ(api.backends[0].weight, 0u);
  EXPECT_TRUE(api.backends[0].drained());
  EXPECT_FALSE(api.backends[1].drained());
  nlohmann::json drained = to_json(state);
  drain_backend(state, "api", container_id("web1"));
  EXPECT_EQ(to_json(state), drained);
  expect_error_and_unchanged(
      state, [&](State& s) { drain_backend(s, "api", "db"); },
      "container db is not a backend of service api");
  // Undrain: remove and add again, which gives back the same ID (and slots).
  remove_backend(state, "api", "web1");
  EXPECT_EQ(add_backend(state, "api", "web1", 5).backends.back(), (ServiceBackend{"web1", 1, 5}));
}

TEST_F(ServiceTest, RemoveService) {
  ServiceCreate request = service_request("api", "front");
  request.publish = {"8080:80"};
  create(request);
  add_backend(state, "api", "web1");
  Service removed = remove_service(state, "api");
  EXPECT_EQ(removed.name, "api");
  EXPECT_EQ(removed.backends.size(), 1u);
  EXPECT_TRUE(state.services.empty());
  // Its host port, VIP, index and backend IDs are free again.
  add_ports(state, "web2", {"8080:80"}, std::nullopt, env);
  EXPECT_EQ(connect(state, attach("front", "web3"), ids).ip, ip("10.1.0.4"));
  const Service& next = create("next");
  EXPECT_EQ(next.index, 1u);
  EXPECT_EQ(add_backend(state, "next", "web1").backends[0].id, 1u);
  expect_error_and_unchanged(
      state, [&](State& s) { remove_service(s, "api"); }, "service api not found");
}

TEST_F(ServiceTest, LookupByNameIdOrPrefix) {
  ids = FakeIds({testing::hex_id("abc1"), testing::hex_id("abd2")});
  const std::string first = create("api").id;
  const std::string second = create("web").id;
  EXPECT_EQ(first, testing::hex_id("abc1"));
  EXPECT_EQ(state.get_service(first).name, "api");
  EXPECT_EQ(state.get_service("abd").name, "web");
  EXPECT_EQ(state.get_service("web").id, second);
  EXPECT_EQ(state.find_service("zzz"), nullptr);
  EXPECT_EQ(state.find_service(""), nullptr);
  EXPECT_EQ(error_of([&] { state.get_service("ab"); }),
            "service ab is ambiguous (2 matches found based on ID prefix)");
  EXPECT_EQ(error_of([&] { state.get_service("nope"); }), "service nope not found");
  EXPECT_EQ(remove_service(state, "abc").name, "api");
}

// --------------------------------------------- networks and disconnecting

TEST_F(ServiceTest, DisconnectRemovesTheContainerFromItsServices) {
  create("api");
  create("admin");
  create("cache", "back", {"6379"});
  add_backend(state, "api", "web1");
  add_backend(state, "api", "web2");
  add_backend(state, "admin", "web1");
  add_backend(state, "cache", "db");
  connect(state, attach("back", "web1"), ids);
  add_backend(state, "cache", "web1");

  remove_endpoint(state, "front", "web1");
  EXPECT_EQ(state.get_service("api").backends.size(), 1u);
  EXPECT_EQ(state.get_service("api").backends[0].container, "web2");
  EXPECT_TRUE(state.get_service("admin").backends.empty());
  EXPECT_EQ(state.get_service("cache").backends.size(), 2u) << "other networks are untouched";
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceTest, NetworkWithServicesCannotBeRemoved) {
  create_network(state, bridge("solo", "10.9.0.0/24"), {}, ids, kNow);
  create("one", "solo");
  create("two", "solo");
  const std::string id = state.get_network("solo").id;
  expect_error_and_unchanged(
      state, [&](State& s) { remove_network(s, "solo"); },
      fmt::format("error while removing network: network solo id {} is used by service one (and 1 "
                  "more)",
                  id));
  remove_service(state, "one");
  expect_error_and_unchanged(
      state, [&](State& s) { remove_network(s, "solo"); },
      fmt::format("error while removing network: network solo id {} is used by service two", id));
  remove_service(state, "two");
  EXPECT_EQ(remove_network(state, "solo").name, "solo");
}

// ------------------------------------------------------------ maglev input

TEST_F(ServiceTest, MaglevInputLeavesOutDrainedAndUnhealthyBackends) {
  create("api");
  connect(state, attach("front", "web3"), ids);
  add_backend(state, "api", "web1", 2);  // id 1
  add_backend(state, "api", "web2");     // id 2
  add_backend(state, "api", "web3", 7);  // id 3
  const Service& api = state.get_service("api");
  EXPECT_EQ(maglev_input(api, {}), (std::vector<MaglevBackend>{{1, 2}, {2, 1}, {3, 7}}));
  EXPECT_EQ(maglev_input(api, {2, 99}), (std::vector<MaglevBackend>{{1, 2}, {3, 7}}));
  drain_backend(state, "api", "web3");
  EXPECT_EQ(maglev_input(api, {}), (std::vector<MaglevBackend>{{1, 2}, {2, 1}}));
  EXPECT_TRUE(maglev_input(api, {1, 2}).empty()) << "no fail-open";
  std::vector<uint32_t> table = maglev_table(maglev_input(api, {1, 2}), api.table_size);
  EXPECT_EQ(std::count(table.begin(), table.end(), kNoBackend), api.table_size);
}

// ------------------------------------------------------------------- JSON

TEST_F(ServiceTest, InspectHasTheReadmeShape) {
  ServiceCreate request = service_request("api", "front", {"80/tcp", "53/udp"});
  request.publish = {"8080:80"};
  request.affinity = "client-ip";
  request.health = HealthCheckSpec{"http",       "/healthz",   std::nullopt, std::nullopt,
                                   std::nullopt, std::nullopt, std::nullopt};
  create(request);
  connect(state, attach("front", "web3"), ids);  // 10.1.0.5
  add_backend(state, "api", "web1");
  add_backend(state, "api", "web2", 3);
  add_backend(state, "api", "web3");
  drain_backend(state, "api", "web3");
  std::map<uint32_t, BackendRuntime> runtime = {
      {2, BackendRuntime{false, "connect: connection refused", 7}},
      {3, BackendRuntime{false, "timeout", 2}},
  };
  const Service& api = state.get_service("api");
  nlohmann::json expected = nlohmann::json::parse(R"({
    "Name": "api", "Network": "front", "Scope": "local", "VIP": "10.1.0.4",
    "Ports": ["53/udp", "80/tcp"],
    "Published": [{"proto": "tcp", "container_port": 80, "host_ip": "0.0.0.0", "host_port": 8080,
                   "network": "front", "container_ip": "10.1.0.4"}],
    "Affinity": {"Mode": "client-ip", "TimeoutSeconds": 10800},
    "TableSize": 16381,
    "HealthCheck": {"type": "http", "path": "/healthz", "expect": 200, "interval_ms": 2000,
                    "timeout_ms": 1000, "rise": 2, "fall": 3},
    "Backends": [
      {"Container": "web1", "IP": "10.1.0.2", "Weight": 1, "State": "healthy", "LastError": "",
       "Flows": 0},
      {"Container": "web2", "IP": "10.1.0.3", "Weight": 3, "State": "unhealthy",
       "LastError": "connect: connection refused", "Flows": 7},
      {"Container": "web3", "IP": "10.1.0.5", "Weight": 0, "State": "draining",
       "LastError": "timeout", "Flows": 2}
    ]})");
  expected["Id"] = api.id;
  EXPECT_EQ(service_inspect(state, api, runtime), expected);

  create("admin");
  nlohmann::json none = service_inspect(state, state.get_service("admin"));
  EXPECT_EQ(none["Affinity"], nlohmann::json::parse(R"({"Mode": "none", "TimeoutSeconds": 0})"));
  EXPECT_EQ(none["Published"], nlohmann::json::array());
  EXPECT_EQ(none["Backends"], nlohmann::json::array());
  EXPECT_EQ(none["HealthCheck"], health_to_json(HealthCheck{}));

  nlohmann::json all = services_json(state, runtime);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["Name"], "admin") << "sorted by name";
  EXPECT_EQ(all[1], expected);
  EXPECT_EQ(services_json(fresh_state(ids)), nlohmann::json::array());
}

TEST(ServiceCreateJsonTest, ReadsTheRequestArgs) {
  ServiceCreate request = service_create_from_json(
      nlohmann::json::parse(R"({"name": "api", "network": "front", "vip": "10.1.0.9",
        "ports": ["80/tcp"], "publish": ["8080:80"], "affinity": "client-ip:5",
        "table_size": 251, "health": {"type": "http", "rise": 1}})"),
      "request", "");
  EXPECT_EQ(request.name, "api");
  EXPECT_EQ(request.network, "front");
  EXPECT_EQ(request.vip, "10.1.0.9");
  EXPECT_EQ(request.ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(request.publish, std::vector<std::string>{"8080:80"});
  EXPECT_EQ(request.affinity, "client-ip:5");
  EXPECT_EQ(request.table_size, 251u);
  ASSERT_TRUE(request.health.has_value());
  EXPECT_EQ(request.health->type, "http");
  EXPECT_EQ(request.health->rise, 1);

  ServiceCreate minimal = service_create_from_json(
      nlohmann::json::parse(R"({"name": "a", "network": "n", "ports": []})"), "request", "");
  EXPECT_EQ(
      minimal,
      (ServiceCreate{"a", "n", std::nullopt, {}, {}, std::nullopt, std::nullopt, std::nullopt}));

  auto error = [](const char* text) {
    return error_of([&] { service_create_from_json(nlohmann::json::parse(text), "request", ""); });
  };
  EXPECT_EQ(error(R"({"network": "n", "ports": []})"),
            "request: name: missing (expected a string)");
  EXPECT_EQ(error(R"({"name": "a", "network": "n"})"),
            "request: ports: missing (expected an array of strings)");
  EXPECT_EQ(error(R"({"name": "a", "network": "n", "ports": [80]})"),
            "request: ports[0]: expected a string");
  EXPECT_EQ(error(R"({"name": "a", "network": "n", "ports": [], "table_size": -1})"),
            "request: table_size: expected a non-negative integer");
  EXPECT_EQ(error(R"({"name": "a", "network": "n", "ports": [], "health": {"rise": "2"}})"),
            "request: health.rise: expected an integer");
  EXPECT_EQ(error(R"({"name": "a", "network": "n", "ports": [], "replicas": 3})"),
            "request: replicas: unknown field");
}

// -------------------------------------------------------------- state file

// ServiceTest's state plus: api on front (10.1.0.4; 80/tcp, 443/tcp;
// 8080:80; affinity 600 s; http health; web1 weight 1 id 1, web2 weight 3
// id 2) and cache on back (10.2.0.100; 6379/tcp; table 251; db drained, id 3).
class ServiceStateJsonTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ServiceCreate api = service_request("api", "front", {"80/tcp", "443/tcp"});
    api.publish = {"8080:80"};
    api.affinity = "client-ip:600";
    api.health = HealthCheckSpec{"http", "/healthz", 204, 1000, 500, 3, 4};
    create(api);
    add_backend(state, "api", "web1");
    add_backend(state, "api", "web2", 3);
    ServiceCreate cache = service_request("cache", "back", {"6379"});
    cache.vip = "10.2.0.100";
    cache.table_size = 251;
    create(cache);
    add_backend(state, "cache", "db");
    drain_backend(state, "cache", "db");
  }
};

TEST_F(ServiceStateJsonTest, RoundTripsEveryField) {
  nlohmann::json json = to_json(state);
  State loaded = state_from_json(nlohmann::json::parse(json.dump(2)));
  EXPECT_EQ(loaded, state);
  EXPECT_EQ(to_json(loaded), json);
}

TEST_F(ServiceStateJsonTest, WritesTheDocumentedFields) {
  nlohmann::json json = to_json(state);
  nlohmann::json api = json["services"][0];
  api.erase("id");
  EXPECT_EQ(api, nlohmann::json::parse(fmt::format(R"({{
    "name": "api", "network_id": "{}", "vip": "10.1.0.4", "ports": ["80/tcp", "443/tcp"],
    "published": [{{"proto": "tcp", "container_port": 80, "host_ip": "0.0.0.0",
                   "host_port": 8080}}],
    "affinity_timeout_s": 600, "table_size": 16381,
    "health": {{"type": "http", "path": "/healthz", "expect": 204, "interval_ms": 1000,
               "timeout_ms": 500, "rise": 3, "fall": 4}},
    "backends": [{{"container": "web1", "id": 1, "weight": 1}},
                 {{"container": "web2", "id": 2, "weight": 3}}],
    "index": 1}})",
                                                   state.get_network("front").id)));
  const nlohmann::json& cache = json["services"][1];
  EXPECT_FALSE(cache.contains("affinity_timeout_s"));
  EXPECT_EQ(cache["published"], nlohmann::json::array());
  EXPECT_EQ(cache["backends"][0]["weight"], 0);
  EXPECT_EQ(cache["health"], health_to_json(HealthCheck{}));
}

TEST(ServiceStateJsonCompatTest, FilesWithoutServicesReadAsNone) {
  FakeIds ids;
  State state = fresh_state(ids);
  nlohmann::json json = to_json(state);
  EXPECT_FALSE(json.contains("services")) << "written only when there are services";
  EXPECT_TRUE(state_from_json(json).services.empty());
}

struct BadServiceState {
  std::string pointer;   // JSON pointer of the field to change
  nlohmann::json value;  // new value; discarded() removes the field
  std::string message;
};

void PrintTo(const BadServiceState& bad, std::ostream* out) {
  *out << bad.pointer << " = " << bad.value.dump();
}

class ServiceStateJsonRejectsTest : public ServiceStateJsonTest,
                                    public ::testing::WithParamInterface<BadServiceState> {};

TEST_P(ServiceStateJsonRejectsTest, NamesTheBadField) {
  nlohmann::json json = to_json(state);
  const BadServiceState& bad = GetParam();
  nlohmann::json::json_pointer pointer(bad.pointer);
  if (bad.value.is_discarded()) {
    json[pointer.parent_pointer()].erase(pointer.back());
  } else {
    json[pointer] = bad.value;
  }
  EXPECT_EQ(error_of([&] { state_from_json(json); }), bad.message);
}

const nlohmann::json kRemove = nlohmann::json(nlohmann::json::value_t::discarded);

nlohmann::json binding_json_value(uint16_t container_port, uint16_t host_port) {
  return {{"proto", "tcp"},
          {"container_port", container_port},
          {"host_ip", "0.0.0.0"},
          {"host_port", host_port}};
}

INSTANTIATE_TEST_SUITE_P(
    Fields, ServiceStateJsonRejectsTest,
    ::testing::Values(
        BadServiceState{"/services", "api", "state: services: expected an array"},
        BadServiceState{"/services/0", 1, "state: services[0]: expected an object, got a number"},
        BadServiceState{"/services/0/colour", "red", "state: services[0].colour: unknown field"},
        BadServiceState{"/services/0/id", "abc",
                        "state: services[0].id: \"abc\" is not 64 lowercase hex digits"},
        BadServiceState{"/services/0/name", "-api",
                        "state: services[0].name: invalid service name \"-api\""},
        BadServiceState{"/services/1/name", "api",
                        "state: services[1].name: duplicate service name \"api\""},
        BadServiceState{"/services/0/name", kRemove,
                        "state: services[0].name: missing (expected a string)"},
        BadServiceState{
            "/services/0/network_id", std::string(64, 'f'),
            "state: services[0].network_id: no network has the ID " + std::string(64, 'f')},
        BadServiceState{"/services/0/vip", "10.1.0.256",
                        "state: services[0].vip: invalid IPv4 address \"10.1.0.256\""},
        BadServiceState{"/services/0/vip", "10.1.0.1",
                        "state: services[0].vip: 10.1.0.1 is not a usable address of network "
                        "\"front\" (10.1.0.0/24)"},
        BadServiceState{"/services/0/vip", "10.2.0.100",
                        "state: services[0].vip: 10.2.0.100 is not a usable address of network "
                        "\"front\" (10.1.0.0/24)"},
        BadServiceState{"/services/0/vip", "10.1.0.3",
                        "state: services[0].vip: 10.1.0.3 is also the address of container "
                        "\"web2\""},
        BadServiceState{"/services/1/vip", "10.2.0.2",
                        "state: services[1].vip: 10.2.0.2 is also the address of container "
                        "\"db\""},
        BadServiceState{"/services/0/ports", nlohmann::json::array(),
                        "state: services[0].ports: a service needs at least one port"},
        BadServiceState{"/services/0/ports", kRemove,
                        "state: services[0].ports: missing (expected an array of strings)"},
        BadServiceState{"/services/0/ports",
                        {"443/tcp", "80/tcp"},
                        "state: services[0].ports[1]: the ports of a service must be sorted (by "
                        "port, then protocol) and unique"},
        BadServiceState{"/services/0/ports",
                        {"80/tcp", "80/tcp"},
                        "state: services[0].ports[1]: the ports of a service must be sorted (by "
                        "port, then protocol) and unique"},
        BadServiceState{"/services/0/ports/1", "443/icmp",
                        "state: services[0].ports[1]: Invalid proto: icmp"},
        BadServiceState{"/services/0/ports/1", 443,
                        "state: services[0].ports[1]: expected a string"},
        BadServiceState{"/services/0/published/0/container_port", 81,
                        "state: services[0].published[0].container_port: 81/tcp is not a port of "
                        "the service"},
        BadServiceState{"/services/0/published/0/host_port", 0,
                        "state: services[0].published[0].host_port: 0 is out of range (1-65535)"},
        BadServiceState{"/services/0/published/1", binding_json_value(80, 8080),
                        "state: services[0].published[1]: the published ports of a service must "
                        "be sorted and unique"},
        BadServiceState{"/services/0/published/1", binding_json_value(443, 8080),
                        "state: services[0].published[1]: 0.0.0.0:8080/tcp conflicts with "
                        "0.0.0.0:8080/tcp of service \"api\""},
        BadServiceState{"/endpoints/0/ports",
                        {binding_json_value(80, 8080)},
                        "state: services[0].published[0]: 0.0.0.0:8080/tcp conflicts with "
                        "0.0.0.0:8080/tcp of container \"web1\""},
        BadServiceState{"/services/1/published",
                        {binding_json_value(6379, 6379)},
                        "state: services[1].published[0]: network \"back\" is internal and "
                        "cannot publish ports"},
        BadServiceState{"/services/0/affinity_timeout_s", 0,
                        "state: services[0].affinity_timeout_s: 0 is outside 1..86400"},
        BadServiceState{"/services/0/affinity_timeout_s", "600",
                        "state: services[0].affinity_timeout_s: expected a non-negative integer"},
        BadServiceState{"/services/0/table_size", 16383,
                        "state: services[0].table_size: invalid table size 16383: must be a prime "
                        "between 251 and 131071"},
        BadServiceState{"/services/0/table_size", 5000000000,
                        "state: services[0].table_size: 5000000000 is out of range"},
        BadServiceState{"/services/0/health", kRemove,
                        "state: services[0].health: missing (expected an object)"},
        BadServiceState{"/services/0/health/rise", 0,
                        "state: services[0].health: invalid health check rise 0: must be 1..100"},
        BadServiceState{"/services/0/health/retries", 3,
                        "state: services[0].health.retries: unknown field"},
        BadServiceState{"/services/1/health/path", "/x",
                        "state: services[1].health: health check path applies to http checks "
                        "only (type is tcp)"},
        BadServiceState{"/services/0/backends", kRemove,
                        "state: services[0].backends: missing (expected an array)"},
        BadServiceState{"/services/0/backends/0/container", "db",
                        "state: services[0].backends[0].container: container \"db\" is not "
                        "connected to network \"front\""},
        BadServiceState{"/services/0/backends/1/container", "web1",
                        "state: services[0].backends[1].container: container \"web1\" is a "
                        "backend twice"},
        BadServiceState{"/services/0/backends/0/id", 0,
                        "state: services[0].backends[0].id: 0 is outside 1..65535"},
        BadServiceState{"/services/0/backends/0/id", 65536,
                        "state: services[0].backends[0].id: 65536 is outside 1..65535"},
        BadServiceState{"/services/1/backends/0/id", 2,
                        "state: services[1].backends[0].id: duplicate backend ID 2 (also in "
                        "service \"api\")"},
        BadServiceState{"/services/0/backends/0/weight", 65536,
                        "state: services[0].backends[0].weight: 65536 is outside 0..65535"},
        BadServiceState{"/services/0/backends/0/weight", -1,
                        "state: services[0].backends[0].weight: expected a non-negative integer"},
        BadServiceState{"/services/0/backends/0/flows", 3,
                        "state: services[0].backends[0].flows: unknown field"},
        BadServiceState{"/services/1/backends/1",
                        {{"container", "db"}, {"id", 9}, {"weight", 1}},
                        "state: services[1].backends[1].container: container \"db\" is a backend "
                        "twice"},
        BadServiceState{"/services/0/index", 0, "state: services[0].index: 0 is outside 1..1023"},
        BadServiceState{"/services/0/index", 1024,
                        "state: services[0].index: 1024 is outside 1..1023"},
        BadServiceState{"/services/1/index", 1, "state: services[1].index: duplicate index 1"}));

TEST_F(ServiceStateJsonTest, RejectsCrossReferences) {
  nlohmann::json json = to_json(state);
  nlohmann::json copy = json;
  copy["services"][1]["id"] = copy["services"][0]["id"];
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: services[1].id: duplicate ID " + copy["services"][0]["id"].get<std::string>());

  copy = json;
  copy["services"][1]["network_id"] = copy["networks"][0]["id"];  // host
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: services[1].network_id: the builtin network \"host\" has no services");

  // A third service on front with api's VIP.
  copy = json;
  nlohmann::json third = copy["services"][0];
  third["id"] = std::string(64, 'e');
  third["name"] = "third";
  third["index"] = 3;
  third["published"] = nlohmann::json::array();
  third["backends"] = nlohmann::json::array();
  copy["services"].push_back(third);
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: services[2].vip: 10.1.0.4 is also the VIP of service \"api\"");

  // An endpoint on a VIP is caught whichever way round it was written.
  copy = json;
  copy["endpoints"][0]["ip"] = "10.1.0.4";
  copy["endpoints"][0]["mac"] = "02:42:0a:01:00:04";
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: services[0].vip: 10.1.0.4 is also the address of container \"web1\"");

  // Too many backends for the table.
  copy = json;
  connect(state, attach("back", "db2"), ids);
  copy["endpoints"] = to_json(state)["endpoints"];
  copy["services"][1]["backends"].push_back({{"container", "db2"}, {"id", 7}, {"weight", 1}});
  copy["services"][1]["backends"].push_back({{"container", "web9"}, {"id", 8}, {"weight", 1}});
  EXPECT_EQ(error_of([&] { state_from_json(copy); }),
            "state: services[1].backends: 3 backends exceed the limit of 2 for a table of 251 "
            "slots");
}

TEST_F(ServiceStateJsonTest, ValidateStateChecksInMemoryStatesToo) {
  EXPECT_NO_THROW(validate_state(state));
  State broken = state;
  broken.services[0].ports.push_back({kTcp, 0});
  EXPECT_EQ(error_of([&] { validate_state(broken); }),
            "state: services[0].ports[2]: 0 is out of range (1-65535)");
  broken = state;
  broken.services[0].health.timeout_ms = 5000;
  EXPECT_EQ(error_of([&] { validate_state(broken); }),
            "state: services[0].health: invalid health check timeout_ms 5000: must not exceed "
            "interval_ms 1000 (probes would overlap)");
}

// --------------------------------------------------------------- config

const char* kServiceConfig = R"({
  "networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
  "containers": [{"name": "a", "netns": "a", "networks": ["n"]},
                 {"name": "b", "netns": "b", "networks": ["n"]}],
  "services": [
    {"name": "api", "network": "n", "vip": "10.0.0.2", "ports": ["80/tcp"],
     "publish": ["8080:80"], "affinity": "client-ip", "table_size": 1021,
     "health": {"type": "http", "path": "/h"},
     "backends": ["a", {"container": "b", "weight": 2}]},
    {"name": "dyn", "network": "n", "ports": ["53/udp"], "publish": ["53/udp"]},
    {"name": "late", "network": "n", "vip": "10.0.0.5", "ports": ["1"]}
  ]
})";

TEST(ServiceConfigTest, ParsesServices) {
  Config config = parse_config(nlohmann::json::parse(kServiceConfig));
  ASSERT_EQ(config.services.size(), 3u);
  const ConfigService& api = config.services[0];
  EXPECT_EQ(api.service.name, "api");
  EXPECT_EQ(api.service.vip, "10.0.0.2");
  EXPECT_EQ(api.service.table_size, 1021u);
  EXPECT_EQ(api.service.health->path, "/h");
  EXPECT_EQ(api.backends, (std::vector<ConfigBackend>{{"a", std::nullopt}, {"b", int64_t{2}}}));
  EXPECT_TRUE(config.services[1].backends.empty());
}

struct BadServiceConfig {
  const char* json;
  const char* message;
};

void PrintTo(const BadServiceConfig& bad, std::ostream* out) { *out << bad.json; }

class ServiceConfigRejectsTest : public ::testing::TestWithParam<BadServiceConfig> {};

TEST_P(ServiceConfigRejectsTest, NamesThePath) {
  EXPECT_EQ(error_of([] { parse_config(nlohmann::json::parse(GetParam().json)); }),
            GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ServiceConfigRejectsTest,
    ::testing::Values(
        BadServiceConfig{R"({"services": {}})", "config: services: expected an array"},
        BadServiceConfig{R"({"services": [{"name": "a", "network": "n"}]})",
                         "config: services[0].ports: missing (expected an array of strings)"},
        BadServiceConfig{R"({"services": [{"name": "a", "ports": []}]})",
                         "config: services[0].network: missing (expected a string)"},
        BadServiceConfig{R"({"services": [{"name": "a", "network": "n", "ports": [80]}]})",
                         "config: services[0].ports[0]: expected a string"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "replicas": 2}]})",
            "config: services[0].replicas: unknown field"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "table_size": "big"}]})",
            "config: services[0].table_size: expected a non-negative integer"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "health": {"rise": 1.5}}]})",
            "config: services[0].health.rise: expected an integer"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": "x"}]})",
            "config: services[0].backends: expected an array"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": [5]}]})",
            "config: services[0].backends[0]: expected a container name or an object, got a "
            "number"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": [{"weight": 1}]}]})",
            "config: services[0].backends[0].container: missing (expected a string)"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": [{"container": "c", "weight": -1}]}]})",
            "config: services[0].backends[0].weight: expected a non-negative integer"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": [{"container": "c", "drain": true}]}]})",
            "config: services[0].backends[0].drain: unknown field"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": [], "backends": ["c", {"container": "c"}]}]})",
            "config: services[0].backends[1]: container \"c\" is listed twice"},
        BadServiceConfig{
            R"({"services": [{"name": "a", "network": "n", "ports": []}, {"name": "a", "network": "m", "ports": []}]})",
            "config: services[1].name: service \"a\" is defined twice"}));

class ServiceConfigApplyTest : public ::testing::Test {
 protected:
  void apply(const std::string& json) {
    apply_config(state, parse_config(nlohmann::json::parse(json)), {}, ports, ids, kNow);
  }
  void expect_apply_fails(const std::string& json, const std::string& message) {
    Config config = parse_config(nlohmann::json::parse(json));
    expect_error_and_unchanged(
        state, [&](State& s) { apply_config(s, config, {}, ports, ids, kNow); }, message);
  }
  Ipv4 ip_of(const std::string& container) {
    return state.endpoint(state.get_network("n").id, container)->ip;
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment ports;
};

TEST_F(ServiceConfigApplyTest, CreatesServicesWithBackendsAfterContainers) {
  ports.ephemeral_low = 45000;
  apply(kServiceConfig);
  // Static VIPs of the config are kept free for their services.
  EXPECT_EQ(ip_of("a"), ip("10.0.0.3"));
  EXPECT_EQ(ip_of("b"), ip("10.0.0.4"));
  const Service& api = state.get_service("api");
  EXPECT_EQ(api.vip, ip("10.0.0.2"));
  EXPECT_EQ(api.published, (std::vector<PortBinding>{{kTcp, 80, ip("0.0.0.0"), 8080}}));
  EXPECT_EQ(api.affinity_timeout_s, 10800u);
  EXPECT_EQ(api.table_size, 1021u);
  EXPECT_EQ(api.health.type, HealthCheck::kHttp);
  EXPECT_EQ(api.backends, (std::vector<ServiceBackend>{{"a", 1, 1}, {"b", 2, 2}}));
  EXPECT_EQ(state.get_service("dyn").vip, ip("10.0.0.6")) << "skips the later static VIP .5";
  EXPECT_EQ(state.get_service("dyn").published,
            (std::vector<PortBinding>{{kUdp, 53, ip("0.0.0.0"), 45000}}));
  EXPECT_EQ(state.get_service("late").vip, ip("10.0.0.5"));
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ServiceConfigApplyTest, IsIdempotent) {
  apply(kServiceConfig);
  nlohmann::json once = to_json(state);
  int draws = ids.calls();
  apply(kServiceConfig);
  EXPECT_EQ(to_json(state), once);
  EXPECT_EQ(ids.calls(), draws) << "a second apply created something";
}

TEST_F(ServiceConfigApplyTest, KeepsWhatIsOutsideTheConfigAndOperatorDrains) {
  apply(kServiceConfig);
  connect(state, attach("n", "c"), ids);
  add_backend(state, "api", "c");
  drain_backend(state, "api", "b");
  apply(kServiceConfig);
  const Service& api = state.get_service("api");
  ASSERT_EQ(api.backends.size(), 3u) << "c stays";
  EXPECT_EQ(api.backends[1].weight, 0u) << "a drain survives a restart";
  // Backends added to the config later are added.
  remove_backend(state, "api", "a");
  apply(kServiceConfig);
  EXPECT_EQ(state.get_service("api").backends.back(), (ServiceBackend{"a", 1, 1}));
}

TEST_F(ServiceConfigApplyTest, AddsMissingPublishedPorts) {
  apply(R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
            "services": [{"name": "api", "network": "n", "ports": ["80"]}]})");
  EXPECT_TRUE(state.get_service("api").published.empty());
  apply(
      R"({"services": [{"name": "api", "network": "n", "ports": ["80"], "publish": ["8080:80"]}]})");
  EXPECT_EQ(state.get_service("api").published.size(), 1u);
}

TEST_F(ServiceConfigApplyTest, ExistingServiceMustMatchExplicitSettings) {
  apply(kServiceConfig);
  auto service = [](const std::string& fields) {
    return fmt::format(R"({{"services": [{{"name": "api", "network": "n", {}}}]}})", fields);
  };
  expect_apply_fails(service(R"("ports": ["80/tcp"], "vip": "10.0.0.9")"),
                     "config: services[0] (api): service api already exists with vip 10.0.0.2, "
                     "not 10.0.0.9");
  expect_apply_fails(service(R"("ports": ["80/tcp", "443"])"),
                     "config: services[0] (api): service api already exists with ports 80/tcp, "
                     "not 80/tcp, 443/tcp");
  expect_apply_fails(service(R"("ports": ["80"], "affinity": "none")"),
                     "config: services[0] (api): service api already exists with affinity "
                     "client-ip:10800, not none");
  expect_apply_fails(service(R"("ports": ["80"], "table_size": 16381)"),
                     "config: services[0] (api): service api already exists with table size "
                     "1021, not 16381");
  expect_apply_fails(
      service(R"("ports": ["80"], "health": {})"),
      "config: services[0] (api): service api already exists with health check "
      R"({"expect":200,"fall":3,"interval_ms":2000,"path":"/h","rise":2,"timeout_ms":1000,"type":"http"}, )"
      R"(not {"fall":3,"interval_ms":2000,"rise":2,"timeout_ms":1000,"type":"tcp"})");
  expect_apply_fails(
      R"({"networks": [{"name": "m", "subnet": "10.9.0.0/24"}],
          "services": [{"name": "api", "network": "m", "ports": ["80"]}]})",
      "config: services[0] (api): service api already exists with network n, not m");
  expect_apply_fails(service(R"("ports": ["80"], "backends": [{"container": "b", "weight": 3}])"),
                     "config: services[0].backends[0] (b in api): backend b of service api "
                     "already has weight 2, not 3");
  // Settings the config leaves out are not compared.
  EXPECT_NO_THROW(apply(service(R"("ports": ["80"], "backends": ["b"])")));
}

TEST_F(ServiceConfigApplyTest, ErrorsNameTheEntryAndNothingIsApplied) {
  expect_apply_fails(
      R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
          "containers": [{"name": "a", "netns": "a", "networks": ["n"]}],
          "services": [{"name": "api", "network": "n", "ports": ["80"], "backends": ["a", "ghost"]}]})",
      "config: services[0].backends[1] (ghost in api): No such container: ghost");
  EXPECT_EQ(state.network_by_name("n"), nullptr);
  expect_apply_fails(R"({"services": [{"name": "api", "network": "missing", "ports": ["80"]}]})",
                     "config: services[0] (api): network missing not found");
  expect_apply_fails(
      R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
          "services": [{"name": "api", "network": "n", "ports": ["80"], "table_size": 100}]})",
      "config: services[0] (api): invalid table size 100: must be a prime between 251 and 131071");
  expect_apply_fails(
      R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
          "containers": [{"name": "a", "netns": "a", "networks": ["n"]}],
          "services": [{"name": "api", "network": "n", "ports": ["80"], "backends": [{"container": "a", "weight": 0}]}]})",
      "config: services[0].backends[0] (a in api): invalid weight 0: must be 1..65535 (drain a "
      "backend to stop sending it new flows)");
}

}  // namespace
}  // namespace bpfnet::core
