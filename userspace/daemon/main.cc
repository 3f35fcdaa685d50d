// bpfnetd: loads the datapath, reconciles it with the persisted state (and
// --config), then serves the control socket in the foreground.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>

#include "core/config.h"
#include "core/default_bridge.h"
#include "core/error.h"
#include "core/names.h"
#include "core/prometheus.h"
#include "core/uplinks.h"
#include "daemon/controller.h"
#include "daemon/docker_driver.h"
#include "daemon/docker_plugin_server.h"
#include "daemon/http_server.h"
#include "daemon/metrics.h"
#include "daemon/monitor.h"
#include "daemon/netlink_plumbing.h"
#include "daemon/server.h"
#include "daemon/state_store.h"
#include "datapath/datapath.h"
#include "datapath/events.h"
#include "store/etcd_store.h"
#include "store/store_url.h"

namespace po = boost::program_options;
using namespace bpfnet;

namespace {

struct UrandomIds : core::IdSource {
  std::string random_hex64() override {
    unsigned char raw[32];
    std::ifstream in("/dev/urandom", std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(raw), sizeof(raw)))
      throw std::runtime_error("read /dev/urandom failed");
    std::string out;
    for (unsigned char b : raw) out += fmt::format("{:02x}", b);
    return out;
  }
};

std::string rfc3339_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count();
  std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09d}Z", buf, nanos);
}

std::string local_host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) throw std::runtime_error("gethostname failed");
  return name;
}

// Where cgroup v2 is mounted (/proc/self/mountinfo), or "" if nowhere.
std::string cgroup2_root() {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // ... mount_point ... - fstype source options
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devno, root, mount_point;
    head >> id >> parent >> devno >> root >> mount_point;
    if (root == "/") return mount_point;
  }
  return "";
}

core::Config read_config(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw core::UserError(fmt::format("--config {}: cannot read: {}", path, strerror(errno)));
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    return core::parse_config(nlohmann::json::parse(buf.str()));
  } catch (const nlohmann::json::parse_error& e) {
    throw core::UserError(fmt::format("--config {}: malformed JSON: {}", path, e.what()));
  } catch (const core::UserError& e) {
    throw core::UserError(fmt::format("--config {}: {}", path, e.what()));
  }
}

