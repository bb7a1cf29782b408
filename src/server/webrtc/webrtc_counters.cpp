#include "server/webrtc/webrtc_counters.h"

#include <algorithm>
#include <string>
#include <vector>

namespace atrium::server {

void register_webrtc_metrics(MetricsRegistry& metrics, const WebRtcCounters& c, const MetricLabels& w) {
  metrics.gauge_callback(
      "atrium_webrtc_sessions", "WHIP and WHEP sessions open",
      [&c] { return static_cast<double>(c.sessions.load()); }, w);
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    metrics.callback(
        name, help, MetricType::kCounter, [&v] { return static_cast<double>(v.load()); }, w);
  };
  counter("atrium_udp_datagrams_received_total", "UDP datagrams received on the media port", c.datagrams_in);
  counter("atrium_udp_datagrams_sent_total", "UDP datagrams sent from the media port", c.datagrams_out);
  counter("atrium_udp_bytes_received_total", "UDP bytes received on the media port", c.bytes_in);
  counter("atrium_udp_bytes_sent_total", "UDP bytes sent from the media port", c.bytes_out);
  counter("atrium_udp_send_errors_total", "datagrams the kernel refused to send", c.send_errors);
  for (const auto& [transport, v] :
       {std::pair{"udp", &c.sessions_udp}, std::pair{"relay", &c.sessions_relay}}) {
    auto labels = w;
    labels.emplace_back("transport", transport);
    metrics.callback(
        "atrium_webrtc_sessions_by_transport",
        "media connections made, by path: udp (the client's own address) or relay (through a TURN server)",
        MetricType::kCounter, [count = v] { return static_cast<double>(count->load()); }, labels);
  }

  // One metric per name in the session table, the sum of the entries that name it (and, for datagrams
  // nobody could place, the port's unmatched ones).
  constexpr std::string_view kUnplaced = "atrium_udp_unknown_dropped_total";
  std::vector<std::string_view> done;
  for (const auto& info : webrtc::kSessionCounters) {
    if (info.metric.empty() || std::find(done.begin(), done.end(), info.metric) != done.end()) continue;
    done.push_back(info.metric);
    std::vector<const std::atomic<uint64_t>*> parts;
    for (size_t i = 0; i < webrtc::kSessionCounters.size(); ++i)
      if (webrtc::kSessionCounters[i].metric == info.metric) parts.push_back(&c.session[i]);
    if (info.metric == kUnplaced) parts.push_back(&c.unmatched);
    metrics.callback(
        std::string(info.metric), std::string(info.help), MetricType::kCounter,
        [parts] {
          uint64_t sum = 0;
          for (const auto* p : parts)
            sum += p->load(std::memory_order_relaxed);
          return static_cast<double>(sum);
        },
        w);
  }
}

void SessionCounterSync::sync(const void* session, const webrtc::WebRtcSessionStats& now) {
  auto& before = reported_[session];
  for (size_t i = 0; i < webrtc::kSessionCounters.size(); ++i) {
    const auto field = webrtc::kSessionCounters[i].field;
    if (now.*field > before.*field)
      totals_.session[i].fetch_add(now.*field - before.*field, std::memory_order_relaxed);
    before.*field = now.*field;
  }
}

}  // namespace atrium::server
