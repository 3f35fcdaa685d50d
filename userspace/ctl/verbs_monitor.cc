// `bpfnetctl monitor`: a live stream of the datapath's events (drops, sampled
// forwarding, flows), printed one line each as they come, optionally written
// to a pcap file; Ctrl-C prints a summary.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "ctl/client.h"
#include "ctl/flags.h"
#include "ctl/monitor_stream.h"
#include "ctl/pcap_file.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

volatile sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM end the stream (poll returns EINTR) while it runs.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: poll() returns
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

void build_monitor(const VerbArgs& given, Command& cmd) {
  Request req = given.request("");
  Json types = Json::array();
  for (const std::string& list : given.list("type")) {
    size_t start = 0;
    for (;;) {
      const size_t comma = list.find(',', start);
      const std::string t = list.substr(start, comma - start);
      if (t.empty()) throw given.invalid("--type", list, "a list such as drop,trace");
      types.push_back(t);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (!types.empty()) req.args["types"] = types;
  for (const char* key : {"container", "network", "reason"})
    if (auto v = given.string(key)) req.args[key] = *v;
  cmd.pcap_file = given.string("pcap").value_or("");
  cmd.requests.push_back(std::move(req));
}

// Splits what arrived into lines; returns the complete ones.
std::vector<std::string> take_lines(std::string& buffer) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(buffer.substr(start, nl - start));
  buffer.erase(0, start);
  return lines;
}

std::string render_monitor_answer(const Command&, const Json& result);

class MonitorSession {
 public:
  MonitorSession(const Command& cmd, std::ostream& out, std::ostream& err)
      : cmd_(cmd), out_(out), err_(err) {
    if (!cmd.pcap_file.empty()) pcap_ = std::make_unique<PcapFile>(cmd.pcap_file);
  }

  // One line of the stream; the first is the daemon's answer to the request.
  void on_line(const std::string& line) {
    if (!answered_) {
      // Throws DaemonError for a refusal. Like tcpdump's "listening on",
      // on stderr: the daemon sends events from now on.
      err_ << render_monitor_answer(cmd_, Client::parse_response(line)) << std::flush;
      answered_ = true;
      return;
    }
    MonitorStreamItem item = parse_monitor_line(line);
    if (item.lost) summary_.set_lost(*item.lost);
    if (!item.event) return;
    const MonitorEventLine& e = *item.event;
    summary_.count(e);
    out_ << (cmd_.output == Output::kJson ? format_event_json(e) : format_event(e)) << "\n"
         << std::flush;
    // A flow event carries no packet: the pcap file has none of it.
    if (pcap_ && !e.flow) pcap_->write(e.time_unix_ns, e.packet, e.orig_len);
  }

  void print_summary() {
    if (cmd_.output == Output::kJson) {
      out_ << summary_.to_json().dump() << "\n";
    } else {
      out_ << "\n" << summary_.render();
    }
    out_ << std::flush;
  }

 private:
  const Command& cmd_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<PcapFile> pcap_;
  MonitorSummary summary_;
  bool answered_ = false;
};

// Reads the stream until Ctrl-C (0) or until the daemon ends it (1).
int read_stream(int fd, MonitorSession& session, std::ostream& err) {
  std::string buffer;
  char chunk[65536];
  while (!g_stop) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, -1) < 0) {
      if (errno == EINTR) continue;
      throw ClientError(fmt::format("bpfnetctl: poll: {}", std::strerror(errno)));
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ClientError(fmt::format("bpfnetctl: monitor: {}", std::strerror(errno)));
    }
    if (n == 0) {
      err << "bpfnetctl: monitor: the daemon ended the stream\n";
      return 1;
    }
    buffer.append(chunk, static_cast<size_t>(n));
    for (const std::string& line : take_lines(buffer)) session.on_line(line);
    if (buffer.size() > Client::kMaxResponseBytes)
      throw ProtocolError("bpfnetctl: monitor: a line longer than the daemon ever sends");
  }
  return 0;
}

int run_monitor(const Command& cmd, std::ostream& out, std::ostream& err) {
  StopSignals signals;
  std::unique_ptr<MonitorSession> session;
  try {
    session = std::make_unique<MonitorSession>(cmd, out, err);
  } catch (const std::runtime_error& e) {
    err << "bpfnetctl: monitor: " << e.what() << "\n";
    return 1;
  }
  int fd = -1;
  try {
    const Client client(cmd.socket_path, std::chrono::seconds(5));
    fd = client.send_request(cmd.requests.at(0).to_json().dump());
    const int status = read_stream(fd, *session, err);
    ::close(fd);
    session->print_summary();
    return status;
  } catch (const DaemonError& e) {
    err << "Error response from daemon: " << e.what() << "\n";
  } catch (const ClientError& e) {
    err << e.what() << "\n";
  }
  if (fd >= 0) ::close(fd);
  return 1;
}

// The first answer, as MonitorSession reports it: the types being monitored.
std::string render_monitor_answer(const Command&, const Json& result) {
  std::string types;
  if (result.is_object() && result.contains("types") && result["types"].is_array())
    for (const Json& t : result["types"])
      if (t.is_string()) types += (types.empty() ? "" : ",") + t.get<std::string>();
  return "bpfnetctl: monitoring " + types + " events (Ctrl-C to stop)\n";
}

constexpr const char* kMonitorNotes =
    "One line per event, as tcpdump prints packets: local time, the event type, the\n"
    "drop reason, the container (network) and host interface it crossed, and the\n"
    "packet's headers. With -o json, one JSON object per line. --pcap writes each\n"
    "event's packet (its first 128 bytes, with its original length) to FILE for\n"
    "tcpdump -r or Wireshark (flow events carry no packet: not written). A flow\n"
    "event is one line per flow start and end: its tuple, NAT, container and, at\n"
    "its end, packets and bytes each way and its age. Ctrl-C prints how many\n"
    "events of each kind came and how many were lost (the datapath sends at most\n"
    "a set rate per CPU).\n"
    "Without --type, every type. A filter on a container or network matches the\n"
    "events of its interfaces and of its addresses.\n";

}  // namespace

std::vector<VerbRow> monitor_verbs() {
  return {
      VerbRow{
          .name = "monitor",
          .help = {"Stream the datapath's events (drops, traces, flows)",
                   "Stream the datapath's events live: every drop with its reason, sampled "
                   "forwarding decisions, flows.",
                   kMonitorNotes},
          .flags =
              {
                  {"--type LIST", "Event types, comma-separated: drop, trace, flow",
                   FlagSpec::kRepeatable},
                  {"--container CONTAINER", "Only events of this container"},
                  {"--network NETWORK", "Only events of this network"},
                  {"--reason NAME", "Only drops for this reason (bpfnetctl stats names them)"},
                  {"--pcap FILE", "Also write the packets to FILE (pcap)"},
              },
          .call = {"monitor", build_monitor, render_monitor_answer},
          .stream = run_monitor,
      },
  };
}

}  // namespace bpfnet::ctl
