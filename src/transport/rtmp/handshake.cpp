#include "transport/rtmp/handshake.h"

namespace atrium::rtmp {

uint64_t ServerHandshake::next_random() {
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

size_t ServerHandshake::receive(std::span<const uint8_t> in, std::vector<uint8_t>& out) {
  if (state_ == State::kWaitingC0C1) {
    if (in.empty()) return 0;
    // Reject a wrong version at once (an HTTP request, RTMPE's 6, ...) rather than waiting for 1537 bytes.
    if (in[0] != kRtmpVersion) {
      state_ = State::kFailed;
      error_ = in[0] == 6 || in[0] == 8 ? "RTMP handshake: encrypted RTMP (RTMPE) is not supported"
                                        : "RTMP handshake: not RTMP version 3 (is this an RTMP client?)";
      return 0;
    }
    if (in.size() < 1 + kHandshakeSize) return 0;
    const std::span<const uint8_t> c1 = in.subspan(1, kHandshakeSize);
    out.reserve(out.size() + 1 + 2 * kHandshakeSize);
    out.push_back(kRtmpVersion);  // S0
    // S1: time (4 bytes, 0), zero (4 bytes), random (1528 bytes).
    out.insert(out.end(), 8, uint8_t{0});
    for (size_t i = 8; i < kHandshakeSize; i += 8) {
      const uint64_t r = next_random();
      for (size_t b = 0; b < 8 && i + b < kHandshakeSize; ++b)
        out.push_back(static_cast<uint8_t>(r >> (8 * b)));
    }
    out.insert(out.end(), c1.begin(), c1.end());  // S2 echoes C1
    state_ = State::kWaitingC2;
    return 1 + kHandshakeSize;
  }
  if (state_ == State::kWaitingC2) {
    // C2 should echo S1; clients differ in how faithfully, and nothing rests on it, so it is not checked.
    if (in.size() < kHandshakeSize) return 0;
    state_ = State::kDone;
    return kHandshakeSize;
  }
  return 0;
}

}  // namespace atrium::rtmp
