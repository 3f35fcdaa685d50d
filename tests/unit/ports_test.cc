// Published ports: the -p grammar, host port allocation, port rm, the state
// file, the config file and the port.ls JSON.
#include "core/ports.h"

#include <gtest/gtest.h>

#include <tuple>

#include "core/config.h"
#include "core/engine.h"
#include "core/inspect.h"
#include "core/portmap.h"
#include "test_support.h"

namespace bpfnet::core {

// Found by argument-dependent lookup, so gtest prints values readably.
void PrintTo(const PortRequest& r, std::ostream* out) {
  *out << to_string(r.proto) << " " << r.container_port << " "
       << (r.host_ip ? r.host_ip->to_string() : "-") << " " << r.host_port_first << "-"
       << r.host_port_last;
}

void PrintTo(const PortBinding& b, std::ostream* out) { *out << to_string(b); }

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
constexpr Proto kSctp = Proto::kSctp;

PortBinding binding(Proto proto, uint16_t container_port, std::string_view host_ip,
                    uint16_t host_port) {
  return PortBinding{proto, container_port, ip(host_ip), host_port};
}

PortRequest request(Proto proto, uint16_t container_port, std::optional<std::string> host_ip,
                    uint16_t first, uint16_t last) {
  PortRequest result;
  result.proto = proto;
  result.container_port = container_port;
  if (host_ip) result.host_ip = ip(*host_ip);
  result.host_port_first = first;
  result.host_port_last = last;
  return result;
}

// ---------------------------------------------------------------- grammar

TEST(ProtoTest, NamesAndNumbers) {
  for (Proto proto : {kTcp, kUdp, kSctp}) EXPECT_EQ(parse_proto(to_string(proto)), proto);
  EXPECT_EQ(to_string(kTcp), "tcp");
  EXPECT_EQ(to_string(kUdp), "udp");
  EXPECT_EQ(to_string(kSctp), "sctp");
  EXPECT_EQ(ip_protocol_number(kTcp), 6);
  EXPECT_EQ(ip_protocol_number(kUdp), 17);
  EXPECT_EQ(ip_protocol_number(kSctp), 132);
  // The state file spells protocols exactly; only the -p parser lowercases.
  EXPECT_EQ(error_of([] { parse_proto("TCP"); }), "Invalid proto: TCP");
  EXPECT_EQ(error_of([] { parse_proto("icmp"); }), "Invalid proto: icmp");
  EXPECT_EQ(error_of([] { parse_proto(""); }), "Invalid proto: <empty>");
}

TEST(PortBindingTest, ComparesFieldByFieldAndPrintsLikeDockerPs) {
  EXPECT_EQ(binding(kTcp, 80, "0.0.0.0", 8080), binding(kTcp, 80, "0.0.0.0", 8080));
  EXPECT_NE(binding(kTcp, 80, "0.0.0.0", 8080), binding(kTcp, 80, "127.0.0.1", 8080));
  EXPECT_LT(binding(kTcp, 443, "0.0.0.0", 1), binding(kUdp, 53, "0.0.0.0", 1));
  EXPECT_LT(binding(kTcp, 80, "0.0.0.0", 9000), binding(kTcp, 81, "0.0.0.0", 8000));
  EXPECT_LT(binding(kTcp, 80, "0.0.0.0", 9000), binding(kTcp, 80, "10.0.0.1", 8000));
  EXPECT_EQ(to_string(binding(kUdp, 53, "127.0.0.1", 5353)), "127.0.0.1:5353->53/udp");
}

struct GoodSpec {
  const char* spec;
  std::vector<PortRequest> requests;
};

void PrintTo(const GoodSpec& good, std::ostream* out) { *out << good.spec; }

class ParsePortSpecTest : public ::testing::TestWithParam<GoodSpec> {};

TEST_P(ParsePortSpecTest, Parses) {
  EXPECT_EQ(parse_port_spec(GetParam().spec), GetParam().requests);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ParsePortSpecTest,
    ::testing::Values(
        GoodSpec{"80", {request(kTcp, 80, {}, 0, 0)}},
        GoodSpec{"8080:80", {request(kTcp, 80, {}, 8080, 8080)}},
        GoodSpec{"0:80", {request(kTcp, 80, {}, 0, 0)}},
        GoodSpec{"127.0.0.1:8080:80/udp", {request(kUdp, 80, "127.0.0.1", 8080, 8080)}},
        GoodSpec{"127.0.0.1::80", {request(kTcp, 80, "127.0.0.1", 0, 0)}},
        GoodSpec{"0.0.0.0:0:80", {request(kTcp, 80, "0.0.0.0", 0, 0)}},
        GoodSpec{"9/sctp", {request(kSctp, 9, {}, 0, 0)}},
        GoodSpec{"53/UDP", {request(kUdp, 53, {}, 0, 0)}},
        GoodSpec{"65535:65535", {request(kTcp, 65535, {}, 65535, 65535)}},
        GoodSpec{"08080:080", {request(kTcp, 80, {}, 8080, 8080)}},
        GoodSpec{"8000-8010:80", {request(kTcp, 80, {}, 8000, 8010)}},
        GoodSpec{"8000-8000:80", {request(kTcp, 80, {}, 8000, 8000)}},
        GoodSpec{"8000-8002:80-82/udp",
                 {request(kUdp, 80, {}, 8000, 8000), request(kUdp, 81, {}, 8001, 8001),
                  request(kUdp, 82, {}, 8002, 8002)}},
        GoodSpec{"80-82",
                 {request(kTcp, 80, {}, 0, 0), request(kTcp, 81, {}, 0, 0),
                  request(kTcp, 82, {}, 0, 0)}},
        GoodSpec{"0:80-81", {request(kTcp, 80, {}, 0, 0), request(kTcp, 81, {}, 0, 0)}},
        GoodSpec{"10.0.0.1::80-81",
                 {request(kTcp, 80, "10.0.0.1", 0, 0), request(kTcp, 81, "10.0.0.1", 0, 0)}}));

struct BadSpec {
  const char* spec;
  const char* message;
};

void PrintTo(const BadSpec& bad, std::ostream* out) { *out << bad.spec; }

class ParsePortSpecRejectsTest : public ::testing::TestWithParam<BadSpec> {};

TEST_P(ParsePortSpecRejectsTest, NamesTheBadPart) {
  EXPECT_EQ(error_of([] { parse_port_spec(GetParam().spec); }), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Grammar, ParsePortSpecRejectsTest,
    ::testing::Values(
        BadSpec{"", "No port specified: <empty>"}, BadSpec{"80:", "No port specified: 80:<empty>"},
        BadSpec{"1.2.3.4:80:/udp", "No port specified: 1.2.3.4:80:/udp<empty>"},
        BadSpec{":80",
                "Invalid hostPort: <empty> in :80 (leave out the colon for an ephemeral host "
                "port)"},
        BadSpec{"70000:80", "Invalid hostPort: 70000"},
        BadSpec{"8000-7999:80", "Invalid hostPort: 8000-7999"},
        BadSpec{"0-10:80", "Invalid hostPort: 0-10"},
        BadSpec{"8000-:80", "Invalid hostPort: 8000-"},
        BadSpec{"1.2.3.4:80", "Invalid hostPort: 1.2.3.4"},
        BadSpec{"http:80", "Invalid hostPort: http"}, BadSpec{"80/icmp", "Invalid proto: icmp"},
        BadSpec{"80/ICMP", "Invalid proto: icmp"}, BadSpec{"80/", "Invalid proto: <empty>"},
        BadSpec{"abc", "Invalid containerPort: abc"}, BadSpec{"0", "Invalid containerPort: 0"},
        BadSpec{"8080:0", "Invalid containerPort: 0"}, BadSpec{"0-5", "Invalid containerPort: 0-5"},
        BadSpec{"70000", "Invalid containerPort: 70000"},
        BadSpec{"90-80", "Invalid containerPort: 90-80"},
        BadSpec{"80-", "Invalid containerPort: 80-"}, BadSpec{"-80", "Invalid containerPort: -80"},
        BadSpec{"1-2-3", "Invalid containerPort: 1-2-3"},
        BadSpec{"+80", "Invalid containerPort: +80"},
        BadSpec{"1.2.3:80:80", "Invalid ip address: 1.2.3"},
        BadSpec{"1.2.3.256:80:80", "Invalid ip address: 1.2.3.256"},
        BadSpec{"::80", "Invalid ip address: <empty> in ::80"},
        BadSpec{"[1.2.3.4]:80:80", "Invalid ip address: [1.2.3.4]"},
        BadSpec{"[zz]:80:80", "Invalid ip address: [zz]"},
        BadSpec{"a:b:80:80", "Invalid ip address: a:b"},
        BadSpec{"[::1]:8080:80", "IPv6 host address ::1 is not supported yet: bpfnet is IPv4-only"},
        BadSpec{"[2001:db8::5]::80",
                "IPv6 host address 2001:db8::5 is not supported yet: bpfnet is IPv4-only"},
        BadSpec{"::1:8080:80", "IPv6 host address ::1 is not supported yet: bpfnet is IPv4-only"},
        BadSpec{"8000-8005:80-90",
                "Invalid ranges specified for container and host Ports: 80-90 and 8000-8005"},
        BadSpec{"8080:80-81",
                "Invalid ranges specified for container and host Ports: 80-81 and 8080"}));

TEST(ParsePortSelectorTest, ParsesTheRmForm) {
  EXPECT_EQ(parse_port_selector("8080"), (PortSelector{kTcp, 8080, std::nullopt}));
  EXPECT_EQ(parse_port_selector("5353/udp"), (PortSelector{kUdp, 5353, std::nullopt}));
  EXPECT_EQ(parse_port_selector("127.0.0.1:9/SCTP"), (PortSelector{kSctp, 9, ip("127.0.0.1")}));
  EXPECT_EQ(to_string(parse_port_selector("8080")), "8080/tcp");
  EXPECT_EQ(to_string(parse_port_selector("127.0.0.1:53/udp")), "127.0.0.1:53/udp");

  PortSelector any_ip{kTcp, 8080, std::nullopt};
  EXPECT_TRUE(any_ip.matches(binding(kTcp, 80, "10.0.0.1", 8080)));
  EXPECT_FALSE(any_ip.matches(binding(kUdp, 80, "10.0.0.1", 8080)));
  EXPECT_FALSE(any_ip.matches(binding(kTcp, 8080, "10.0.0.1", 80)));
  PortSelector one_ip{kTcp, 8080, ip("10.0.0.1")};
  EXPECT_TRUE(one_ip.matches(binding(kTcp, 80, "10.0.0.1", 8080)));
  EXPECT_FALSE(one_ip.matches(binding(kTcp, 80, "0.0.0.0", 8080)));
}

TEST(ParsePortSelectorTest, RejectsWithTheBadPart) {
  EXPECT_EQ(error_of([] { parse_port_selector(""); }), "No port specified: <empty>");
  EXPECT_EQ(error_of([] { parse_port_selector("0"); }), "Invalid hostPort: 0");
  EXPECT_EQ(error_of([] { parse_port_selector("70000"); }), "Invalid hostPort: 70000");
  EXPECT_EQ(error_of([] { parse_port_selector("8000-8010"); }), "Invalid hostPort: 8000-8010");
  EXPECT_EQ(error_of([] { parse_port_selector("web"); }), "Invalid hostPort: web");
  EXPECT_EQ(error_of([] { parse_port_selector("8080/icmp"); }), "Invalid proto: icmp");
  EXPECT_EQ(error_of([] { parse_port_selector("1.2.3:8080"); }), "Invalid ip address: 1.2.3");
  EXPECT_EQ(error_of([] { parse_port_selector(":8080"); }), "Invalid ip address: <empty> in :8080");
  EXPECT_EQ(error_of([] { parse_port_selector("[::1]:8080"); }),
            "IPv6 host address ::1 is not supported yet: bpfnet is IPv4-only");
}

// ------------------------------------------------------------ allocation

// Networks: front (10.1.0.0/24), back (internal), local (host_binding_ipv4
// 127.0.0.1). Containers: web on front and back, db on front, lo on local.
class PortsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    create_network(state, bridge("front", "10.1.0.0/24"), {}, ids, kNow);
    NetworkCreate back = bridge("back", "10.2.0.0/24");
    back.internal = true;
    create_network(state, back, {}, ids, kNow);
    NetworkCreate local = bridge("local", "10.3.0.0/24");
    local.options = {{std::string(kOptHostBindingIpv4), "127.0.0.1"}};
    create_network(state, local, {}, ids, kNow);
    connect(state, attach("front", "web"), ids);
    connect(state, attach("back", "web"), ids);
    connect(state, attach("front", "db"), ids);
    connect(state, attach("local", "lo"), ids);
    env.ephemeral_low = 40000;
    env.ephemeral_high = 40009;
  }

