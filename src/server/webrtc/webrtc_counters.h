// The WebRTC runtime's per-worker counters, read by /metrics from the HTTP thread, and how a session's own
// counters reach them. The session counters come from one table (webrtc/session/session_counters.h): the
// worker keeps one total per entry, and register_webrtc_metrics() exports each metric the table names.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "server/metrics/metrics_registry.h"
#include "transport/webrtc/session/session_counters.h"

namespace atrium::server {

struct WebRtcCounters {
  std::atomic<int64_t> sessions{0};
  // Counted by the UDP port on the socket.
  std::atomic<uint64_t> datagrams_in{0}, datagrams_out{0}, bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> send_errors{0};
  std::atomic<uint64_t> unmatched{0};  // datagrams that matched no session
  // What every session of the worker counted, one total per webrtc::kSessionCounters entry.
  std::array<std::atomic<uint64_t>, webrtc::kSessionCounters.size()> session{};
  // atrium_viewer_first_video_seconds, shared by every worker (set by WebRtcService; null: not counted).
  Histogram* first_video = nullptr;
  // Sessions whose media connected, by the path of their nominated pair (SessionRuntime::note_transport).
  std::atomic<uint64_t> sessions_udp{0}, sessions_relay{0}, sessions_tcp{0};
  // ICE-TCP (TcpPort): connections by fate, and the send queues' drops (TcpSendQueue's policy).
  struct Tcp {
    std::atomic<int64_t> open{0}, pending{0};  // gauges: connections open, and those not matched yet
    std::atomic<int64_t> queued_bytes{0};      // gauge: bytes waiting in the send queues
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> refused{0};    // over --tcp-max-connections, --tcp-max-pending(-per-address)
    std::atomic<uint64_t> timed_out{0};  // not matched within --tcp-pending-timeout
    std::atomic<uint64_t> malformed{0};  // a frame length over the maximum, or a first frame that is no check
    std::atomic<uint64_t> unmatched{0};  // a first check whose USERNAME names no session
    std::atomic<uint64_t> unauthorized{0};  // a first check the session did not authenticate
    std::atomic<uint64_t> bytes_in{0}, bytes_out{0}, bytes_queued{0};
    std::atomic<uint64_t> frames_dropped{0}, frames_cut{0}, packets_dropped{0}, other_dropped{0};
  } tcp;
};

// Bucket bounds of atrium_viewer_first_video_seconds: from a viewer's media connect (ICE and DTLS done) to
// its first video packet sent, i.e. mostly the wait for the publisher's next key frame.
inline const std::vector<double> kFirstVideoBuckets = {0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10};

// The worker's counters as Prometheus metrics, labelled with the worker.
void register_webrtc_metrics(MetricsRegistry& metrics, const WebRtcCounters& c, const MetricLabels& worker);

// Adds what each session counted since it was last synced to the worker's totals (on every tick, and once
// more when the session goes).
class SessionCounterSync {
 public:
  explicit SessionCounterSync(WebRtcCounters& totals) : totals_(totals) {}

  void sync(const void* session, const webrtc::WebRtcSessionStats& now);
  void forget(const void* session) { reported_.erase(session); }

 private:
  WebRtcCounters& totals_;
  // What each session's counters were when last added to the totals.
  std::unordered_map<const void*, webrtc::WebRtcSessionStats> reported_;
};

}  // namespace atrium::server
