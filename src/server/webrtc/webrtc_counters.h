// The WebRTC runtime's per-worker counters, read by /metrics from the HTTP thread, and how a session's own
// counters reach them.
#pragma once

#include <atomic>
#include <cstdint>
#include <unordered_map>

#include "transport/webrtc/session/webrtc_session.h"

namespace atrium::server {

struct WebRtcCounters {
  std::atomic<int64_t> sessions{0};
  std::atomic<uint64_t> datagrams_in{0}, datagrams_out{0}, bytes_in{0}, bytes_out{0};
  std::atomic<uint64_t> rtp_in{0}, rtp_out{0}, rtcp_in{0}, rtcp_out{0};
  std::atomic<uint64_t> nacks_in{0}, nack_resent{0}, plis_in{0}, plis_out{0};
  std::atomic<uint64_t> twcc_feedback_in{0}, padding_out{0}, remb_out{0}, nacks_out{0}, nack_duplicated{0};
  std::atomic<uint64_t> rtx_duplicates{0};
  std::atomic<uint64_t> srtp_failures{0}, stun_bad_integrity{0}, malformed{0};
  std::atomic<uint64_t> unknown_dropped{0};  // matched no session, or a session could not place it
  std::atomic<uint64_t> send_errors{0};
};

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