  std::vector<PortBinding> add(const std::string& container, std::vector<std::string> specs,
                               std::optional<std::string> network = std::nullopt) {
    return add_ports(state, container, specs, network, env);
  }
  void expect_add_fails(const std::string& container, std::vector<std::string> specs,
                        const std::string& message,
                        std::optional<std::string> network = std::nullopt) {
    expect_error_and_unchanged(
        state, [&](State& s) { add_ports(s, container, specs, network, env); }, message);
  }
  const Endpoint& endpoint(const std::string& network, const std::string& container) {
    const Endpoint* found = state.endpoint(state.get_network(network).id, container);
    EXPECT_NE(found, nullptr) << container << " on " << network;
    return *found;
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment env;
};

TEST_F(PortsTest, PublishesOnTheFirstNetwork) {
  EXPECT_EQ(add("web", {"8080:80"}), std::vector{binding(kTcp, 80, "0.0.0.0", 8080)});
  EXPECT_EQ(endpoint("front", "web").ports, std::vector{binding(kTcp, 80, "0.0.0.0", 8080)});
  EXPECT_TRUE(endpoint("back", "web").ports.empty());
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(PortsTest, DefaultEnvironmentIsTheKernelDefault) {
  PortEnvironment defaults;
  EXPECT_EQ(defaults.ephemeral_low, 32768);
  EXPECT_EQ(defaults.ephemeral_high, 60999);
  EXPECT_EQ(add_ports(state, "db", {"80"}, std::nullopt, defaults),
            std::vector{binding(kTcp, 80, "0.0.0.0", 32768)});
}

TEST_F(PortsTest, NetworkArgumentAndHostBindingIpv4) {
  // lo's network binds 127.0.0.1 unless the spec names an address.
  EXPECT_EQ(add("lo", {"8080:80"}), std::vector{binding(kTcp, 80, "127.0.0.1", 8080)});
  EXPECT_EQ(add("lo", {"0.0.0.0:9090:90"}), std::vector{binding(kTcp, 90, "0.0.0.0", 9090)});
  connect(state, attach("local", "web"), ids);
  EXPECT_EQ(add("web", {"8081:81"}, "local"), std::vector{binding(kTcp, 81, "127.0.0.1", 8081)});
  EXPECT_EQ(endpoint("local", "web").ports, std::vector{binding(kTcp, 81, "127.0.0.1", 8081)});
  EXPECT_TRUE(endpoint("front", "web").ports.empty());
  // By network ID prefix and by container ID too.
  const Endpoint& db = endpoint("front", "db");
  std::string front_id = state.get_network("front").id;
  EXPECT_EQ(add(db.container_id, {"7070:70"}, front_id.substr(0, 12)),
            std::vector{binding(kTcp, 70, "0.0.0.0", 7070)});
  EXPECT_EQ(endpoint("front", "db").ports.size(), 1u);
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(PortsTest, RefusesUnknownContainersNetworksAndInternalNetworks) {
  expect_add_fails("ghost", {"80"}, "No such container: ghost");
  expect_add_fails("web", {"80"}, "network nowhere not found", "nowhere");
  expect_add_fails("db", {"80"}, "container db is not connected to network back", "back");
  expect_add_fails("web", {"80"}, "cannot publish ports of container web: network back is internal",
                   "back");
  expect_add_fails("web", {}, "no port specified: give at least one port spec");
  expect_add_fails("web", {"8080:80", "80/icmp"}, "Invalid proto: icmp");
}

TEST_F(PortsTest, WildcardConflictsWithEveryAddressAndBack) {
  add("web", {"8080:80", "10.0.0.5:9090:90"});
  expect_add_fails("db", {"127.0.0.1:8080:80"},
                   "Bind for 127.0.0.1:8080 failed: port is already allocated");
  expect_add_fails("db", {"8080:80"}, "Bind for 0.0.0.0:8080 failed: port is already allocated");
  expect_add_fails("db", {"9090:80"}, "Bind for 0.0.0.0:9090 failed: port is already allocated");
  expect_add_fails("db", {"10.0.0.5:9090:80"},
                   "Bind for 10.0.0.5:9090 failed: port is already allocated");
  // Another specific address is free, and so is every other protocol.
  EXPECT_EQ(add("db", {"10.0.0.6:9090:90"}), std::vector{binding(kTcp, 90, "10.0.0.6", 9090)});
  EXPECT_EQ(add("db", {"8080:80/udp"}), std::vector{binding(kUdp, 80, "0.0.0.0", 8080)});
  expect_add_fails("web", {"8080:81/udp"},
                   "Bind for 0.0.0.0:8080 failed: port is already allocated");
  // The host_binding_ipv4 default conflicts like an explicit address.
  add("lo", {"7000:70"});
  expect_add_fails("db", {"7000:70"}, "Bind for 0.0.0.0:7000 failed: port is already allocated");
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(PortsTest, SameContainerPortOnSeveralHostPorts) {
  EXPECT_EQ(add("web", {"8080:80", "8081:80"}),
            (std::vector{binding(kTcp, 80, "0.0.0.0", 8080), binding(kTcp, 80, "0.0.0.0", 8081)}));
  // Republishing an existing binding is a conflict with itself.
  expect_add_fails("web", {"8080:80"}, "Bind for 0.0.0.0:8080 failed: port is already allocated");
}

TEST_F(PortsTest, SpecsOfOneCallAreAllOrNothing) {
  add("db", {"9090:90"});
  expect_add_fails("web", {"8080:80", "9090:90"},
                   "Bind for 0.0.0.0:9090 failed: port is already allocated");
  expect_add_fails("web", {"8080:80", "70000:80"}, "Invalid hostPort: 70000");
  // A list that conflicts with itself.
  expect_add_fails("web", {"8080:80", "8080:81"},
                   "Bind for 0.0.0.0:8080 failed: port is already allocated");
  expect_add_fails("web", {"8080:80", "127.0.0.1:8080:80"},
                   "Bind for 127.0.0.1:8080 failed: port is already allocated");
  EXPECT_TRUE(endpoint("front", "web").ports.empty());
}

TEST_F(PortsTest, HostListenerRefusesTheBind) {
  std::vector<std::tuple<Proto, Ipv4, uint16_t>> asked;
  env.host_listening = [&](Proto proto, Ipv4 host_ip, uint16_t port) {
    asked.emplace_back(proto, host_ip, port);
    return proto == kTcp && port == 8080;
  };
  expect_add_fails("web", {"8080:80"},
                   "failed to bind host port 0.0.0.0:8080/tcp: address already in use");
  expect_add_fails("lo", {"8080:80"},
                   "failed to bind host port 127.0.0.1:8080/tcp: address already in use");
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[1], std::make_tuple(kTcp, ip("127.0.0.1"), uint16_t{8080}));
  EXPECT_EQ(add("web", {"8080:80/udp"}), std::vector{binding(kUdp, 80, "0.0.0.0", 8080)});
}

TEST_F(PortsTest, EphemeralTakesTheLowestFreePort) {
  env.reserved = {40000};
  env.host_listening = [](Proto proto, Ipv4, uint16_t port) {
    return proto == kTcp && port == 40001;
  };
  add("db", {"40002:22"});
  EXPECT_EQ(add("web", {"80"}), std::vector{binding(kTcp, 80, "0.0.0.0", 40003)});
  EXPECT_EQ(
      add("web", {"0:81", "10.0.0.1::82"}),
      (std::vector{binding(kTcp, 81, "0.0.0.0", 40004), binding(kTcp, 82, "10.0.0.1", 40005)}));
  // udp: 40000 is reserved, but nothing listens on udp 40001.
  EXPECT_EQ(add("web", {"53/udp"}), std::vector{binding(kUdp, 53, "0.0.0.0", 40001)});
  // A container range gets one ephemeral port each.
  EXPECT_EQ(add("db", {"90-91"}), (std::vector{binding(kTcp, 90, "0.0.0.0", 40006),
                                               binding(kTcp, 91, "0.0.0.0", 40007)}));
  // An explicit host port may use a reserved one, as in Docker.
  EXPECT_EQ(add("db", {"40000:23"}), std::vector{binding(kTcp, 23, "0.0.0.0", 40000)});
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(PortsTest, EphemeralRangeExhausted) {
  env.ephemeral_low = env.ephemeral_high = 40000;
  add("db", {"80"});
  expect_add_fails("web", {"80"},
                   "Bind for 0.0.0.0/tcp failed: all ports of the ephemeral range 40000-40000 "
                   "are allocated, reserved or in use");
  // The range only matters when a port has to be picked from it.
  env.ephemeral_low = 0;
  expect_add_fails("web", {"81"}, "invalid ephemeral port range 0-40000 (ip_local_port_range)");
  EXPECT_EQ(add("web", {"8080:80"}).size(), 1u);
  env.ephemeral_low = 50000;
  expect_add_fails("web", {"81"}, "invalid ephemeral port range 50000-40000 (ip_local_port_range)");
}

TEST_F(PortsTest, EphemeralRangeUpTo65535) {
  env.ephemeral_low = 65534;
  env.ephemeral_high = 65535;
  EXPECT_EQ(add("web", {"80-81"}), (std::vector{binding(kTcp, 80, "0.0.0.0", 65534),
                                                binding(kTcp, 81, "0.0.0.0", 65535)}));
  expect_add_fails("web", {"82"},
                   "Bind for 0.0.0.0/tcp failed: all ports of the ephemeral range 65534-65535 "
                   "are allocated, reserved or in use");
}

TEST_F(PortsTest, RangePickTakesTheLowestFreePortOfTheRange) {
  add("db", {"8000:80"});
  env.reserved = {8001};
  EXPECT_EQ(add("web", {"8000-8003:80"}), std::vector{binding(kTcp, 80, "0.0.0.0", 8002)});
  env.host_listening = [](Proto, Ipv4, uint16_t port) { return port == 8003; };
  expect_add_fails("web", {"8000-8003:81"},
                   "Bind for 0.0.0.0:8000-8003/tcp failed: all ports of the range are allocated, "
                   "reserved or in use");
  EXPECT_EQ(add("web", {"127.0.0.1:8000-8003:81/udp"}),
            std::vector{binding(kUdp, 81, "127.0.0.1", 8000)});
}

TEST_F(PortsTest, RangesArePairedOneToOne) {
  EXPECT_EQ(add("web", {"9000-9002:90-92"}),
            (std::vector{binding(kTcp, 90, "0.0.0.0", 9000), binding(kTcp, 91, "0.0.0.0", 9001),
                         binding(kTcp, 92, "0.0.0.0", 9002)}));
  // A paired range is all or nothing too.
  expect_add_fails("db", {"8999-9000:89-90"},
                   "Bind for 0.0.0.0:9000 failed: port is already allocated");
}

TEST_F(PortsTest, ExplicitPortsAreTakenBeforeDynamicOnes) {
  // The range spec comes first but must not take 8000, which the second names.
  EXPECT_EQ(add("web", {"8000-8001:80", "8000:81"}),
            (std::vector{binding(kTcp, 80, "0.0.0.0", 8001), binding(kTcp, 81, "0.0.0.0", 8000)}));
  env.ephemeral_low = 8002;
  EXPECT_EQ(add("db", {"90", "8002:91"}),
            (std::vector{binding(kTcp, 90, "0.0.0.0", 8003), binding(kTcp, 91, "0.0.0.0", 8002)}));
}

TEST_F(PortsTest, AtMostAsManyBindingsAsThePortmapHolds) {
  EXPECT_EQ(add("web", {"1-65535:1-65535"}).size(), 65535u);
  EXPECT_EQ(add("db", {"1:1/udp"}).size(), 1u);  // 65536 = BPFNET_MAX_PORTMAPS
  expect_add_fails("db", {"2:2/udp"},
                   "cannot publish 1 more ports: bpfnet supports at most 65536 published ports "
                   "(65536 in use)");
  EXPECT_NO_THROW(validate_state(state));
  Endpoint* db = &state.endpoints[2];
  ASSERT_EQ(db->container, "db");
  db->ports.push_back(binding(kUdp, 2, "0.0.0.0", 2));
  EXPECT_EQ(error_of([&] { validate_state(state); }),
            "state: endpoints: 65537 published ports exceed the limit of 65536");
}

TEST_F(PortsTest, EndpointPortsStaySorted) {
  add("web", {"9090:90/udp", "8080:80", "7070:80", "127.0.0.1:6060:60"});
  std::vector<PortBinding> ports = endpoint("front", "web").ports;
  EXPECT_TRUE(std::is_sorted(ports.begin(), ports.end()));
  EXPECT_EQ(ports,
            (std::vector{binding(kTcp, 60, "127.0.0.1", 6060), binding(kTcp, 80, "0.0.0.0", 7070),
                         binding(kTcp, 80, "0.0.0.0", 8080), binding(kUdp, 90, "0.0.0.0", 9090)}));
}

TEST_F(PortsTest, BindingOwner) {
  add("web", {"8080:80"});
  add("lo", {"8081:80"});
  EXPECT_EQ(binding_owner(state, binding(kTcp, 80, "0.0.0.0", 8080)), &endpoint("front", "web"));
  EXPECT_EQ(binding_owner(state, binding(kTcp, 80, "127.0.0.1", 8081)), &endpoint("local", "lo"));
  EXPECT_EQ(binding_owner(state, binding(kTcp, 81, "0.0.0.0", 8080)), nullptr);
}

TEST_F(PortsTest, RemoveMatchesHostPortProtoAndAddress) {
  add("web", {"10.0.0.1:8080:80", "10.0.0.2:8080:81", "8080:80/udp", "127.0.0.1:9090:90"});
  EXPECT_EQ(remove_ports(state, "web", "8080"), (std::vector{binding(kTcp, 80, "10.0.0.1", 8080),
                                                             binding(kTcp, 81, "10.0.0.2", 8080)}));
  EXPECT_EQ(endpoint("front", "web").ports, (std::vector{binding(kTcp, 90, "127.0.0.1", 9090),
                                                         binding(kUdp, 80, "0.0.0.0", 8080)}));
  expect_error_and_unchanged(
      state, [](State& s) { remove_ports(s, "web", "10.0.0.1:9090"); },
      "no public port '10.0.0.1:9090/tcp' published for web");
  EXPECT_EQ(remove_ports(state, "web", "127.0.0.1:9090"),
            std::vector{binding(kTcp, 90, "127.0.0.1", 9090)});
  EXPECT_EQ(remove_ports(state, endpoint("front", "web").container_id, "8080/udp"),
            std::vector{binding(kUdp, 80, "0.0.0.0", 8080)});
  EXPECT_TRUE(endpoint("front", "web").ports.empty());
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(PortsTest, RemoveLooksAtEveryEndpointOfTheContainer) {
  connect(state, attach("local", "web"), ids);
  add("web", {"8080:80"});
  add("web", {"0.0.0.0:8080:80/udp", "9090:90"}, "local");
  EXPECT_EQ(remove_ports(state, "web", "8080/udp"),
            std::vector{binding(kUdp, 80, "0.0.0.0", 8080)});
  EXPECT_EQ(endpoint("local", "web").ports, std::vector{binding(kTcp, 90, "127.0.0.1", 9090)});
  EXPECT_EQ(endpoint("front", "web").ports, std::vector{binding(kTcp, 80, "0.0.0.0", 8080)});
}

TEST_F(PortsTest, RemoveErrorsLeaveTheStateAlone) {
  add("web", {"8080:80"});
  add("db", {"9090:90"});
  auto expect_rm_fails = [&](const std::string& container, const std::string& spec,
                             const std::string& message) {
    expect_error_and_unchanged(
        state, [&](State& s) { remove_ports(s, container, spec); }, message);
  };
  expect_rm_fails("web", "9090", "no public port '9090/tcp' published for web");
  expect_rm_fails("web", "8080/udp", "no public port '8080/udp' published for web");
  expect_rm_fails("ghost", "8080", "No such container: ghost");
  expect_rm_fails("web", "0", "Invalid hostPort: 0");
  expect_rm_fails("web", "[::1]:8080",
                  "IPv6 host address ::1 is not supported yet: bpfnet is IPv4-only");
}

TEST_F(PortsTest, DisconnectDropsTheEndpointsPorts) {
  add("web", {"8080:80"});
  Endpoint removed = remove_endpoint(state, "front", "web");
  EXPECT_EQ(removed.ports, std::vector{binding(kTcp, 80, "0.0.0.0", 8080)});
  EXPECT_EQ(binding_owner(state, removed.ports[0]), nullptr);
  // The host port is free again.
  EXPECT_EQ(add("db", {"8080:80"}), std::vector{binding(kTcp, 80, "0.0.0.0", 8080)});
  EXPECT_NO_THROW(validate_state(state));
  // web is still connected to back (internal), where it cannot publish.
  expect_add_fails("web", {"80"},
                   "cannot publish ports of container web: network back is internal");
}

// ------------------------------------------------------------------ JSON

TEST_F(PortsTest, BindingJson) {
  add("lo", {"8080:80/udp"});
  const Endpoint& lo = endpoint("local", "lo");
  EXPECT_EQ(binding_json(state, lo, lo.ports[0]), (nlohmann::json{
                                                      {"proto", "udp"},
                                                      {"container_port", 80},
                                                      {"host_ip", "127.0.0.1"},
                                                      {"host_port", 8080},
                                                      {"network", "local"},
                                                      {"container_ip", "10.3.0.2"},
                                                  }));
}

TEST_F(PortsTest, PortsJsonListsContainersWithBindingsByName) {
  add("web", {"9090:90", "8080:80/udp", "8081:80", "127.0.0.1:7070:80"});
  add("db", {"5432:5432"});
  nlohmann::json all = ports_json(state, std::nullopt);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["container"], "db");
  EXPECT_EQ(all[1]["container"], "web");
  EXPECT_EQ(all[0]["bindings"][0]["host_port"], 5432);
  std::vector<std::string> order;
  for (const nlohmann::json& b : all[1]["bindings"]) {
    order.push_back(fmt::format("{}/{} {}:{}", b["container_port"].get<int>(),
                                b["proto"].get<std::string>(), b["host_ip"].get<std::string>(),
                                b["host_port"].get<int>()));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"80/tcp 0.0.0.0:8081", "80/tcp 127.0.0.1:7070",
                                             "80/udp 0.0.0.0:8080", "90/tcp 0.0.0.0:9090"}));
  EXPECT_EQ(ports_json(state, "db"), nlohmann::json::array({all[0]}));
  EXPECT_EQ(ports_json(state, "lo"),
            nlohmann::json::parse(R"([{"container": "lo", "bindings": []}])"));
  EXPECT_EQ(error_of([&] { ports_json(state, "ghost"); }), "No such container: ghost");
  State empty = fresh_state(ids);
  EXPECT_EQ(ports_json(empty, std::nullopt), nlohmann::json::array());
}

// The datapath does not translate SCTP (CRC32c): publishing it is refused,
// with every request of the call, whatever else they ask for.
TEST_F(PortsTest, SctpIsRefused) {
  expect_add_fails("web", {"8080:80", "9/sctp"},
                   "cannot publish 9/sctp: bpfnet does not translate SCTP (its CRC32c checksum "
                   "is not rewritten); publish tcp or udp");
}

// ------------------------------------------------------------ state file

TEST_F(PortsTest, StateJsonRoundTripsPortsAndUplinks) {
  add("web", {"8080:80", "127.0.0.1:5353:53/udp"});
  // A state written before SCTP was refused still loads and round-trips.
  state.endpoints[0].ports.push_back(binding(kSctp, 9, "0.0.0.0", 40000));
  state.uplinks = {"eth0", "wlan0"};
  nlohmann::json json = to_json(state);
  EXPECT_EQ(json["uplinks"], nlohmann::json::array({"eth0", "wlan0"}));
  EXPECT_EQ(
      json["endpoints"][0]["ports"][0],
      nlohmann::json::parse(
          R"({"proto": "tcp", "container_port": 80, "host_ip": "0.0.0.0", "host_port": 8080})"));
  EXPECT_EQ(
      json["endpoints"][0]["ports"][2],
      nlohmann::json::parse(
          R"({"proto": "sctp", "container_port": 9, "host_ip": "0.0.0.0", "host_port": 40000})"));
  EXPECT_FALSE(json["endpoints"][1].contains("ports")) << "empty lists are not written";
  State loaded = state_from_json(nlohmann::json::parse(json.dump(2)));
  EXPECT_EQ(loaded, state);
  EXPECT_EQ(to_json(loaded), json);
}

TEST_F(PortsTest, StateWithoutPortsOrUplinksLoads) {
  nlohmann::json json = to_json(state);
  EXPECT_FALSE(json.contains("uplinks"));
  for (const nlohmann::json& endpoint : json["endpoints"]) EXPECT_FALSE(endpoint.contains("ports"));
  State loaded = state_from_json(json);
  EXPECT_TRUE(loaded.uplinks.empty());
  for (const Endpoint& endpoint : loaded.endpoints) EXPECT_TRUE(endpoint.ports.empty());
  EXPECT_EQ(loaded, state);
  // Explicitly empty lists are read as well.
  json["uplinks"] = nlohmann::json::array();
  json["endpoints"][0]["ports"] = nlohmann::json::array();
  EXPECT_EQ(state_from_json(json), state);
}

struct BadPorts {
  std::string pointer;
  nlohmann::json value;
  std::string message;
};

void PrintTo(const BadPorts& bad, std::ostream* out) {
  *out << bad.pointer << " = " << bad.value.dump();
}

class StatePortsRejectsTest : public PortsTest, public ::testing::WithParamInterface<BadPorts> {};

// endpoints: [0] web@front, [1] web@back (internal), [2] db@front, [3] lo@local.
// web@front holds 0.0.0.0:8080->80/tcp and 127.0.0.1:9090->90/tcp; lo holds
// 127.0.0.1:7070->70/udp.
TEST_P(StatePortsRejectsTest, NamesTheBadField) {
  add("web", {"8080:80", "127.0.0.1:9090:90"});
  add("lo", {"7070:70/udp"});
  state.uplinks = {"eth0"};
  nlohmann::json json = to_json(state);
  ASSERT_NO_THROW(state_from_json(json));
  json[nlohmann::json::json_pointer(GetParam().pointer)] = GetParam().value;
  EXPECT_EQ(error_of([&] { state_from_json(json); }), GetParam().message);
}

nlohmann::json port_json(const char* proto, int container_port, const char* host_ip,
                         int host_port) {
  return {{"proto", proto},
          {"container_port", container_port},
          {"host_ip", host_ip},
          {"host_port", host_port}};
}

INSTANTIATE_TEST_SUITE_P(
    Fields, StatePortsRejectsTest,
    ::testing::Values(
        BadPorts{"/endpoints/0/ports", "8080", "state: endpoints[0].ports: expected an array"},
        BadPorts{"/endpoints/0/ports/0", "8080",
                 "state: endpoints[0].ports[0]: expected an object, got a string"},
        BadPorts{"/endpoints/0/ports/0/proto", "icmp",
                 "state: endpoints[0].ports[0].proto: Invalid proto: icmp"},
        BadPorts{"/endpoints/0/ports/0/proto", "TCP",
                 "state: endpoints[0].ports[0].proto: Invalid proto: TCP"},
        BadPorts{"/endpoints/0/ports/0/container_port", 70000,
                 "state: endpoints[0].ports[0].container_port: 70000 is out of range"},
        BadPorts{"/endpoints/0/ports/0/container_port", 0,
                 "state: endpoints[0].ports[0].container_port: 0 is out of range (1-65535)"},
        BadPorts{"/endpoints/0/ports/0/host_port", 0,
                 "state: endpoints[0].ports[0].host_port: 0 is out of range (1-65535)"},
        BadPorts{"/endpoints/0/ports/0/host_port", "8080",
                 "state: endpoints[0].ports[0].host_port: expected a non-negative integer"},
        BadPorts{"/endpoints/0/ports/0/host_ip", "::1",
                 "state: endpoints[0].ports[0].host_ip: invalid IPv4 address \"::1\""},
        BadPorts{"/endpoints/0/ports/0/colour", "red",
                 "state: endpoints[0].ports[0].colour: unknown field"},
        BadPorts{
            "/endpoints/0/ports/1", port_json("tcp", 80, "0.0.0.0", 8080),
            "state: endpoints[0].ports[1]: the ports of an endpoint must be sorted and unique"},
        BadPorts{
            "/endpoints/0/ports/1", port_json("tcp", 10, "10.0.0.1", 1),
            "state: endpoints[0].ports[1]: the ports of an endpoint must be sorted and unique"},
        BadPorts{"/endpoints/1/ports", nlohmann::json::array({port_json("tcp", 1, "0.0.0.0", 1)}),
                 "state: endpoints[1].ports[0]: network \"back\" is internal and cannot publish "
                 "ports"},
        BadPorts{"/endpoints/2/ports",
                 nlohmann::json::array({port_json("tcp", 1, "127.0.0.1", 8080)}),
                 "state: endpoints[2].ports[0]: 127.0.0.1:8080/tcp conflicts with 0.0.0.0:8080/tcp "
                 "of container \"web\""},
        BadPorts{"/endpoints/2/ports",
                 nlohmann::json::array({port_json("tcp", 1, "0.0.0.0", 9090)}),
                 "state: endpoints[2].ports[0]: 0.0.0.0:9090/tcp conflicts with 127.0.0.1:9090/tcp "
                 "of container \"web\""},
        BadPorts{"/endpoints/3/ports/0", port_json("tcp", 70, "127.0.0.1", 9090),
                 "state: endpoints[3].ports[0]: 127.0.0.1:9090/tcp conflicts with "
                 "127.0.0.1:9090/tcp of container \"web\""},
        BadPorts{"/uplinks", "eth0", "state: uplinks: expected an array"},
        BadPorts{"/uplinks/1", 5, "state: uplinks[1]: expected a string"},
        BadPorts{"/uplinks/1", "eth0", "state: uplinks[1]: duplicate interface name \"eth0\""},
        BadPorts{"/uplinks/0", "eth 0", "state: uplinks[0]: invalid interface name \"eth 0\""},
        BadPorts{"/uplinks/0", "", "state: uplinks[0]: invalid interface name \"\""}));

TEST_F(PortsTest, StateRejectsConflictsAcrossEndpointsAndProtocolsAreIndependent) {
  add("web", {"8080:80"});
  State copy = state;
  const Network& local = state.get_network("local");
  Endpoint* lo = nullptr;
  for (Endpoint& e : copy.endpoints) {
    if (e.network_id == local.id) lo = &e;
  }
  ASSERT_NE(lo, nullptr);
  lo->ports = {binding(kUdp, 80, "0.0.0.0", 8080)};
  EXPECT_NO_THROW(validate_state(copy));
  lo->ports = {binding(kTcp, 80, "0.0.0.0", 8080)};
  EXPECT_EQ(error_of([&] { validate_state(copy); }),
            "state: endpoints[3].ports[0]: 0.0.0.0:8080/tcp conflicts with 0.0.0.0:8080/tcp of "
            "container \"web\"");
  lo->ports = {binding(kTcp, 80, "10.0.0.1", 8081), binding(kTcp, 80, "10.0.0.2", 8081)};
  EXPECT_NO_THROW(validate_state(copy));
}

// ----------------------------------------------------------------- config

class ConfigPortsTest : public ::testing::Test {
 protected:
  void apply(const std::string& json) {
    apply_config(state, parse_config(nlohmann::json::parse(json)), {}, env, ids, kNow);
  }
  void expect_apply_fails(const std::string& json, const std::string& message) {
    Config config = parse_config(nlohmann::json::parse(json));
    expect_error_and_unchanged(
        state, [&](State& s) { apply_config(s, config, {}, env, ids, kNow); }, message);
  }
  const Endpoint& endpoint(const std::string& network, const std::string& container) {
    const Endpoint* found = state.endpoint(state.get_network(network).id, container);
    EXPECT_NE(found, nullptr) << container << " on " << network;
    return *found;
  }

  FakeIds ids;
  State state = fresh_state(ids);
  PortEnvironment env;
};

const char* kPortsConfig = R"({
  "networks": [{"name": "front", "subnet": "10.1.0.0/24"},
               {"name": "back", "subnet": "10.2.0.0/24"}],
  "containers": [
    {"name": "web", "netns": "web", "networks": ["back", "front"],
     "ports": ["8080:80", "443/udp", "127.0.0.1:8000-8010:8000"]},
    {"name": "db", "netns": "db", "networks": ["back"]}
  ],
  "uplinks": ["eth0", "eth1"]
})";

