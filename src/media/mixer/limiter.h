// A look-ahead peak limiter for the mixed sum, so that several loud inputs never clip: the output never
// exceeds the ceiling (default -1 dBFS), and is never cut flat either: the waveform is turned down smoothly.
//
// Per sample, the gain that would put it exactly at the ceiling is r = min(1, ceiling / |x|). The applied
// gain is the minimum of r over the last kLookahead samples (so it is already down when the peak comes),
// released exponentially towards 1 (time constant release_ms, default 80 ms), then averaged over kLookahead
// samples (so it moves in ramps, not steps). The signal is delayed by kLookahead - 1 samples (just under 1
// ms); the average of minimums that each include the delayed sample's own r is never above it, so |out| <=
// ceiling. (Signals under the ceiling pass untouched, only delayed.) No allocation: the state is fixed-size
// arrays.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace atrium::media::mixer {

class Limiter {
 public:
  static constexpr float kDefaultCeiling = 0.891251f;  // -1 dBFS
  static constexpr float kDefaultReleaseMs = 80.0f;
  static constexpr size_t kLookahead = 48;  // 1 ms at 48 kHz; the delay is one less
  static constexpr int kSampleRate = 48000;
  // A released gain this close to 1 is 1 (-0.001 dB), so the limiter gets back to its pass-through path.
  static constexpr float kUnityEpsilon = 1e-4f;

  explicit Limiter(float ceiling = kDefaultCeiling, float release_ms = kDefaultReleaseMs);

  // In place, one channel.
  void process(std::span<float> pcm);
  void reset();

  float ceiling() const { return ceiling_; }
  // The gain applied to the last sample (1 = untouched).
  float gain() const { return gain_; }

 private:
  float ceiling_;
  float release_;   // per-sample decay of (1 - gain)
  uint64_t n_ = 0;  // samples processed
  std::array<float, kLookahead> delay_{};
  std::array<float, kLookahead> box_{};
  double box_sum_ = kLookahead;
  // Running minimum of r over the window: a monotonic queue of (sample index, r).
  std::array<uint64_t, kLookahead> min_at_{};
  std::array<float, kLookahead> min_r_{};
  size_t min_head_ = 0;
  size_t min_size_ = 0;
  float reduction_ = 0;  // 1 - the released minimum
  float gain_ = 1.0f;
};

}  // namespace atrium::media::mixer
