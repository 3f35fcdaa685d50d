#include "store/store_url.h"

#include <fmt/format.h>

#include "core/error.h"
#include "core/numbers.h"

namespace bpfnet::store {

std::vector<std::string> parse_store_url(std::string_view url) {
  auto invalid = [&] {
    return core::UserError(fmt::format(
        "invalid store address \"{}\": expected etcd://HOST[:PORT][,HOST[:PORT]...]", url));
  };
  constexpr std::string_view kScheme = "etcd://";
  if (url.substr(0, kScheme.size()) != kScheme) throw invalid();
  std::string_view rest = url.substr(kScheme.size());
  std::vector<std::string> endpoints;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item.empty() || item.find_first_of("/ ") != std::string_view::npos) throw invalid();
    size_t colon = item.rfind(':');
    if (colon == std::string_view::npos) {
      endpoints.push_back(std::string(item) + ":2379");
    } else {
      auto port = core::parse_decimal(item.substr(colon + 1), 65535);
      if (colon == 0 || !port || *port == 0) throw invalid();
      endpoints.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return endpoints;
}

}  // namespace bpfnet::store
