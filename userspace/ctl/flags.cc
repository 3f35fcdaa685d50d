#include "ctl/flags.h"

#include <fmt/format.h>

namespace bpfnet::ctl {
namespace {

// The (registered but undocumented) option that collects positional arguments.
constexpr const char* kPositional = "@positional";

Output parse_output(const std::string& value, std::string_view context) {
  if (value == "table") return Output::kTable;
  if (value == "json") return Output::kJson;
  throw UsageError(with_context(
      context, fmt::format("invalid output format \"{}\": expected \"table\" or \"json\"", value)));
}

}  // namespace

std::string with_context(std::string_view context, std::string_view message) {
  if (context.empty()) return std::string(message);
  return fmt::format("{}: {}", context, message);
}

std::string_view FlagSpec::long_name() const {
  const std::string_view from_long = head.substr(head.find("--") + 2);
  return from_long.substr(0, from_long.find(' '));
}

std::string_view FlagSpec::short_name() const {
  return head.starts_with("--") ? std::string_view() : head.substr(1, 1);
}

bool FlagSpec::takes_value() const {
  return head.find(' ', head.find("--")) != std::string_view::npos;
}

void add_flags(po::options_description& options, std::span<const FlagSpec> flags) {
  for (const FlagSpec& flag : flags) {
    std::string names(flag.long_name());
    if (!flag.short_name().empty())
      fmt::format_to(std::back_inserter(names), ",{}", flag.short_name());
    if (!flag.takes_value()) {
      options.add_options()(names.c_str(), po::bool_switch());
    } else if (flag.occurs == FlagSpec::kRepeatable) {
      options.add_options()(names.c_str(), po::value<std::vector<std::string>>());
    } else {
      options.add_options()(names.c_str(), po::value<std::string>());
    }
  }
}

UsageError usage_from(const po::error& e, std::string_view context) {
  if (const auto* u = dynamic_cast<const po::unknown_option*>(&e)) {
    return UsageError(with_context(context, "unknown flag: " + u->get_option_name()));
  }
  if (const auto* s = dynamic_cast<const po::invalid_command_line_syntax*>(&e)) {
    switch (s->kind()) {
      case po::invalid_syntax::missing_parameter:
        return UsageError(with_context(context, "flag needs an argument: " + s->get_option_name()));
      case po::invalid_syntax::empty_adjacent_parameter:
        return UsageError(
            with_context(context, "flag " + s->get_option_name() + " needs a non-empty value"));
      case po::invalid_syntax::extra_parameter:
        return UsageError(
            with_context(context, "flag " + s->get_option_name() + " does not take a value"));
      default:
        break;
    }
  }
  if (const auto* m = dynamic_cast<const po::multiple_occurrences*>(&e)) {
    return UsageError(
        with_context(context, "flag " + m->get_option_name() + " given more than once"));
  }
  return UsageError(with_context(context, e.what()));
}

ParsedArgs parse_args(const std::vector<std::string>& args, const po::options_description& flags,
                      std::string_view context) {
  po::options_description all;
  all.add(flags);
  all.add_options()(kPositional, po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add(kPositional, -1);
  ParsedArgs parsed;
  try {
    po::store(
        po::command_line_parser(args).options(all).positional(positional).style(kFlagStyle).run(),
        parsed.vm);
    po::notify(parsed.vm);
  } catch (const po::error& e) {
    throw usage_from(e, context);
  }
  if (parsed.vm.count(kPositional) != 0) {
    parsed.positional = parsed.vm[kPositional].as<std::vector<std::string>>();
  }
  return parsed;
}

std::optional<std::string> string_flag(const po::variables_map& vm, const std::string& key,
                                       std::string_view context) {
  if (vm.count(key) == 0) return std::nullopt;
  std::string value = vm[key].as<std::string>();
  if (value.empty()) {
    throw UsageError(with_context(context, fmt::format("flag --{} needs a non-empty value", key)));
  }
  return value;
}

void apply_common_flags(const po::variables_map& vm, Command& cmd, std::string_view context) {
  if (auto socket = string_flag(vm, "socket", context)) cmd.socket_path = *socket;
  std::optional<Output> output;
  std::optional<Output> format;
  if (vm.count("output") != 0) output = parse_output(vm["output"].as<std::string>(), context);
  if (vm.count("format") != 0) format = parse_output(vm["format"].as<std::string>(), context);
  if (output && format && *output != *format) {
    throw UsageError(with_context(context, "flags --output and --format disagree"));
  }
  if (output) cmd.output = *output;
  if (format) cmd.output = *format;
}

bool wants_help(const po::variables_map& vm) {
  return vm.count("help") != 0 && vm["help"].as<bool>();
}

Request VerbArgs::request(std::string target) const {
  return Request{row_.call.op, Json::object(), std::move(target)};
}

std::optional<std::string> VerbArgs::string(const std::string& key) const {
  return string_flag(parsed_.vm, key, row_.name);
}

std::string VerbArgs::required(const std::string& key) const {
  auto value = string(key);
  if (!value) throw error("missing required flag --" + key);
  return *value;
}

std::vector<std::string> VerbArgs::list(const std::string& key) const {
  if (!given(key)) return {};
  std::vector<std::string> values = parsed_.vm[key].as<std::vector<std::string>>();
  for (const std::string& v : values) {
    if (v.empty()) throw error(fmt::format("flag --{} needs a non-empty value", key));
  }
  return values;
}

bool VerbArgs::on(const std::string& key) const { return parsed_.vm[key].as<bool>(); }

bool VerbArgs::given(const std::string& key) const { return parsed_.vm.count(key) != 0; }

UsageError VerbArgs::error(std::string_view message) const {
  return UsageError(with_context(row_.name, message));
}

UsageError VerbArgs::invalid(std::string_view flag, std::string_view value,
                             std::string_view expected) const {
  return error(fmt::format("invalid --{} \"{}\": {}", flag, value, expected));
}

}  // namespace bpfnet::ctl
