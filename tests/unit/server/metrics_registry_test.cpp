#include "server/metrics/metrics_registry.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

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

TEST(MetricsRegistry, HistogramBucketsAreCumulativeWithSumAndCount) {
  MetricsRegistry registry;
  auto& h = registry.histogram("atrium_wait_seconds", "Waits", {0.25, 0.5, 2});
  h.observe(0.125);
  h.observe(0.25);  // on a bound: that bucket (le is "less or equal")
  h.observe(0.375);
  h.observe(7);             // past the last bound: +Inf only
  h.observe(std::nan(""));  // ignored
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(registry.render(),
            "# HELP atrium_wait_seconds Waits\n"
            "# TYPE atrium_wait_seconds histogram\n"
            "atrium_wait_seconds_bucket{le=\"0.25\"} 2\n"
            "atrium_wait_seconds_bucket{le=\"0.5\"} 3\n"
            "atrium_wait_seconds_bucket{le=\"2\"} 3\n"
            "atrium_wait_seconds_bucket{le=\"+Inf\"} 4\n"
            "atrium_wait_seconds_sum 7.75\n"
            "atrium_wait_seconds_count 4\n");
}

TEST(MetricsRegistry, HistogramLabelsComeBeforeLe) {
  MetricsRegistry registry;
  auto& h = registry.histogram("h", "H", {1}, {{"worker", "0"}});
  EXPECT_EQ(&registry.histogram("h", "H", {1}, {{"worker", "0"}}), &h);
  h.observe(0.5);
  EXPECT_EQ(registry.render(),
            "# HELP h H\n"
            "# TYPE h histogram\n"
            "h_bucket{worker=\"0\",le=\"1\"} 1\n"
            "h_bucket{worker=\"0\",le=\"+Inf\"} 1\n"
            "h_sum{worker=\"0\"} 0.5\n"
            "h_count{worker=\"0\"} 1\n");
}

TEST(MetricsRegistry, HistogramRejectsBadBoundsAndConflicts) {
  MetricsRegistry registry;
  EXPECT_THROW(registry.histogram("a", "x", {}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("b", "x", {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("c", "x", {2, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("d", "x", {1, std::numeric_limits<double>::infinity()}),
               std::invalid_argument);
  registry.histogram("h", "x", {1, 2});
  EXPECT_THROW(registry.histogram("h", "x", {1, 3}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("h", "x"), std::invalid_argument);
  EXPECT_THROW(registry.callback("k", "x", MetricType::kHistogram, [] { return 0.0; }),
               std::invalid_argument);
}

TEST(MetricsRegistry, HistogramObservesFromManyThreads) {
  MetricsRegistry registry;
  auto& h = registry.histogram("h", "H", {0.5, 1.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i)
        h.observe(i % 2 == 0 ? 0.25 : 1.0);
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(h.count(), 40000u);
  EXPECT_EQ(h.bucket(0), 20000u);
  EXPECT_EQ(h.bucket(1), 20000u);
  EXPECT_DOUBLE_EQ(h.sum(), 25000.0);
}

}  // namespace
}  // namespace atrium::server
