#include "server/webrtc/webrtc_counters.h"

namespace atrium::server {

void SessionCounterSync::sync(const void* session, const webrtc::WebRtcSessionStats& s) {
  auto& r = reported_[session];
  auto add = [](std::atomic<uint64_t>& total, uint64_t now_value, uint64_t& before) {
    if (now_value > before) total.fetch_add(now_value - before, std::memory_order_relaxed);
    before = now_value;
  };
  add(totals_.rtp_in, s.rtp_in, r.rtp_in);
  add(totals_.rtp_out, s.rtp_out, r.rtp_out);
  add(totals_.rtcp_in, s.rtcp_in, r.rtcp_in);
  add(totals_.rtcp_out, s.rtcp_out, r.rtcp_out);
  add(totals_.nacks_in, s.nacks_in, r.nacks_in);
  add(totals_.nack_resent, s.nack_resent, r.nack_resent);
  add(totals_.plis_in, s.plis_in, r.plis_in);
  add(totals_.plis_out, s.plis_out, r.plis_out);
  add(totals_.twcc_feedback_in, s.twcc_feedback_in, r.twcc_feedback_in);
  add(totals_.padding_out, s.padding_out, r.padding_out);
  add(totals_.remb_out, s.remb_out, r.remb_out);
  add(totals_.nacks_out, s.nacks_out, r.nacks_out);
  add(totals_.nack_duplicated, s.nack_duplicated, r.nack_duplicated);
  add(totals_.rtx_duplicates, s.rtx_duplicates, r.rtx_duplicates);
  add(totals_.srtp_failures, s.srtp_failures, r.srtp_failures);
  add(totals_.stun_bad_integrity, s.stun_bad_integrity, r.stun_bad_integrity);
  add(totals_.malformed, s.dropped_malformed + s.stun_malformed,
      r.dropped_malformed);  // r.dropped_malformed holds the sum
  add(totals_.unknown_dropped, s.dropped_unknown + s.dropped_unvalidated, r.dropped_unknown);
}

}  // namespace atrium::server