TEST_F(ConfigPortsTest, ParsesPortsAndUplinks) {
  Config config = parse_config(nlohmann::json::parse(kPortsConfig));
  EXPECT_EQ(config.containers[0].ports,
            (std::vector<std::string>{"8080:80", "443/udp", "127.0.0.1:8000-8010:8000"}));
  EXPECT_TRUE(config.containers[1].ports.empty());
  EXPECT_EQ(config.uplinks, (std::vector<std::string>{"eth0", "eth1"}));
}

TEST_F(ConfigPortsTest, ParseRejectsBadShapes) {
  auto parse_error = [](const char* json) {
    return error_of([&] { parse_config(nlohmann::json::parse(json)); });
  };
  EXPECT_EQ(parse_error(R"({"containers": [{"name": "c", "netns": "n", "networks": ["a"],
                                             "ports": "80"}]})"),
            "config: containers[0].ports: expected an array");
  EXPECT_EQ(parse_error(R"({"containers": [{"name": "c", "netns": "n", "networks": ["a"],
                                             "ports": ["80", 8080]}]})"),
            "config: containers[0].ports[1]: expected a string");
  EXPECT_EQ(parse_error(R"({"containers": [{"name": "c", "netns": "n", "ports": ["80"]}]})"),
            "config: containers[0].ports: published ports need a network: list one in "
            "\"networks\"");
  EXPECT_EQ(parse_error(R"({"uplinks": "eth0"})"), "config: uplinks: expected an array");
  EXPECT_EQ(parse_error(R"({"uplinks": [1]})"), "config: uplinks[0]: expected a string");
  EXPECT_EQ(parse_error(R"({"uplinks": ["eth0", "eth0"]})"),
            "config: uplinks[1]: interface \"eth0\" is listed twice");
}

