// A peak limiter for the mixed sum, so that several loud inputs never clip: the output never exceeds the
// ceiling (default -1 dBFS), and it is not clipped either: the whole waveform is turned down, never cut.
//
// The gain follows a peak envelope: instant attack (a sample louder than the envelope raises it at once, so
// even the first sample of a loud onset stays under the ceiling: |out| = |x| * ceiling / envelope <=
// ceiling), a hold of kHoldMs (so the gain does not ripple between the peaks of a low tone), then an
// exponential release with time constant release_ms (default 80 ms). Gain = min(1, ceiling / envelope):
// signals under the ceiling pass untouched. No look-ahead, so no added delay; the price is that an onset is
// turned down abruptly, which is a short distortion rather than a click.
#pragma once

#include <cstddef>
#include <span>

namespace atrium::media::mixer {

class Limiter {
 public:
  static constexpr float kDefaultCeiling = 0.891251f;  // -1 dBFS
  static constexpr float kDefaultReleaseMs = 80.0f;
  static constexpr float kHoldMs = 5.0f;
  static constexpr int kSampleRate = 48000;

  explicit Limiter(float ceiling = kDefaultCeiling, float release_ms = kDefaultReleaseMs);

  // In place, one channel.
  void process(std::span<float> pcm);
  void reset();

  float ceiling() const { return ceiling_; }
  // The gain applied to the last sample (1 = untouched).
  float gain() const;

 private:
  float ceiling_;
  float release_;  // per-sample envelope decay factor
  size_t hold_samples_;
  float envelope_ = 0;
  size_t hold_left_ = 0;
};

}  // namespace atrium::media::mixer
