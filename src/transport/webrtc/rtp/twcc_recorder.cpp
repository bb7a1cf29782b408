#include "transport/webrtc/rtp/twcc_recorder.h"

#include <algorithm>

namespace atrium::webrtc {

void TwccRecorder::on_packet(uint16_t transport_seq, media::Micros arrival) {
  if (pending_.capacity() == 0) {
    pending_.reserve(1024);
    scratch_.reserve(kMaxPerFeedback);
  }
  int64_t unwrapped;
  if (last_unwrapped_ < 0) {
    unwrapped = transport_seq;
  } else {
    const auto delta = static_cast<int16_t>(static_cast<uint16_t>(transport_seq - last_unwrapped_));
    unwrapped = last_unwrapped_ + delta;
  }
  if (unwrapped < 0) return;
  last_unwrapped_ = std::max(last_unwrapped_, unwrapped);
  if (pending_.size() >= 4096) pending_.erase(pending_.begin(), pending_.begin() + 1024);  // nobody flushes
  pending_.push_back({unwrapped, arrival});
}

size_t TwccRecorder::write_feedback(std::span<uint8_t> out, uint32_t sender_ssrc, uint32_t media_ssrc) {
  std::sort(pending_.begin(), pending_.end(),
            [](const Arrival& a, const Arrival& b) { return a.seq < b.seq; });
  scratch_.clear();
  size_t used = 0;
  int64_t last = -1;
  int64_t first = -1;
  for (; used < pending_.size() && scratch_.size() < kMaxPerFeedback; ++used) {
    const Arrival& a = pending_[used];
    if (a.seq < next_feedback_from_ || a.seq == last) continue;  // late or duplicate
    if (first < 0) first = a.seq;
    if (a.seq - first > 30000) break;  // one packet covers fewer than 65535 numbers; the rest go next time
    scratch_.push_back({static_cast<uint16_t>(a.seq), a.at});
    last = a.seq;
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  if (scratch_.empty()) return 0;
  // Arrivals must not go backwards by more than the format allows; reordering in the network does that only
  // by milliseconds, which the signed 16-bit delta carries.
  const size_t n = media::write_twcc_feedback(out, sender_ssrc, media_ssrc, fb_count_, scratch_);
  if (n == 0) return 0;
  ++fb_count_;
  ++feedbacks_;
  next_feedback_from_ = last + 1;
  return n;
}

}  // namespace atrium::webrtc