TEST_F(ConfigPortsTest, PublishesOnTheFirstListedNetwork) {
  apply(kPortsConfig);
  EXPECT_EQ(endpoint("back", "web").ports,
            (std::vector{binding(kTcp, 80, "0.0.0.0", 8080), binding(kTcp, 8000, "127.0.0.1", 8000),
                         binding(kUdp, 443, "0.0.0.0", 32768)}));
  EXPECT_TRUE(endpoint("front", "web").ports.empty());
  EXPECT_EQ(state.uplinks, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ConfigPortsTest, IsIdempotent) {
  apply(kPortsConfig);
  nlohmann::json once = to_json(state);
  // Even if the ports first picked are now taken or reserved, the existing
  // bindings satisfy the config.
  env.reserved = {32768, 8000};
  env.host_listening = [](Proto, Ipv4, uint16_t) { return true; };
  apply(kPortsConfig);
  EXPECT_EQ(to_json(state), once);
}

TEST_F(ConfigPortsTest, ReapplyAddsWhatIsMissingAndKeepsTheRest) {
  apply(kPortsConfig);
  add_ports(state, "web", {"9090:90"}, std::nullopt, env);
  state.uplinks.push_back("manual0");
  // One more ephemeral request for 443/udp and a new fixed port; uplinks
  // merge without duplicates.
  apply(R"({"containers": [{"name": "web", "netns": "web", "networks": ["back"],
                            "ports": ["443/udp", "443/udp", "8081:80"]}],
            "uplinks": ["eth1", "eth2"]})");
  EXPECT_EQ(
      endpoint("back", "web").ports,
      (std::vector{binding(kTcp, 80, "0.0.0.0", 8080), binding(kTcp, 80, "0.0.0.0", 8081),
                   binding(kTcp, 90, "0.0.0.0", 9090), binding(kTcp, 8000, "127.0.0.1", 8000),
                   binding(kUdp, 443, "0.0.0.0", 32768), binding(kUdp, 443, "0.0.0.0", 32769)}));
  EXPECT_EQ(state.uplinks, (std::vector<std::string>{"eth0", "eth1", "manual0", "eth2"}));
  EXPECT_NO_THROW(validate_state(state));
}

