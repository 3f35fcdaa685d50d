// bpfnet-cni: CNI_* from the environment, the network configuration on
// stdin, the result (or the spec's error object, exit 1) on stdout.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cni/cni.h"
#include "ctl/client.h"

extern char** environ;

namespace {

using bpfnet::cni::CniError;
using bpfnet::cni::Json;

constexpr unsigned kCheckFailed = 101;

// CHECK inside the sandbox: the interface, its address and (for a network
// that is not internal) a default route through it.
void check_sandbox(const std::string& netns, const std::string& ifname, const std::string& cidr,
                   bool want_route) {
  int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
    throw CniError(kCheckFailed, fmt::format("cannot enter netns {}: {}", netns, strerror(errno)));
  close(fd);
  if (if_nametoindex(ifname.c_str()) == 0)
    throw CniError(kCheckFailed, fmt::format("interface {} is missing in {}", ifname, netns));
  std::string ip = cidr.substr(0, cidr.find('/'));
  bool found = false;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || ifname != a->ifa_name) continue;
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
      found = found || ip == text;
    }
    freeifaddrs(list);
  }
  if (!found)
    throw CniError(kCheckFailed, fmt::format("{} does not hold {} in {}", ifname, cidr, netns));
  if (!want_route) return;
  std::ifstream routes("/proc/net/route");  // this thread's netns
  std::string line;
  std::getline(routes, line);
  while (std::getline(routes, line)) {
    std::istringstream fields(line);
    std::string iface, destination;
    fields >> iface >> destination;
    if (iface == ifname && destination == "00000000") return;
  }
  throw CniError(kCheckFailed, fmt::format("no default route via {} in {}", ifname, netns));
}

}  // namespace

int main() {
  std::map<std::string, std::string> environment;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    if (size_t eq = kv.find('='); eq != std::string::npos)
      environment[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::string version;
  try {
    const bpfnet::cni::CniEnv env = bpfnet::cni::read_env(environment);
    const std::string input{std::istreambuf_iterator<char>(std::cin),
                            std::istreambuf_iterator<char>()};
    const bpfnet::cni::CniConfig config = bpfnet::cni::read_config(input, env);
    version = config.cni_version;
    bpfnet::ctl::Client client(config.socket, std::chrono::seconds(30));
    auto daemon = [&](const std::string& op, const Json& args) {
      return client.call(Json{{"op", op}, {"args", args}});
    };
    Json out = bpfnet::cni::run_command(env, config, daemon);
    if (env.command == "CHECK") {
      bool internal = false;
      try {
        Json net = daemon("network.inspect", Json{{"name", config.network}});
        internal = (net.is_array() ? net[0] : net).value("Internal", false);
      } catch (const std::exception&) {
      }
      check_sandbox(env.netns, env.ifname, out.value("ip", ""), !internal);
      return 0;
    }
    if (!out.is_null()) std::cout << out.dump() << std::endl;
    return 0;
  } catch (const CniError& e) {
    std::cout << bpfnet::cni::error_json(version, e).dump() << std::endl;
  } catch (const std::exception& e) {
    std::cout << bpfnet::cni::error_json(version, CniError(999, e.what())).dump() << std::endl;
  }
  return 1;
}
