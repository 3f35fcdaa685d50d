#include "core/prometheus.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace bpfnet::core {
namespace {

bool name_char(char c, bool first, bool colon) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool is_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon)) return false;
  return true;
}

std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quotes && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

}  // namespace

bool is_metric_name(std::string_view name) { return is_name(name, /*colon=*/true); }
bool is_label_name(std::string_view name) {
  return is_name(name, /*colon=*/false) && !name.starts_with("__");
}

std::string render_metrics(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const MetricFamily& family : families) {
    if (!is_metric_name(family.name))
      throw std::logic_error("invalid metric name \"" + family.name + "\"");
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, escape(family.help, false),
                       family.name, family.type == MetricType::kCounter ? "counter" : "gauge");
    for (const MetricSample& sample : family.samples) {
      out += family.name;
      if (!sample.labels.empty()) {
        out += '{';
        for (size_t i = 0; i < sample.labels.size(); ++i) {
          const auto& [label, value] = sample.labels[i];
          if (!is_label_name(label))
            throw std::logic_error("invalid label name \"" + label + "\" of " + family.name);
          out += fmt::format("{}{}=\"{}\"", i ? "," : "", label, escape(value, true));
        }
        out += '}';
      }
      out += ' ' + number(sample.value) + '\n';
    }
  }
  return out;
}

}  // namespace bpfnet::core
