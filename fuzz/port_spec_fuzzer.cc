// The `-p` grammar and its relatives (core/ports.h, core/service.h):
// `port add` / the config's "ports" specs, `port rm` selectors, protocol
// names and service ports.
//
// Invariants, whatever the text:
// - refusals are core::UserError, never another exception;
// - every PortRequest of a spec has a container port 1..65535 and a host
//   port range that is either 0-0 (ephemeral) or 1 <= first <= last;
// - a selector, a protocol and a service port print as text that parses
//   back to the same value.
#include <string>

#include "core/error.h"
#include "core/ports.h"
#include "core/service.h"
#include "fuzz_check.h"

namespace {

using namespace bpfnet;

template <typename Parse>
void refused_or(std::string_view text, Parse parse) {
  try {
    parse(text);
  } catch (const core::UserError&) {
  }
}

void check_spec(std::string_view text) {
  refused_or(text, [](std::string_view spec) {
    auto requests = core::parse_port_spec(spec);
    FUZZ_CHECK(!requests.empty(), "\"{}\" parsed to no port", spec);
    for (const core::PortRequest& r : requests) {
      FUZZ_CHECK(r.container_port != 0, "\"{}\": container port 0", spec);
      FUZZ_CHECK(r.ephemeral() ? r.host_port_last == 0 : r.host_port_first <= r.host_port_last,
                 "\"{}\": host ports {}-{}", spec, r.host_port_first, r.host_port_last);
    }
  });
}

void check_selector(std::string_view text) {
  refused_or(text, [](std::string_view spec) {
    core::PortSelector selector = core::parse_port_selector(spec);
    FUZZ_CHECK(selector.host_port != 0, "\"{}\": host port 0", spec);
    std::string printed = core::to_string(selector);
    FUZZ_CHECK(core::parse_port_selector(printed) == selector, "\"{}\" prints as \"{}\"", spec,
               printed);
  });
}

void check_proto(std::string_view text) {
  refused_or(text, [](std::string_view name) {
    core::Proto proto = core::parse_proto(name);
    FUZZ_CHECK(core::to_string(proto) == name, "protocol \"{}\" prints as {}", name,
               core::to_string(proto));
  });
}

void check_service_port(std::string_view text) {
  refused_or(text, [](std::string_view spec) {
    auto port = core::parse_service_port(spec);
    FUZZ_CHECK(port.second != 0, "service port \"{}\": port 0", spec);
    std::string printed = core::service_port_string(port);
    FUZZ_CHECK(core::parse_service_port(printed) == port, "service port \"{}\" prints as \"{}\"",
               spec, printed);
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = bpfnet::fuzz::as_text(data, size);
  check_spec(text);
  check_selector(text);
  check_proto(text);
  check_service_port(text);
  return 0;
}
