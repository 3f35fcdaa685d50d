// render_metrics: Prometheus's text format, byte for byte.
#include "core/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace bpfnet::core {
namespace {

TEST(PrometheusTest, FamiliesWithHelpTypeAndLabels) {
  MetricFamily drops{"bpfnet_drops_total", "Packets dropped, by reason.", MetricType::kCounter, {}};
  drops.add(3, {{"reason", "isolation"}}).add(0, {{"reason", "martian"}});
  MetricFamily ct{"bpfnet_conntrack_entries", "Conntrack entries.", MetricType::kGauge, {}};
  ct.add(12);
  EXPECT_EQ(render_metrics({drops, ct}),
            "# HELP bpfnet_drops_total Packets dropped, by reason.\n"
            "# TYPE bpfnet_drops_total counter\n"
            "bpfnet_drops_total{reason=\"isolation\"} 3\n"
            "bpfnet_drops_total{reason=\"martian\"} 0\n"
            "# HELP bpfnet_conntrack_entries Conntrack entries.\n"
            "# TYPE bpfnet_conntrack_entries gauge\n"
            "bpfnet_conntrack_entries 12\n");
}

TEST(PrometheusTest, EscapesLabelValuesAndHelp) {
  MetricFamily f{"m", "a \\ b\nc \"q\"", MetricType::kGauge, {}};
  f.add(1, {{"container", "we\"ird\\na\nme"}, {"network", "n"}});
  EXPECT_EQ(render_metrics({f}),
            "# HELP m a \\\\ b\\nc \"q\"\n# TYPE m gauge\n"
            "m{container=\"we\\\"ird\\\\na\\nme\",network=\"n\"} 1\n");
}

TEST(PrometheusTest, NumbersAsPrometheusParsesThem) {
  MetricFamily f{"m", "h", MetricType::kGauge, {}};
  f.add(0.25).add(18446744073709551615.0).add(NAN).add(INFINITY).add(-2);
  EXPECT_EQ(render_metrics({f}),
            "# HELP m h\n# TYPE m gauge\nm 0.25\nm 1.8446744073709552e+19\nm NaN\nm +Inf\nm -2\n");
}

TEST(PrometheusTest, InvalidNamesAreProgrammingErrors) {
  EXPECT_TRUE(is_metric_name("bpfnet:x_1"));
  EXPECT_FALSE(is_metric_name("1x"));
  EXPECT_FALSE(is_metric_name("a-b"));
  EXPECT_FALSE(is_label_name("__name"));
  EXPECT_FALSE(is_label_name("a:b"));
  MetricFamily bad{"bad-name", "h", MetricType::kGauge, {}};
  EXPECT_THROW(render_metrics({bad}), std::logic_error);
  MetricFamily bad_label{"ok", "h", MetricType::kGauge, {}};
  bad_label.add(1, {{"x-y", "v"}});
  EXPECT_THROW(render_metrics({bad_label}), std::logic_error);
}

}  // namespace
}  // namespace bpfnet::core
