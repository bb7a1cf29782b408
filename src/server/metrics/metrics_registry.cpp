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

}  // namespace

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
  family.series.push_back(Series{rendered, nullptr, nullptr, {}});
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

void MetricsRegistry::callback(const std::string& name, const std::string& help, MetricType type,
                               std::function<double()> read, const MetricLabels& labels) {
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

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP " + name + ' ' + escape(family.help, false) + '\n';
    out += "# TYPE " + name + (family.type == MetricType::kCounter ? " counter\n" : " gauge\n");
    for (const auto& series : family.series) {
      out += name + series.labels + ' ' + series_value(series) + '\n';
    }
  }
  return out;
}

}  // namespace atrium::server
