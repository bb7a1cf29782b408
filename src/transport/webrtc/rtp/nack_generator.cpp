#include "transport/webrtc/rtp/nack_generator.h"

#include <algorithm>

namespace atrium::webrtc {

NackGenerator::NackGenerator(const NackGeneratorConfig& cfg) : cfg_(cfg) {}

bool NackGenerator::on_packet(uint16_t seq, media::Micros now) {
  // Reserved by the first packet, not the constructor: a session's receivers that never get media (an SDK
  // client allocates several up front) cost nothing; afterwards the list never reallocates.
  if (missing_.capacity() == 0) missing_.reserve(cfg_.max_missing);
  const bool first = !unwrap_.started();
  const int64_t s = unwrap_.unwrap(seq);
  if (first) {
    highest_ = s;
    return true;
  }
  if (s <= highest_) {
    // Late or repaired: no longer missing.
    if (auto it = find_missing(s); it != missing_.end()) {
      missing_.erase(it);
      ++recovered_;
    }
    return true;
  }
  const int64_t gap = s - highest_ - 1;
  highest_ = s;
  if (gap == 0) return true;
  if (static_cast<size_t>(gap) > cfg_.max_missing) {
    given_up_ += missing_.size() + static_cast<uint64_t>(gap);
    missing_.clear();
    return false;
  }
  // Make room by dropping the oldest, which are the least likely to be useful.
  const size_t room = cfg_.max_missing - missing_.size();
  if (static_cast<size_t>(gap) > room) {
    const size_t drop = static_cast<size_t>(gap) - room;
    given_up_ += drop;
    missing_.erase(missing_.begin(), missing_.begin() + static_cast<std::ptrdiff_t>(drop));
  }
  for (int64_t m = s - gap; m < s; ++m)
    missing_.push_back({m, now, 0, 0});
  return true;
}

bool NackGenerator::is_duplicate(uint16_t seq) const {
  if (!unwrap_.started()) return false;
  const int64_t s = unwrap_.peek(seq);
  if (s > highest_) return false;
  return find_missing(s) == missing_.end();
}

std::vector<NackGenerator::Missing>::const_iterator NackGenerator::find_missing(int64_t seq) const {
  auto it = std::lower_bound(missing_.begin(), missing_.end(), seq,
                             [](const Missing& m, int64_t v) { return m.seq < v; });
  return it != missing_.end() && it->seq == seq ? it : missing_.end();
}

size_t NackGenerator::poll(media::Micros now, std::span<uint16_t> out) {
  const media::Micros interval = std::max(cfg_.min_retry_interval, rtt_ + rtt_ / 2);
  size_t n = 0;
  size_t keep = 0;
  for (size_t i = 0; i < missing_.size(); ++i) {
    Missing m = missing_[i];
    if (m.retries >= cfg_.max_retries || now - m.noticed > cfg_.max_age) {
      ++given_up_;
      continue;
    }
    const bool due = m.retries == 0 ? now - m.noticed >= cfg_.reorder_wait : now - m.last_asked >= interval;
    if (due && n < out.size()) {
      out[n++] = static_cast<uint16_t>(m.seq);
      m.last_asked = now;
      ++m.retries;
    }
    missing_[keep++] = m;
  }
  missing_.resize(keep);
  return n;
}

}  // namespace atrium::webrtc
