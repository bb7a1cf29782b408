// What /metrics shows of SIP (docs/sip.md, "Metrics"): signalling counts copied from the user agent on
// worker 0, media counts added by the calls' workers. Atomics: the HTTP thread reads them.
#pragma once

#include <atomic>
#include <cstdint>

#include "server/metrics/metrics_registry.h"

namespace atrium::server {

struct SipCounters {
  std::atomic<int64_t> calls{0};    // live calls (answered or ringing)
  std::atomic<int64_t> dialogs{0};  // live + ended ones lingering for retransmissions
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> malformed{0};
  std::atomic<uint64_t> stray_acks{0};
  std::atomic<uint64_t> unknown_dialog{0};
  std::atomic<uint64_t> retransmissions_out{0};
  std::atomic<uint64_t> calls_started{0};
  std::atomic<uint64_t> calls_answered{0};
  std::atomic<uint64_t> ack_timeouts{0};
  std::atomic<uint64_t> auth_challenges{0};  // 401s (--sip-secret)
  std::atomic<uint64_t> auth_failures{0};    // wrong or malformed credentials
  std::atomic<uint64_t> refused_busy{0};     // --sip-max-calls
  std::atomic<uint64_t> refused_rate{0};     // --sip-rate-limit
  std::atomic<uint64_t> refused_address{0};  // --sip-allow
  std::atomic<uint64_t> refused_room{0};     // no such room name, bad SDP, no common codec, join refused
  std::atomic<uint64_t> rtp_in{0};
  std::atomic<uint64_t> rtp_out{0};
  std::atomic<uint64_t> rtp_wrong_address{0};  // RTP from anywhere but the address the SDP named
  std::atomic<uint64_t> rtp_dropped{0};        // malformed, unknown payload type, second SSRC
  std::atomic<uint64_t> transcoded{0};
  std::atomic<uint64_t> dtmf_digits{0};
};

void register_sip_metrics(MetricsRegistry& metrics, const SipCounters& c);

}  // namespace atrium::server