int run(int argc, char** argv) {
  std::string config_path, state_dir, bpffs, socket_path, cgroup, plugin_name, plugin_socket;
  std::vector<std::string> uplinks;
  std::string store_url, host_name, underlay, underlay_ip, overlay_encap = "bpf";
  std::string bip_text, bridge, metrics_text;
  int lease_ttl_s = 10;
  uint32_t ct_max = 0;
  int gc_interval_ms = 5000;
  daemon::MonitorOptions monitor_options;
  po::options_description desc("Usage: bpfnetd [options]");
  desc.add_options()("help,h", "show this help")("version", "print the version")(
      "config", po::value(&config_path), "JSON file of networks and containers to create")(
      "state-dir", po::value(&state_dir)->default_value("/var/lib/bpfnet"),
      "where the desired state is persisted")(
      "bpffs", po::value(&bpffs)->default_value("/sys/fs/bpf/bpfnet"),
      "bpffs directory where maps are pinned")(
      "socket", po::value(&socket_path)->default_value("/run/bpfnet/bpfnetd.sock"),
      "control socket for bpfnetctl")(
      "uplink", po::value(&uplinks)->composing(),
      "NAME[:auto|xdp|tc]: host interface facing clients (repeatable): published ports, "
      "masquerade. auto (default): native XDP where the driver hands it complete checksums "
      "(physical NICs, virtio_net), tc elsewhere (veth, bridges, bonds, unknown)")(
      "no-xdp", "every auto uplink gets tc only (no native XDP)")(
      "cgroup", po::value(&cgroup),
      "cgroup v2 directory for the socket hooks that give host processes "
      "access to published ports (default: the cgroup v2 mount's root; \"none\" to disable)")(
      "ct-max", po::value(&ct_max), "conntrack entries (two per flow) when first created")(
      "ct-gc-interval-ms", po::value(&gc_interval_ms)->default_value(5000),
      "how often expired conntrack entries are removed")(
      "docker-plugin", po::value(&plugin_name)->implicit_value("bpfnet"),
      "also serve Docker's network-driver plugin protocol, as driver NAME (default bpfnet: "
      "`docker network create -d bpfnet`), on /run/docker/plugins/NAME.sock")(
      "docker-plugin-socket", po::value(&plugin_socket),
      "the plugin's socket, instead of /run/docker/plugins/NAME.sock (implies --docker-plugin)")(
      "store", po::value(&store_url),
      "etcd://HOST[:PORT][,HOST[:PORT]...]: the cluster store; enables overlay networks")(
      "host-name", po::value(&host_name), "this host's name in the cluster (default: hostname)")(
      "underlay", po::value(&underlay),
      "the interface overlay traffic leaves by: its address is this host's in the cluster, "
      "its MTU sizes overlay networks")(
      "underlay-ip", po::value(&underlay_ip),
      "this host's address in the cluster (default: --underlay's first IPv4 address)")(
      "overlay-encap", po::value(&overlay_encap)->default_value("bpf"),
      "bpf: VXLAN added and removed by BPF on the underlay interface, the VXLAN device only for "
      "what needs it (fragments); device: through the kernel's VXLAN device only")(
      "store-lease-ttl", po::value(&lease_ttl_s)->default_value(10),
      "seconds after which a host that stopped answering leaves the cluster")(
      "metrics", po::value(&metrics_text),
      "[ADDR:]PORT: serve Prometheus metrics at http://ADDR:PORT/metrics (ADDR defaults to "
      "127.0.0.1; off unless given)")(
      "bip", po::value(&bip_text),
      "GATEWAY/PREFIX of Docker's default network `bridge` when it is created (dockerd's "
      "--bip, e.g. 172.26.0.1/16; default: 172.17.0.0/16 or the first free default pool)")(
      "bridge", po::value(&bridge),
      "none: no default `bridge` network (dockerd's --bridge none; removed if it has no "
      "endpoints)")(
      "monitor-trace-every",
      po::value(&monitor_options.trace_every)->default_value(monitor_options.trace_every),
      "while a `bpfnetctl monitor --type trace` is connected, trace 1 forwarded packet in N "
      "per CPU (0: none)")(
      "monitor-rate", po::value(&monitor_options.rate)->default_value(1000),
      "while a monitor is connected, events at most per second per CPU (more are counted as "
      "lost)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "bpfnetd: " << e.what() << "\n" << desc;
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "bpfnetd " << BPFNET_VERSION << "\n";
    return 0;
  }

  for (const std::string& text : uplinks) {
    try {
      core::parse_uplink_spec(text);
    } catch (const core::UserError& e) {
      std::cerr << fmt::format("bpfnetd: --uplink {}: {}\n", text, e.what());
      return 2;
    }
  }

  std::string plugin_path;  // empty: no Docker plugin
  if (vm.count("docker-plugin") || vm.count("docker-plugin-socket")) {
    if (plugin_name.empty()) plugin_name = "bpfnet";
    if (!core::is_restricted_name(plugin_name)) {
      std::cerr << fmt::format("bpfnetd: --docker-plugin {}: invalid driver name\n", plugin_name);
      return 2;
    }
    plugin_path = vm.count("docker-plugin-socket")
                      ? plugin_socket
                      : fmt::format("{}/{}.sock", daemon::kDockerPluginDir, plugin_name);
  }

  std::optional<daemon::TcpAddress> metrics_address;
  if (vm.count("metrics")) try {
      metrics_address = daemon::parse_tcp_address(metrics_text);
    } catch (const core::UserError& e) {
      std::cerr << "bpfnetd: --metrics: " << e.what() << "\n";
      return 2;
    }
  std::optional<std::string> bip;
  if (vm.count("bip")) bip = bip_text;
  if (vm.count("bridge") && bridge != "none") {
    std::cerr << fmt::format(
        "bpfnetd: --bridge {}: only \"none\" is accepted (bpfnet's networks have no bridge "
        "device to name)\n",
        bridge);
    return 2;
  }
  if (bip) try {
      core::parse_bip(*bip);
    } catch (const core::UserError& e) {
      std::cerr << "bpfnetd: " << e.what() << "\n";
      return 2;
    }

  // Signals are taken by the server's signalfd; a dead client is no crash.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (overlay_encap != "bpf" && overlay_encap != "device") {
    std::cerr << fmt::format("bpfnetd: --overlay-encap: expected bpf or device, got \"{}\"\n",
                             overlay_encap);
    return 2;
  }
  // After the signal mask: gRPC starts threads, which must not take SIGTERM.
  std::unique_ptr<store::EtcdStore> etcd;
  if (!store_url.empty()) {
    try {
      etcd = std::make_unique<store::EtcdStore>(
          store::EtcdOptions{.endpoints = store::parse_store_url(store_url)});
    } catch (const core::UserError& e) {
      std::cerr << fmt::format("bpfnetd: --store: {}\n", e.what());
      return 2;
    }
    if (underlay.empty() && underlay_ip.empty()) {
      std::cerr << "bpfnetd: --store needs --underlay IFACE or --underlay-ip IP\n";
      return 2;
    }
    if (lease_ttl_s < 2 || lease_ttl_s > 3600) {
      std::cerr << "bpfnetd: --store-lease-ttl: expected 2..3600 seconds\n";
      return 2;
    }
  } else if (!host_name.empty() || !underlay.empty() || !underlay_ip.empty()) {
    std::cerr << "bpfnetd: --host-name, --underlay and --underlay-ip need --store\n";
    return 2;
  }

  // 1. Validate everything (state file, config, namespaces) before touching anything.
  std::optional<core::Config> config;
  if (!config_path.empty()) config = read_config(config_path);
  daemon::StateStore store(state_dir);
  daemon::NetlinkPlumbing plumbing;
  UrandomIds ids;
  daemon::ControllerOptions copts;
  copts.uplinks = uplinks;
  copts.xdp = !vm.count("no-xdp");
  copts.cgroup = cgroup == "none" ? "" : cgroup.empty() ? cgroup2_root() : cgroup;
  copts.underlay = underlay;
  copts.vxlan_in_bpf = overlay_encap == "bpf";
  copts.default_bridge = {.enabled = !vm.count("bridge"), .bip = bip};
  if (copts.cgroup.empty() && cgroup != "none")
    std::cerr << "bpfnetd: warning: no cgroup v2 mount found: host processes cannot reach "
                 "published ports through 127.0.0.1 (pass --cgroup)"
              << std::endl;
  daemon::Controller controller(store, plumbing, ids, rfc3339_now, copts);
  // The cluster before the config: services of the config on an overlay
  // network this host has not seen yet wait for the join (Controller::load).
  std::unique_ptr<daemon::Cluster> cluster;
  if (etcd) {
    daemon::ClusterOptions cl;
    cl.host.name = host_name.empty() ? local_host_name() : host_name;
    cl.host.underlay =
        underlay_ip.empty() ? plumbing.uplink(underlay).ip : core::Ipv4::parse(underlay_ip);
    cl.lease_ttl = std::chrono::seconds(lease_ttl_s);
    cl.lease_file = state_dir + "/cluster-lease";
    cluster = std::make_unique<daemon::Cluster>(*etcd, std::move(cl));
    controller.set_cluster(cluster.get());
  }
  controller.load(config);

  // 2. Load programs (reusing pinned maps), reconcile, persist.
  datapath::Datapath dp(datapath::DatapathOptions{bpffs, ct_max});
  for (const auto& r : dp.replaced_pins())
    std::cerr << fmt::format(
                     "bpfnetd: pinned map {} has another build's layout ({}): recreated, {}\n",
                     r.name, r.why, r.cost)
              << std::flush;
  controller.set_datapath(dp);
  controller.gc_interval_ns = uint64_t(gc_interval_ms) * 1000000ULL;
  daemon::HealthChecker checker;
  controller.set_health_checker(&checker);
  daemon::ControlServer server(socket_path);
  datapath::RingMonitor ring_monitor(dp);
  daemon::MonitorHub monitor(
      controller, ring_monitor, monitor_options,
      [&](uint64_t id, std::string_view line) { return server.send(id, line); });
  monitor.reset();
  controller.wants_flow_ends = [&] { return monitor.wants_flows(); };
  controller.flows_ended = [&](const auto& flows, uint64_t now_ns) {
    monitor.flows_ended(flows, now_ns);
  };

  // The plugin's requests come on a thread of their own: one lock keeps
  // them and the control socket's requests and ticks out of each other's way.
  std::mutex controller_lock;
  daemon::RequestCounters requests;  // under controller_lock
  daemon::DockerDriver driver(controller);
  std::unique_ptr<daemon::DockerPluginServer> plugin;
  if (!plugin_path.empty()) {
    daemon::DockerPluginOptions plugin_options;
    plugin_options.serve_now = false;
    plugin = std::make_unique<daemon::DockerPluginServer>(
        plugin_path,
        vm.count("docker-plugin-socket") ? "--docker-plugin-socket" : "--docker-plugin",
        [&](std::string_view target, std::string_view body) {
          std::lock_guard lock(controller_lock);
          daemon::PluginReply reply = driver.handle(target, body);
          requests.count_docker(target, reply.status);
          return reply;
        },
        plugin_options);
  }
  std::unique_ptr<daemon::HttpServer> metrics;
  if (metrics_address) {
    daemon::HttpServerOptions metrics_options;
    metrics_options.serve_now = false;
    metrics_options.max_connections = 8;
    metrics_options.idle_timeout = std::chrono::seconds(30);
    metrics = daemon::HttpServer::on_tcp(
        *metrics_address, "--metrics",
        [&](const daemon::HttpRequest& request) {
          return daemon::metrics_http(request, [&] {
            std::lock_guard lock(controller_lock);
            return core::render_metrics(daemon::collect_metrics(controller, requests));
          });
        },
        metrics_options);
  }
  // Both sockets are bound first, so that a socket another process serves
  // stops the start before anything is touched; neither is read before the
  // reconcile (requests that arrive meanwhile wait in the listen backlogs).
  controller.reconcile_all();
  // Joins now if the store answers; else the periodic work keeps trying
  // while the datapath forwards as it is.
  controller.sync_cluster();
  if (plugin) plugin->serve();
  if (metrics) metrics->serve();
  std::cerr << fmt::format(
                   "bpfnetd: ready: {} networks, {} endpoints; socket {}; maps in {}{}{}",
                   controller.state().networks.size(), controller.state().endpoints.size(),
                   socket_path, bpffs,
                   plugin ? fmt::format("; Docker driver {} on {}", plugin_name, plugin->path())
                          : "",
                   metrics ? fmt::format("; metrics on http://{}:{}/metrics", metrics_address->host,
                                         metrics->port())
                           : "")
            << std::endl;
  sd_notify(0, "READY=1\nSTATUS=datapath reconciled");

  server.set_streams(daemon::StreamHooks{
      .open =
          [&](uint64_t id, const std::string& op, const nlohmann::json& args) {
            std::lock_guard lock(controller_lock);
            auto first = monitor.open(id, op, args);
            if (first) requests.count(op, true);
            return first;
          },
      .close =
          [&](uint64_t id) {
            std::lock_guard lock(controller_lock);
            monitor.close(id);
          },
      .fd = [&] { return monitor.fd(); },
      .on_readable =
          [&] {
            std::lock_guard lock(controller_lock);
            monitor.on_readable();
          },
  });

  server.run(
      [&](const std::string& op, const nlohmann::json& args) {
        std::lock_guard lock(controller_lock);
        try {
          nlohmann::json result = controller.handle(op, args);
          requests.count(op, true);
          return result;
        } catch (...) {
          requests.count(op, false);
          throw;
        }
      },
      [&] {
        std::lock_guard lock(controller_lock);
        try {
          timespec ts{};
          clock_gettime(CLOCK_MONOTONIC, &ts);
          controller.tick(uint64_t(ts.tv_sec) * 1000000000ULL + uint64_t(ts.tv_nsec));
          monitor.report_lost();
        } catch (const std::exception& e) {
          std::cerr << "bpfnetd: warning: periodic work: " << e.what() << std::endl;
        }
      },
      /*tick_ms=*/200, cluster ? cluster->wake_fd() : -1);
  sd_notify(0, "STOPPING=1");
  // The monitors' connections close with the server, after the hub is gone:
  // the datapath is told now that nobody listens.
  server.set_streams({});
  try {
    monitor.reset();
  } catch (const std::exception& e) {
    std::cerr << "bpfnetd: warning: monitor: " << e.what() << std::endl;
  }
  {
    std::lock_guard lock(controller_lock);
    controller.leave_cluster();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bpfnetd: " << e.what() << std::endl;
    return 1;
  }
}
