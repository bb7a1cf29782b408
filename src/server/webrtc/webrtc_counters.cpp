#include "server/webrtc/webrtc_counters.h"

#include <algorithm>
#include <string>
#include <vector>

namespace atrium::server {

namespace {

void register_tcp_metrics(MetricsRegistry& metrics, const WebRtcCounters::Tcp& t, const MetricLabels& w) {
  auto gauge = [&](const char* name, const char* help, const std::atomic<int64_t>& v) {
    metrics.gauge_callback(
        name, help, [&v] { return static_cast<double>(v.load()); }, w);
  };
  gauge("atrium_tcp_connections", "ICE-TCP media connections open", t.open);
  gauge("atrium_tcp_pending_connections", "ICE-TCP connections not matched to a session yet", t.pending);
  gauge("atrium_tcp_queued_bytes", "bytes waiting in the ICE-TCP connections' send queues", t.queued_bytes);
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    metrics.counter_of(name, help, v, w);
  };
  counter("atrium_tcp_connections_accepted_total", "ICE-TCP connections accepted", t.accepted);
  counter("atrium_tcp_connections_refused_total",
          "ICE-TCP connections closed at accept: over --tcp-max-connections, --tcp-max-pending or "
          "--tcp-max-pending-per-address",
          t.refused);
  counter("atrium_tcp_connections_timed_out_total",
          "ICE-TCP connections closed for not being matched to a session within --tcp-pending-timeout",
          t.timed_out);
  counter(
      "atrium_tcp_connections_malformed_total",
      "ICE-TCP connections closed for a frame over the maximum length or a first frame that is not a STUN "
      "binding request",
      t.malformed);
  counter("atrium_tcp_connections_unmatched_total",
          "ICE-TCP connections closed because their first check named no session", t.unmatched);
  counter("atrium_tcp_connections_unauthorized_total",
          "ICE-TCP connections closed because their first check failed MESSAGE-INTEGRITY", t.unauthorized);
  counter("atrium_tcp_bytes_received_total", "bytes received on ICE-TCP connections", t.bytes_in);
  counter("atrium_tcp_bytes_sent_total", "bytes written to ICE-TCP connections", t.bytes_out);
  counter("atrium_tcp_bytes_queued_total", "framed bytes accepted into ICE-TCP send queues", t.bytes_queued);
  counter("atrium_tcp_frames_dropped_total",
          "video/audio frames dropped whole because an ICE-TCP send queue was over half full",
          t.frames_dropped);
  counter("atrium_tcp_frames_cut_total",
          "frames whose tail was dropped because a full ICE-TCP send queue could not take it", t.frames_cut);
  counter("atrium_tcp_packets_dropped_total", "RTP packets dropped by ICE-TCP send queues",
          t.packets_dropped);
  counter("atrium_tcp_other_dropped_total",
          "STUN, DTLS and RTCP datagrams dropped because an ICE-TCP send queue was full", t.other_dropped);
}

}  // namespace

void register_webrtc_metrics(MetricsRegistry& metrics, const WebRtcCounters& c, const MetricLabels& w) {
  metrics.gauge_callback(
      "atrium_webrtc_sessions", "WHIP and WHEP sessions open",
      [&c] { return static_cast<double>(c.sessions.load()); }, w);
  auto counter = [&](const char* name, const char* help, const std::atomic<uint64_t>& v) {
    metrics.counter_of(name, help, v, w);
  };
  counter("atrium_udp_datagrams_received_total", "UDP datagrams received on the media port", c.datagrams_in);
  counter("atrium_udp_datagrams_sent_total", "UDP datagrams sent from the media port", c.datagrams_out);
  counter("atrium_udp_bytes_received_total", "UDP bytes received on the media port", c.bytes_in);
  counter("atrium_udp_bytes_sent_total", "UDP bytes sent from the media port", c.bytes_out);
  counter("atrium_udp_send_errors_total", "datagrams the kernel refused to send", c.send_errors);
  for (const auto& [transport, v] : {std::pair{"udp", &c.sessions_udp}, std::pair{"relay", &c.sessions_relay},
                                     std::pair{"tcp", &c.sessions_tcp}}) {
    auto labels = w;
    labels.emplace_back("transport", transport);
    metrics.callback(
        "atrium_webrtc_sessions_by_transport",
        "media connections made, by path: udp (the client's own address), tcp (ICE-TCP to our passive "
        "candidate) or relay (through a TURN server)",
        MetricType::kCounter, [count = v] { return static_cast<double>(count->load()); }, labels);
  }
  register_tcp_metrics(metrics, c.tcp, w);

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
