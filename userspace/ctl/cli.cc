#include "ctl/cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "ctl/complete.h"
#include "ctl/render.h"
#include "ctl/verb_table.h"

namespace bpfnet::ctl {
namespace {

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  const auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                              [](char a, char b) {
                                return std::tolower(static_cast<unsigned char>(a)) ==
                                       std::tolower(static_cast<unsigned char>(b));
                              });
  return it != haystack.end();
}

void print_daemon_error(std::ostream& err, const DaemonError& e) {
  err << "Error response from daemon: " << e.what() << "\n";
}

void print_bad_result(std::ostream& err, const BadResult& e) {
  err << "bpfnetctl: unexpected result from daemon: " << e.what() << "\n";
}

// flows --watch: the request sent and its answer printed every second, as
// watch(1) does (the screen cleared first when stdout is a terminal), until
// Ctrl-C (SIGINT's default action) or an error.
int run_watch(const Command& cmd, const Transport& transport, std::ostream& out,
              std::ostream& err) {
  const bool terminal = isatty(STDOUT_FILENO);
  for (;;) {
    try {
      const Json result = transport(cmd.requests.at(0).to_json());
      const std::string text = render(cmd, result);
      if (terminal) out << "\033[H\033[2J";
      out << text << std::flush;
    } catch (const DaemonError& e) {
      print_daemon_error(err, e);
      return 1;
    } catch (const ClientError& e) {
      err << e.what() << "\n";
      return 1;
    } catch (const BadResult& e) {
      print_bad_result(err, e);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// inspect and rm: one request per name, going on after daemon errors.
int run_each(const Command& cmd, const Transport& transport, std::ostream& out, std::ostream& err) {
  const bool inspect = cmd.row->sends == Sends::kInspectEach;
  const std::string_view kind = cmd.row->group();
  // rm in table mode prints each name as soon as it is removed, like docker.
  const bool stream = !inspect && cmd.output == Output::kTable;
  Json done = Json::array();
  std::vector<std::string> errors;
  for (const Request& req : cmd.requests) {
    try {
      Json result = transport(req.to_json());
      if (inspect) {
        done.push_back(std::move(result));
        continue;
      }
      Json removed = Json::object();
      removed["name"] = req.target;
      if (result.is_object()) {
        for (auto it = result.begin(); it != result.end(); ++it) {
          if (it.key() != "name") removed[it.key()] = it.value();
        }
      }
      if (stream) {
        out << render(cmd, Json::array({removed})) << std::flush;
      } else {
        done.push_back(std::move(removed));
      }
    } catch (const DaemonError& e) {
      if (inspect && is_not_found(e.what())) {
        errors.push_back(fmt::format("Error: No such {}: {}", kind, req.target));
      } else {
        errors.push_back(std::string("Error response from daemon: ") + e.what());
      }
      if (stream) err << errors.back() << "\n";
    } catch (const ClientError& e) {
      // The daemon is gone: nothing else will work.
      err << e.what() << "\n";
      return 1;
    } catch (const BadResult& e) {
      print_bad_result(err, e);
      return 1;
    }
  }
  if (!stream) {
    try {
      out << render(cmd, done);
    } catch (const BadResult& e) {
      print_bad_result(err, e);
      return 1;
    }
    for (const std::string& e : errors) err << e << "\n";
  }
  return errors.empty() ? 0 : 1;
}

}  // namespace

TransportFactory socket_transport(std::chrono::milliseconds timeout) {
  return [timeout](const std::string& socket_path) -> Transport {
    return [client = Client(socket_path, timeout)](const Json& request) {
      // `flows` is rendered from its text (ctl/flows_table.h).
      if (request.value("op", "") == "flows") return client.call_text(request);
      return client.call(request);
    };
  };
}

bool is_not_found(std::string_view daemon_error) {
  return contains_nocase(daemon_error, "not found") ||
         contains_nocase(daemon_error, "no such network") ||
         contains_nocase(daemon_error, "no such service");
}

int run(const Command& cmd, const Transport& transport, std::ostream& out, std::ostream& err) {
  if (cmd.row == nullptr) {
    out << cmd.help_text;
    return 0;
  }
  if (cmd.row->sends != Sends::kOneRequest) return run_each(cmd, transport, out, err);
  if (cmd.watch) return run_watch(cmd, transport, out, err);
  try {
    const Json result = transport(cmd.requests.at(0).to_json());
    out << render(cmd, result);
    return cmd.row->call.exit_status ? cmd.row->call.exit_status(result) : 0;
  } catch (const DaemonError& e) {
    print_daemon_error(err, e);
  } catch (const ClientError& e) {
    if (cmd.row->without_daemon != nullptr) out << cmd.row->without_daemon(cmd);
    err << e.what() << "\n";
  } catch (const BadResult& e) {
    print_bad_result(err, e);
  }
  return 1;
}

int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const TransportFactory& factory) {
  if (!args.empty() && args.front() == kCompleteCommand) {
    const std::vector<std::string> words(args.begin() + 1, args.end());
    auto ask = [&](const std::string& socket, const std::string& op) {
      Request request;
      request.op = op;
      return factory(socket)(request.to_json());
    };
    for (const std::string& candidate : complete(words, ask)) out << candidate << "\n";
    return 0;
  }
  Command cmd;
  try {
    cmd = parse_command(args);
  } catch (const UsageError& e) {
    err << "bpfnetctl: " << e.what() << "\n";
    return 1;
  }
  if (cmd.row == nullptr) return run(cmd, Transport{}, out, err);
  if (cmd.row->stream != nullptr) return cmd.row->stream(cmd, out, err);
  return run(cmd, factory(cmd.socket_path), out, err);
}

}  // namespace bpfnet::ctl
