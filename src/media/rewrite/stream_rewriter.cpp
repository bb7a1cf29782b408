#include "media/rewrite/stream_rewriter.h"

#include <algorithm>

#include "media/rtp/seq.h"

namespace atrium::media {

bool StreamRewriter::rewrite(Micros now, uint32_t clock_rate, uint16_t& seq, uint32_t& timestamp) {
  if (switching_) {
    switching_ = false;
    guarding_switch_ = true;
    first_in_seq_ = seq;
    if (started_) {
      // Continue right after the last packet sent, and move the clock on by the time that passed (at least
      // one tick, so the receiver never sees two frames with one timestamp).
      const int64_t elapsed = std::max<int64_t>(0, now - max_out_time_);
      const uint32_t ticks = std::max<uint32_t>(1, static_cast<uint32_t>(elapsed * clock_rate / 1000000));
      seq_offset_ = static_cast<uint16_t>(max_out_seq_ + 1 - seq);
      ts_offset_ = max_out_ts_ + ticks - timestamp;
    } else {
      seq_offset_ = 0;
      ts_offset_ = 0;
    }
  } else if (guarding_switch_) {
    if (seq_newer(first_in_seq_, seq))
      return false;  // older than the switch point: the receiver has moved past it
    // Serial-number order only spans half the 16-bit space: once well past the switch point, stop comparing,
    // or after 32768 packets every new one would look "older" than the first.
    if (static_cast<uint16_t>(seq - first_in_seq_) > 0x4000) guarding_switch_ = false;
  }
  const uint16_t out_seq = static_cast<uint16_t>(seq + seq_offset_);
  const uint32_t out_ts = timestamp + ts_offset_;
  if (!started_ || seq_newer(out_seq, max_out_seq_)) {
    max_out_seq_ = out_seq;
    max_out_ts_ = out_ts;
    max_out_time_ = now;
  }
  started_ = true;
  seq = out_seq;
  timestamp = out_ts;
  return true;
}

}  // namespace atrium::media
