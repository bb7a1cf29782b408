#include "server/metrics/metrics_registry.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace atrium::server {
namespace {

bool is_name_char(char c, bool first, bool allow_colon) {
  const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  const bool digit = c >= '0' && c <= '9';
  return letter || (allow_colon && c == ':') || (!first && digit);
}

bool is_valid_name(const std::string& name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!is_name_char(name[i], i == 0, allow_colon)) return false;
  }
  return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string escape(const std::string& text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render_labels(const MetricLabels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& [key, value] = labels[i];
    if (!is_valid_name(key, false) || key.starts_with("__")) {
      throw std::invalid_argument("invalid metric label name: " + key);
    }
    if (i > 0) out += ',';
    out += key + "=\"" + escape(value, true) + '"';
  }
  return out + '}';
}

// A histogram series' labels with le="bound" added last.
std::string with_le(const std::string& labels, const std::string& le) {
  const std::string pair = "le=\"" + le + '"';
  if (labels.empty()) return '{' + pair + '}';
  return labels.substr(0, labels.size() - 1) + ',' + pair + '}';
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  if (bounds_.empty()) throw std::invalid_argument("a histogram needs at least one bucket bound");
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1]))
      throw std::invalid_argument("histogram bounds must be finite and strictly ascending");
  }
}

void Histogram::observe(double value) {
  if (std::isnan(value)) return;
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i])
    ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::uint64_t Histogram::count() const {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i)
    n += bucket(i);
  return n;
}

bool is_valid_metric_name(const std::string& name) {
  return is_valid_name(name, true);
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
  return std::string(buffer, result.ptr);
}

MetricsRegistry::Series& MetricsRegistry::series_for(const std::string& name, const std::string& help,
                                                     MetricType type, const MetricLabels& labels) {
  if (!is_valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  const std::string rendered = render_labels(labels);
  auto [it, inserted] = families_.try_emplace(name, Family{help, type, {}});
  Family& family = it->second;
  if (family.type != type) throw std::invalid_argument("metric " + name + " registered with another type");
  for (auto& series : family.series) {
    if (series.labels == rendered) return series;
  }
  family.series.push_back(Series{rendered, nullptr, nullptr, nullptr, {}});
  return family.series.back();
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = series_for(name, help, MetricType::kCounter, labels);
  if (series.read) throw std::invalid_argument("metric " + name + " is already a callback");
  if (!series.counter) series.counter = &counters_.emplace_back();
  return *series.counter;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = series_for(name, help, MetricType::kGauge, labels);
  if (series.read) throw std::invalid_argument("metric " + name + " is already a callback");
  if (!series.gauge) series.gauge = &gauges_.emplace_back();
  return *series.gauge;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const std::vector<double>& bounds, const MetricLabels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = series_for(name, help, MetricType::kHistogram, labels);
  if (series.histogram) {
    if (series.histogram->bounds() != bounds)
      throw std::invalid_argument("histogram " + name + " registered again with other bounds");
    return *series.histogram;
  }
  series.histogram = &histograms_.emplace_back(bounds);
  return *series.histogram;
}

void MetricsRegistry::callback(const std::string& name, const std::string& help, MetricType type,
                               std::function<double()> read, const MetricLabels& labels) {
  if (type == MetricType::kHistogram)
    throw std::invalid_argument("histogram " + name + " cannot be a callback");
  std::lock_guard lock(mutex_);
  Series& series = series_for(name, help, type, labels);
  if (series.counter || series.gauge)
    throw std::invalid_argument("metric " + name + " already holds a value");
  series.read =
      std::move(read);  // registering again replaces the callback (how the lead wires the core later)
}

std::string MetricsRegistry::series_value(const Series& series) {
  if (series.counter) return std::to_string(series.counter->value());  // exact, even past 2^53
  if (series.gauge) return format_metric_value(series.gauge->value());
  if (!series.read) return "0";
  try {
    return format_metric_value(series.read());
  } catch (...) {
    return "NaN";  // a failing collector must not break the whole scrape
  }
}

void MetricsRegistry::render_histogram(std::string& out, const std::string& name, const Series& series) {
  const Histogram& h = *series.histogram;
  // One read of every bucket, so that the cumulative buckets, +Inf and _count agree.
  std::vector<std::uint64_t> counts(h.bounds().size() + 1);
  for (std::size_t i = 0; i < counts.size(); ++i)
    counts[i] = h.bucket(i);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le = i < h.bounds().size() ? format_metric_value(h.bounds()[i]) : "+Inf";
    out += name + "_bucket" + with_le(series.labels, le) + ' ' + std::to_string(cumulative) + '\n';
  }
  out += name + "_sum" + series.labels + ' ' + format_metric_value(h.sum()) + '\n';
  out += name + "_count" + series.labels + ' ' + std::to_string(cumulative) + '\n';
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == MetricType::kCounter ? " counter\n"
                       : family.type == MetricType::kGauge ? " gauge\n"
                                                           : " histogram\n";
    out += "# HELP " + name + ' ' + escape(family.help, false) + '\n';
    out += "# TYPE " + name + type;
    for (const auto& series : family.series) {
      if (series.histogram) {
        render_histogram(out, name, series);
      } else {
        out += name + series.labels + ' ' + series_value(series) + '\n';
      }
    }
  }
  return out;
}

}  // namespace atrium::server