TEST_F(ConfigPortsTest, ConflictsAndBadSpecsNameTheEntry) {
  apply(kPortsConfig);
  expect_apply_fails(R"({"containers": [{"name": "db", "netns": "db", "networks": ["back"],
                                          "ports": ["8080:80"]}]})",
                     "config: containers[0].ports (db on back): Bind for 0.0.0.0:8080 failed: "
                     "port is already allocated");
  expect_apply_fails(R"({"containers": [{"name": "db", "netns": "db", "networks": ["back"],
                                          "ports": ["5432", "70000:80"]}]})",
                     "config: containers[0].ports[1] (db): Invalid hostPort: 70000");
  env.host_listening = [](Proto, Ipv4, uint16_t port) { return port == 5432; };
  expect_apply_fails(R"({"containers": [{"name": "db", "netns": "db", "networks": ["back"],
                                          "ports": ["5432:5432"]}]})",
                     "config: containers[0].ports (db on back): failed to bind host port "
                     "0.0.0.0:5432/tcp: address already in use");
  expect_apply_fails(R"({"uplinks": ["eth0", "bad/name"]})",
                     "config: uplinks[1]: invalid interface name \"bad/name\"");
}

TEST_F(ConfigPortsTest, AtMost64Uplinks) {
  nlohmann::json uplinks = nlohmann::json::array();
  for (int i = 0; i < 64; ++i) uplinks.push_back(fmt::format("eth{}", i));
  apply(nlohmann::json{{"uplinks", uplinks}}.dump());
  EXPECT_EQ(state.uplinks.size(), 64u);
  EXPECT_NO_THROW(validate_state(state));
  expect_apply_fails(R"({"uplinks": ["eth0", "eth64"]})",
                     "config: uplinks: 65 uplinks exceed the limit of 64");
  state.uplinks.push_back("eth64");
  EXPECT_EQ(error_of([&] { validate_state(state); }),
            "state: uplinks: 65 uplinks exceed the limit of 64");
}

