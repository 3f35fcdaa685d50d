// bpfnet-cni: a CNI plugin (spec 1.0.0 and 1.1.0) that attaches containers
// through bpfnetd's control socket, so that podman and other CNI runtimes get
// the same datapath, IPAM, isolation and published ports as every other
// bpfnet container. Pure logic over a DaemonCall, so every command is
// unit-tested without a daemon; main.cc wires env, stdin and the socket.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctl/json.h"

namespace bpfnet::cni {

using Json = ctl::Json;

// The spec's error object: {"cniVersion","code","msg","details"}.
struct CniError : std::runtime_error {
  CniError(unsigned code, std::string msg, std::string details = {})
      : std::runtime_error(msg), code(code), details(std::move(details)) {}
  unsigned code;
  std::string details;
};
// Codes (CNI SPEC "Error codes"), plus ours from 100.
inline constexpr unsigned kIncompatibleVersion = 1;
inline constexpr unsigned kUnsupportedField = 2;
inline constexpr unsigned kUnknownContainer = 3;
inline constexpr unsigned kInvalidEnv = 4;
inline constexpr unsigned kIoFailure = 5;
inline constexpr unsigned kDecodeFailure = 6;
inline constexpr unsigned kInvalidConfig = 7;
inline constexpr unsigned kTryAgainLater = 11;
inline constexpr unsigned kUnavailable = 50;
inline constexpr unsigned kDaemonRefused = 100;  // bpfnetd said no (its message follows)

inline const std::vector<std::string> kSupportedVersions = {"1.0.0", "1.1.0"};

// CNI_* from the environment, checked as the spec's skel checks them.
struct CniEnv {
  std::string command;  // ADD DEL CHECK GC STATUS VERSION
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::map<std::string, std::string> args;  // CNI_ARGS K=V;K=V
};
CniEnv read_env(const std::map<std::string, std::string>& environment);

struct PortMapping {
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  std::string protocol = "tcp";
  std::string host_ip;  // empty: every address
};

// The network configuration on stdin.
struct CniConfig {
  std::string cni_version;
  std::string name;
  std::string network;  // the bpfnet network (default: name)
  std::string socket = "/run/bpfnet/bpfnetd.sock";
  std::optional<std::string> subnet;       // create the network on first ADD
  std::optional<std::string> gateway;      // with subnet
  std::vector<PortMapping> port_mappings;  // runtimeConfig.portMappings
  std::optional<std::string> ip;           // runtimeConfig.ips[0] (or CNI_ARGS IP=)
  std::optional<std::string> mac;          // runtimeConfig.mac (or CNI_ARGS MAC=)
  // GC: cni.dev/valid-attachments as (containerID, ifname).
  std::vector<std::pair<std::string, std::string>> valid_attachments;
};
// Throws CniError 6 (not JSON) or 7 (a field of the wrong type or value).
CniConfig read_config(const std::string& stdin_text, const CniEnv& env);

// One control-socket request: op and args to the daemon's result. Throws
// ctl::DaemonError when it refuses, ctl::ClientError when none answers.
using DaemonCall = std::function<Json(const std::string& op, const Json& args)>;

// Runs the command; returns what goes to stdout (exit 0). Throws CniError.
Json run_command(const CniEnv& env, const CniConfig& config, const DaemonCall& daemon);

// The bpfnet container name of a CNI attachment: "cni-" + the container ID,
// so that GC never touches containers bpfnet got another way.
std::string container_name(const std::string& container_id);

Json error_json(const std::string& cni_version, const CniError& error);

}  // namespace bpfnet::cni
