// bpfnet-cni's logic (userspace/cni/cni.h) over a fake daemon: the env and
// config as runtimes send them, the requests it makes, its results and errors.
#include "cni/cni.h"

#include <gtest/gtest.h>

#include "ctl/client.h"

namespace bpfnet::cni {
namespace {

CniEnv env_of(std::string command, std::string args = {}) {
  return read_env({{"CNI_COMMAND", command},
                   {"CNI_CONTAINERID", "abc123"},
                   {"CNI_NETNS", "/var/run/netns/p"},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_ARGS", args}});
}

unsigned code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CniError& e) {
    return e.code;
  }
  return 0;
}

TEST(CniEnvTest, ChecksWhatTheSkelChecks) {
  CniEnv env = env_of("ADD", "K8S_POD_NAMESPACE=default;IgnoreUnknown=1;IP=10.0.0.9");
  EXPECT_EQ(env.args.at("K8S_POD_NAMESPACE"), "default");
  EXPECT_EQ(env.args.at("IP"), "10.0.0.9");
  EXPECT_EQ(code_of([] { read_env({{"CNI_COMMAND", "BOGUS"}}); }), kInvalidEnv);
  EXPECT_EQ(code_of([] {
              read_env({{"CNI_COMMAND", "ADD"}, {"CNI_IFNAME", "eth0"}});
            }),
            kInvalidEnv);
  EXPECT_EQ(code_of([] {
              read_env({{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", "a/b"}, {"CNI_IFNAME", "e"}});
            }),
            kInvalidEnv);
  // DEL may come with no netns (after the namespace is gone).
  EXPECT_NO_THROW(
      read_env({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "a"}, {"CNI_IFNAME", "e"}}));
  EXPECT_EQ(code_of([] { env_of("ADD", "novalue"); }), kInvalidEnv);
}

TEST(CniConfigTest, PortMappingKeysAreCaseInsensitive) {
  CniEnv env = env_of("ADD");
  CniConfig c = read_config(
      R"({"cniVersion":"1.0.0","name":"web","runtimeConfig":{"portMappings":[
          {"HostPort":8080,"ContainerPort":80,"Protocol":"TCP","HostIP":"0.0.0.0"},
          {"hostPort":5353,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"}],
          "ips":["10.1.0.5/24"],"mac":"02:00:00:00:00:05"}})",
      env);
  EXPECT_EQ(c.network, "web");
  ASSERT_EQ(c.port_mappings.size(), 2u);
  EXPECT_EQ(c.port_mappings[0].host_port, 8080);
  EXPECT_EQ(c.port_mappings[0].protocol, "tcp");
  EXPECT_EQ(c.port_mappings[0].host_ip, "");
  EXPECT_EQ(c.port_mappings[1].host_ip, "127.0.0.1");
  EXPECT_EQ(c.ip, "10.1.0.5");
  EXPECT_EQ(c.mac, "02:00:00:00:00:05");
  EXPECT_EQ(code_of([&] { read_config("{", env); }), kDecodeFailure);
  // Found by fuzz/cni_input: a number past double's range is out_of_range,
  // not parse_error, in nlohmann::json.
  EXPECT_EQ(code_of([&] { read_config("7e777", env); }), kDecodeFailure);
  EXPECT_EQ(code_of([&] { read_config(R"({"cniVersion":"0.4.0","name":"w"})", env); }),
            kIncompatibleVersion);
  EXPECT_EQ(code_of([&] {
              read_config(R"({"cniVersion":"1.0.0","name":"w","runtimeConfig":{"portMappings":
                              [{"hostPort":0,"containerPort":80}]}})",
                          env);
            }),
            kInvalidConfig);
  EXPECT_EQ(code_of([&] { read_config(R"({"cniVersion":"1.0.0","name":"w"})", env_of("GC")); }),
            kIncompatibleVersion);
}

