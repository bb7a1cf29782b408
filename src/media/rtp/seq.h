// Serial-number arithmetic for RTP sequence numbers and timestamps (RFC 3550 A.1), and unwrapping into 64
// bits.
#pragma once

#include <cstdint>
#include <type_traits>

namespace atrium::media {

// Is a newer than b in 16-bit serial order? Exactly half the space apart is broken by the larger raw value,
// so for a != b exactly one of seq_newer(a, b) and seq_newer(b, a) holds.
constexpr bool seq_newer(uint16_t a, uint16_t b) {
  const auto d = static_cast<uint16_t>(a - b);
  if (d == 0x8000) return a > b;
  return d != 0 && d < 0x8000;
}

// The same for 32-bit RTP timestamps.
constexpr bool ts_newer(uint32_t a, uint32_t b) {
  const uint32_t d = a - b;
  if (d == 0x80000000u) return a > b;
  return d != 0 && d < 0x80000000u;
}

// Turns a wrapping counter (uint16_t sequence numbers, uint32_t timestamps) into a monotone-ish int64: each
// value is placed at the closest position to the previous one (so reordering moves backwards, a wrap moves
// forward). The first value unwraps to itself.
template <typename T>
class Unwrapper {
  static_assert(std::is_unsigned_v<T> && sizeof(T) < sizeof(int64_t));
  using Signed = std::make_signed_t<T>;

 public:
  int64_t unwrap(T value) {
    if (!started_) {
      started_ = true;
      last_ = value;
      last_unwrapped_ = value;
      return last_unwrapped_;
    }
    const auto diff = static_cast<T>(value - last_);
    int64_t delta = static_cast<Signed>(diff);
    // Exactly half the range apart is ambiguous: always take it as a step forward.
    if (diff == (T{1} << (sizeof(T) * 8 - 1))) delta = -delta;
    last_unwrapped_ += delta;
    last_ = value;
    return last_unwrapped_;
  }

  // What unwrap(value) would return, without updating the state.
  int64_t peek(T value) const {
    if (!started_) return value;
    const auto diff = static_cast<T>(value - last_);
    int64_t delta = static_cast<Signed>(diff);
    if (diff == (T{1} << (sizeof(T) * 8 - 1))) delta = -delta;
    return last_unwrapped_ + delta;
  }

  bool started() const { return started_; }
  void reset() { started_ = false; }

 private:
  bool started_ = false;
  T last_ = 0;
  int64_t last_unwrapped_ = 0;
};

using SeqUnwrapper = Unwrapper<uint16_t>;
using TimestampUnwrapper = Unwrapper<uint32_t>;

}  // namespace atrium::media
