// Prometheus's text exposition format (version 0.0.4): metric families with
// HELP and TYPE lines, then one sample per label set. Pure formatting, so
// that what /metrics serves is unit-tested byte for byte. Hand-written: the
// format is a few lines of escaping, and Debian has no C++ Prometheus client.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bpfnet::core {

enum class MetricType { kCounter, kGauge };

struct MetricSample {
  std::vector<std::pair<std::string, std::string>> labels;  // name, value (any UTF-8)
  double value = 0;
};

struct MetricFamily {
  std::string name;  // [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in _total
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;

  MetricFamily& add(double value, std::vector<std::pair<std::string, std::string>> labels = {}) {
    samples.push_back({std::move(labels), value});
    return *this;
  }
};

// The families in order. Throws std::logic_error on a name that is not a
// valid metric or label name (a programming error: names are constants).
// Label values are escaped (backslash, double quote, newline), as are HELP
// texts (backslash, newline); integral values print without a fraction.
std::string render_metrics(const std::vector<MetricFamily>& families);

bool is_metric_name(std::string_view name);
bool is_label_name(std::string_view name);

}  // namespace bpfnet::core
