// A daemon as main.cc starts it, on the in-memory fakes of the daemon tests
// (tests/daemon/fakes.h: no kernel, no privileges): a fresh one for every
// input, so that an input always means the same thing. Used by the
// control-request and Docker-plugin fuzzers, which check the Controller's
// promises after every request.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "core/error.h"
#include "core/state.h"
#include "daemon/controller.h"
#include "daemon/fakes.h"
#include "daemon/state_store.h"
#include "datapath/projection.h"
#include "fuzz_check.h"

namespace bpfnet::fuzz {

// The state dir: on tmpfs where there is one (every commit fsyncs), removed
// at exit. Never freed: the exit handler needs it after static destructors.
inline const std::string& state_dir() {
  static const std::string* const dir = [] {
    std::string base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    auto* path = new std::string(fmt::format("{}/bpfnet-fuzz-{}", base, ::getpid()));
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(state_dir(), ec);
    });
    return path;
  }();
  return *dir;
}

// Calls fn(line) for each line of an input: one request or call per line.
template <typename Fn>
void for_each_line(std::string_view input, Fn&& fn) {
  while (!input.empty()) {
    const size_t newline = input.find('\n');
    fn(input.substr(0, newline));
    input = newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  }
}

class ControllerWorld {
 public:
  ControllerWorld() {
    // The daemon logs every refusal on std::cerr: millions of lines here.
    static const bool quiet = (std::cerr.rdbuf(nullptr), true);
    (void)quiet;
    std::filesystem::remove(store.path());
    // Namespaces by name and by path, as bpfnetctl and Docker (SandboxKey) name them.
    plumbing.namespaces = {"c1",
                           "c2",
                           "c3",
                           "/var/run/netns/c1",
                           "/var/run/docker/netns/sb1",
                           "/var/run/docker/netns/sb2"};
    plumbing.addresses = {core::Ipv4::parse("192.0.2.1")};
    controller.load(std::nullopt);
    controller.set_datapath(datapath);
    controller.reconcile_all();
  }

  // The Controller's promises after one request (`refused`: it was
  // answered with an error), `before` being the state it started from:
  // - a refused request changes nothing;
  // - the state is valid (what the next start loads);
  // - the maps hold exactly the projection of the state (nothing stale,
  //   nothing missing).
  void check(const core::State& before, bool refused, std::string_view request) {
    const core::State& state = controller.state();
    if (refused) FUZZ_CHECK(state == before, "a refused request changed the state: {}", request);
    if (state == before) return;
    try {
      core::validate_state(state);
    } catch (const core::UserError& e) {
      broken("the state stays valid", fmt::format("{} after {}", e.what(), request));
    }
    datapath::HostFacts host;
    host.addresses = plumbing.addresses;
    FUZZ_CHECK(datapath.maps == datapath::project(state, controller.links(), host),
               "the maps are not the projection of the state after {}", request);
  }

  // After the last request: the state file holds the state (every change
  // was persisted; reading it back costs too much to do after each).
  void check_persisted(const core::State& initial) {
    std::optional<core::State> saved = store.load();
    FUZZ_CHECK(saved ? *saved == controller.state() : controller.state() == initial,
               "the state file differs from the state");
  }

  daemon::fakes::FakePlumbing plumbing;
  daemon::fakes::FakeDatapath datapath;
  daemon::fakes::FakeIds ids;
  daemon::StateStore store{state_dir()};
  daemon::Controller controller{store, plumbing, ids,
                                [] { return std::string("2024-05-01T12:00:00Z"); }};
};

}  // namespace bpfnet::fuzz
