// Named counters, gauges and histograms, rendered in the Prometheus text exposition format (version 0.0.4)
// for GET /metrics. Modules add theirs with one line:
//   auto& sent = registry.counter("atrium_rtp_packets_sent_total", "RTP packets sent", {{"worker", "0"}});
//   sent.inc();                                              // hot path: one relaxed atomic add
//   registry.gauge_callback("atrium_rooms", "Rooms on this node", [&] { return double(rooms.load()); });
//   auto& wait = registry.histogram("atrium_wait_seconds", "Waits", {0.1, 0.5, 1});
//   wait.observe(0.3);                                       // a few relaxed atomic adds
// Registration takes a lock and may allocate; updating a counter, gauge or histogram never does. Callbacks
// run at scrape time on the HTTP thread, so they must only read thread-safe state (atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace atrium::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by) { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets: upper bounds given once, strictly ascending and finite, plus the
// +Inf bucket. observe() finds the bucket by a linear search over the bounds (a dozen or so) and does two
// relaxed atomic adds; it never allocates or locks. A scrape may see an observation in count but not yet in
// sum.
class Histogram {
 public:
  // Throws std::invalid_argument for bounds that are empty, not finite or not strictly ascending.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // NaN is ignored; anything above the last bound lands in +Inf.
  void observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size() is +Inf.
  std::uint64_t bucket(std::size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  std::uint64_t count() const;  // every bucket
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  // The same name and labels return the same object, so registering twice is harmless. A name registered with
  // another type, or a name/label that Prometheus would reject, throws std::invalid_argument (a programming
  // error).
  Counter& counter(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const MetricLabels& labels = {});
  // Rendered as <name>_bucket{le="..."} (cumulative), <name>_sum and <name>_count. The same series registered
  // again must have the same bounds.
  Histogram& histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                       const MetricLabels& labels = {});
  // A series whose value is computed at scrape time.
  void callback(const std::string& name, const std::string& help, MetricType type,
                std::function<double()> read, const MetricLabels& labels = {});
  void gauge_callback(const std::string& name, const std::string& help, std::function<double()> read,
                      const MetricLabels& labels = {}) {
    callback(name, help, MetricType::kGauge, std::move(read), labels);
  }
  // A counter the runtime keeps in an atomic (which must outlive the registry's scrapes).
  void counter_of(const std::string& name, const std::string& help, const std::atomic<uint64_t>& value,
                  const MetricLabels& labels = {}) {
    callback(
        name, help, MetricType::kCounter, [&value] { return static_cast<double>(value.load()); }, labels);
  }

  // The whole registry in text exposition format, families in name order.
  std::string render() const;

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  struct Series {
    std::string labels;  // already rendered: {a="b",c="d"} or empty
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Histogram* histogram = nullptr;
    std::function<double()> read;
  };
  struct Family {
    std::string help;
    MetricType type;
    std::vector<Series> series;
  };

  static std::string series_value(const Series& series);
  static void render_histogram(std::string& out, const std::string& name, const Series& series);
  Series& series_for(const std::string& name, const std::string& help, MetricType type,
                     const MetricLabels& labels);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
  std::deque<Counter> counters_;  // deque: references stay valid as it grows
  std::deque<Gauge> gauges_;
  std::deque<Histogram> histograms_;
};

// Helpers shared with the tests.
bool is_valid_metric_name(const std::string& name);
std::string format_metric_value(double value);

}  // namespace atrium::server