struct FakeDaemon {
  std::vector<std::pair<std::string, Json>> calls;
  bool network_exists = true;
  bool down = false;
  Json operator()(const std::string& op, const Json& args) {
    calls.emplace_back(op, args);
    if (down) throw ctl::ConnectError("Cannot connect to the bpfnet daemon");
    if (op == "network.inspect") {
      if (!network_exists) throw ctl::DaemonError("network web not found");
      return Json::array({Json{{"Internal", false},
                               {"Containers",
                                {{"e1", {{"Name", "cni-abc123"}}},
                                 {"e2", {{"Name", "cni-gone"}}},
                                 {"e3", {{"Name", "mine"}}}}}}});
    }
    if (op == "network.connect")
      return Json{{"ip", "10.1.0.2"},           {"prefix_len", 24}, {"gateway", "10.1.0.1"},
                  {"mac", "02:42:0a:01:00:02"}, {"ifname", "eth0"}, {"host_ifname", "bnv123"}};
    if (op == "network.disconnect" && args["container"] == "cni-missing")
      throw ctl::DaemonError("container cni-missing is not connected to network web");
    return Json::object();
  }
};

TEST(CniRunTest, AddConnectsPublishesAndAnswersTheSpecResult) {
  FakeDaemon fake;
  CniEnv env = env_of("ADD");
  CniConfig config = read_config(
      R"({"cniVersion":"1.0.0","name":"web","runtimeConfig":{"portMappings":[{"HostPort":8080,"ContainerPort":80}]}})",
      env);
  Json out = run_command(env, config, std::ref(fake));
  ASSERT_EQ(fake.calls.size(), 3u);
  EXPECT_EQ(fake.calls[1].first, "network.connect");
  EXPECT_EQ(fake.calls[1].second["container"], "cni-abc123");
  EXPECT_EQ(fake.calls[1].second["ifname"], "eth0");
  EXPECT_EQ(fake.calls[2].second["specs"], Json::array({"8080:80/tcp"}));
  EXPECT_EQ(
      out.dump(),
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"bnv123"},{"name":"eth0","mac":"02:42:0a:01:00:02","sandbox":"/var/run/netns/p"}],"ips":[{"address":"10.1.0.2/24","gateway":"10.1.0.1","interface":1}],"routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{}})");
}

TEST(CniRunTest, AddWithoutNetworkOrSubnetIsAConfigError) {
  FakeDaemon fake;
  fake.network_exists = false;
  CniEnv env = env_of("ADD");
  EXPECT_EQ(code_of([&] {
              run_command(env, read_config(R"({"cniVersion":"1.0.0","name":"web"})", env),
                          std::ref(fake));
            }),
            kInvalidConfig);
  fake.calls.clear();
  run_command(env,
              read_config(R"({"cniVersion":"1.0.0","name":"web","subnet":"10.1.0.0/24"})", env),
              std::ref(fake));
  EXPECT_EQ(fake.calls[1].first, "network.create");
}

TEST(CniRunTest, DelIsIdempotentAndGcKeepsOthers) {
  FakeDaemon fake;
  CniEnv del =
      read_env({{"CNI_COMMAND", "DEL"}, {"CNI_CONTAINERID", "missing"}, {"CNI_IFNAME", "eth0"}});
  EXPECT_TRUE(
      run_command(del, read_config(R"({"cniVersion":"1.0.0","name":"web"})", del), std::ref(fake))
          .is_null());
  fake.network_exists = false;
  EXPECT_NO_THROW(
      run_command(del, read_config(R"({"cniVersion":"1.0.0","name":"web"})", del), std::ref(fake)));
  fake = FakeDaemon{};
  CniEnv gc = read_env({{"CNI_COMMAND", "GC"}});
  run_command(
      gc,
      read_config(
          R"({"cniVersion":"1.1.0","name":"web","cni.dev/valid-attachments":[{"containerID":"abc123","ifname":"eth0"}]})",
          gc),
      std::ref(fake));
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[1].second["container"], "cni-gone");
}

TEST(CniRunTest, StatusWithoutDaemonIs50AndErrorsHaveTheSpecShape) {
  FakeDaemon fake;
  fake.down = true;
  CniEnv status = read_env({{"CNI_COMMAND", "STATUS"}});
  CniConfig config = read_config(R"({"cniVersion":"1.1.0","name":"web"})", status);
  try {
    run_command(status, config, std::ref(fake));
    FAIL() << "STATUS passed";
  } catch (const CniError& e) {
    EXPECT_EQ(e.code, kUnavailable);
    Json j = error_json("1.1.0", e);
    EXPECT_EQ(j["code"], 50);
    EXPECT_EQ(j["msg"], "bpfnetd is not answering on /run/bpfnet/bpfnetd.sock");
    EXPECT_TRUE(j.contains("details"));
  }
}

}  // namespace
}  // namespace bpfnet::cni