TEST_F(ConfigPortsTest, UplinksTakeAMode) {
  apply(R"({"uplinks": ["eth0:tc", "eth1"]})");
  EXPECT_EQ(state.uplinks, (std::vector<std::string>{"eth0:tc", "eth1"}));
  EXPECT_NO_THROW(validate_state(state));
  apply(R"({"uplinks": ["eth0:xdp"]})");  // the config's mode wins for the same interface
  EXPECT_EQ(state.uplinks, (std::vector<std::string>{"eth0:xdp", "eth1"}));
  expect_apply_fails(R"({"uplinks": ["eth2:fast"]})",
                     "config: uplinks[0]: invalid uplink \"eth2:fast\": expected "
                     "NAME[:auto|xdp|tc]");
  EXPECT_EQ(
      error_of([] { parse_config(nlohmann::json::parse(R"({"uplinks": ["eth0", "eth0:tc"]})")); }),
      "config: uplinks[1]: interface \"eth0\" is listed twice");
  state.uplinks.push_back("eth1:xdp");
  EXPECT_EQ(error_of([&] { validate_state(state); }),
            "state: uplinks[2]: duplicate interface name \"eth1\"");
  state.uplinks.back() = "eth2:fast";
  EXPECT_EQ(error_of([&] { validate_state(state); }),
            "state: uplinks[2]: invalid uplink \"eth2:fast\": expected NAME[:auto|xdp|tc]");
}

TEST_F(ConfigPortsTest, InternalFirstNetworkIsRefused) {
  expect_apply_fails(R"({"networks": [{"name": "in", "subnet": "10.5.0.0/24", "internal": true}],
                         "containers": [{"name": "c", "netns": "c", "networks": ["in"],
                                         "ports": ["80"]}]})",
                     "config: containers[0].ports (c on in): cannot publish ports of container c: "
                     "network in is internal");
  EXPECT_EQ(state.network_by_name("in"), nullptr) << "all or nothing";
}

TEST_F(ConfigPortsTest, IsAllOrNothingAcrossContainers) {
  expect_apply_fails(R"({"networks": [{"name": "n", "subnet": "10.0.0.0/24"}],
                         "containers": [{"name": "a", "netns": "a", "networks": ["n"],
                                         "ports": ["8080:80"]},
                                        {"name": "b", "netns": "b", "networks": ["n"],
                                         "ports": ["127.0.0.1:8080:80"]}],
                         "uplinks": ["eth0"]})",
                     "config: containers[1].ports (b on n): Bind for 127.0.0.1:8080 failed: port "
                     "is already allocated");
  EXPECT_TRUE(state.uplinks.empty());
}

}  // namespace
}  // namespace bpfnet::core
