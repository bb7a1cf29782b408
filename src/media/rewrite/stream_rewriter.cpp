#include "media/rewrite/stream_rewriter.h"

#include <algorithm>

namespace atrium::media {

int64_t StreamRewriter::shift_for(int64_t unwrapped) const {
  if (any_folded_ && unwrapped <= folded_floor_) return -1;
  const auto* begin = drops_.data() + drops_begin_;
  const auto* end = drops_.data() + drops_end_;
  const auto* at = std::lower_bound(begin, end, unwrapped);
  if (at != end && *at == unwrapped) return -1;  // the dropped packet itself (a retransmission)
  return folded_ + (at - begin);
}

void StreamRewriter::drop(uint16_t seq) {
  if (!started_ || switching_) return;
  if (guarding_switch_ && seq_newer(first_in_seq_, seq)) return;  // not part of this source's stream
  const int64_t u = in_seq_.unwrap(seq);
  if (any_folded_ && u <= folded_floor_) return;
  auto* begin = drops_.data() + drops_begin_;
  auto* end = drops_.data() + drops_end_;
  auto* at = std::lower_bound(begin, end, u);
  if (at != end && *at == u) return;
  if (drops_end_ - drops_begin_ == kMaxDrops) {  // full: the oldest becomes part of the constant shift
    folded_floor_ = std::max(folded_floor_, drops_[drops_begin_]);
    any_folded_ = true;
    ++folded_;
    ++drops_begin_;
    if (u <= folded_floor_) return;
  }
  if (drops_end_ == kMaxDrops) {  // compact to the front; drops are mostly appended, so this is rare
    std::copy(drops_.begin() + static_cast<ptrdiff_t>(drops_begin_), drops_.end(), drops_.begin());
    drops_end_ -= drops_begin_;
    drops_begin_ = 0;
  }
  begin = drops_.data() + drops_begin_;
  end = drops_.data() + drops_end_;
  at = std::lower_bound(begin, end, u);
  std::copy_backward(at, end, end + 1);
  *at = u;
  ++drops_end_;
}

bool StreamRewriter::rewrite(Micros now, uint32_t clock_rate, uint16_t& seq, uint32_t& timestamp) {
  if (switching_) {
    switching_ = false;
    guarding_switch_ = true;
    first_in_seq_ = seq;
    in_seq_.reset();
    drops_begin_ = drops_end_ = 0;
    folded_ = 0;
    folded_floor_ = -1;
    any_folded_ = false;
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
  int64_t shift = 0;
  const bool any_drops = any_folded_ || drops_end_ != drops_begin_;
  if (any_drops || in_seq_.started()) {
    const int64_t u = in_seq_.unwrap(seq);
    if (any_drops) {
      shift = shift_for(u);
      if (shift < 0) return false;
    }
  }
  const uint16_t out_seq = static_cast<uint16_t>(seq + seq_offset_ - static_cast<uint16_t>(shift));
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
