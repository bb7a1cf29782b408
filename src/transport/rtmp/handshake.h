// The server side of the RTMP simple handshake (RTMP spec 1.0, section 5.2): C0+C1 in -> S0+S1+S2 out, then
// C2 in. Version 3 only. S1 is time 0, zero, then 1528 bytes drawn from a caller-seeded generator, so a
// session is deterministic for a given seed; S2 echoes C1. ffmpeg and OBS accept this form (they check the
// digest of the complex handshake only when playing, and only when S1's version field is non-zero; ours is
// 0).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace atrium::rtmp {

inline constexpr uint8_t kRtmpVersion = 3;
inline constexpr size_t kHandshakeSize = 1536;  // C1, C2, S1, S2

class ServerHandshake {
 public:
  enum class State : uint8_t { kWaitingC0C1, kWaitingC2, kDone, kFailed };

  explicit ServerHandshake(uint64_t seed) : rng_(seed) {}

  // Takes what it needs from the front of `in` once a whole piece is there (C0+C1 = 1537 bytes, then C2 =
  // 1536 bytes), appending S0+S1+S2 to `out` after C0+C1. Returns the bytes consumed (0: wait for more).
  // Nothing is taken once done or failed; what follows C2 is the chunk stream.
  size_t receive(std::span<const uint8_t> in, std::vector<uint8_t>& out);

  State state() const { return state_; }
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }
  std::string_view error() const { return error_; }

 private:
  uint64_t next_random();  // splitmix64

  uint64_t rng_;
  State state_ = State::kWaitingC0C1;
  std::string_view error_;
};

}  // namespace atrium::rtmp
