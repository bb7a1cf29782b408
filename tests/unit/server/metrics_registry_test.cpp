#include "server/metrics/metrics_registry.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include <gtest/gtest.h>

namespace atrium::server {
namespace {

TEST(MetricsRegistry, RendersHelpTypeAndValue) {
  MetricsRegistry registry;
  registry.gauge("atrium_workers", "Media worker threads").set(4);
  EXPECT_EQ(registry.render(),
            "# HELP atrium_workers Media worker threads\n"
            "# TYPE atrium_workers gauge\n"
            "atrium_workers 4\n");
}

TEST(MetricsRegistry, CountersAndLabelsShareOneFamily) {
  MetricsRegistry registry;
  auto& w0 = registry.counter("atrium_packets_total", "Packets", {{"worker", "0"}});
  auto& w1 = registry.counter("atrium_packets_total", "Packets", {{"worker", "1"}});
  w0.inc();
  w1.inc(41);
  // Registering the same series again returns the same counter.
  EXPECT_EQ(&registry.counter("atrium_packets_total", "Packets", {{"worker", "0"}}), &w0);
  EXPECT_EQ(registry.render(),
            "# HELP atrium_packets_total Packets\n"
            "# TYPE atrium_packets_total counter\n"
            "atrium_packets_total{worker=\"0\"} 1\n"
            "atrium_packets_total{worker=\"1\"} 41\n");
}

TEST(MetricsRegistry, FamiliesAreSortedByName) {
  MetricsRegistry registry;
  registry.gauge("b_metric", "B");
  registry.gauge("a_metric", "A");
  const auto text = registry.render();
  EXPECT_LT(text.find("a_metric"), text.find("b_metric"));
}

TEST(MetricsRegistry, CallbacksRunAtScrapeTimeAndCanBeReplaced) {
  MetricsRegistry registry;
  double rooms = 0;
  registry.gauge_callback("atrium_rooms", "Rooms", [&] { return rooms; });
  rooms = 3;
  EXPECT_NE(registry.render().find("atrium_rooms 3\n"), std::string::npos);
  registry.gauge_callback("atrium_rooms", "Rooms", [] { return 7.0; });
  EXPECT_NE(registry.render().find("atrium_rooms 7\n"), std::string::npos);
}

TEST(MetricsRegistry, ThrowingCallbackRendersNaN) {
  MetricsRegistry registry;
  registry.gauge_callback("bad", "Bad", []() -> double { throw std::runtime_error("x"); });
  EXPECT_NE(registry.render().find("bad NaN\n"), std::string::npos);
}

TEST(MetricsRegistry, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  registry.gauge("m", "line\\one\nline two", {{"room", "a\"b\\c\nd"}}).set(1);
  EXPECT_EQ(registry.render(),
            "# HELP m line\\\\one\\nline two\n"
            "# TYPE m gauge\n"
            "m{room=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsRegistry, RejectsBadNamesAndTypeConflicts) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.gauge("1abc", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("a-b", "x"), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  registry.counter("c", "x");
  EXPECT_THROW(registry.gauge("c", "x"), std::invalid_argument);
  EXPECT_TRUE(is_valid_metric_name("atrium:rate_5m"));
}

TEST(MetricsRegistry, ValueFormatting) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(-2), "-2");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_metric_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
}

TEST(MetricsRegistry, GaugeAddIsAtomic) {
  MetricsRegistry registry;
  auto& gauge = registry.gauge("g", "G");
  gauge.add(1.5);
  gauge.add(-0.5);
  EXPECT_DOUBLE_EQ(gauge.value(), 1.0);
}

}  // namespace
}  // namespace atrium::server
