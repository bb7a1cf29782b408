// Cuts a stream of interleaved PCM arriving in arbitrary sizes (an AAC frame resampled to 48 kHz is 1024 x
// 48000/44100 samples) into fixed frames for an encoder (Opus: 20 ms, 960 samples per channel at 48 kHz).
// Fixed capacity set by configure(); when a push does not fit, the oldest samples are dropped and counted,
// so memory stays bounded whatever the producer does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace atrium::media::audio {

class PcmFifo {
 public:
  static constexpr size_t kDefaultFrameSamples = 960;  // 20 ms at 48 kHz

  // Allocates the ring: capacity and frame size in samples per channel (capacity >= frame size).
  void configure(int channels, size_t capacity_samples, size_t frame_samples = kDefaultFrameSamples);

  // Appends whole frames of channels() samples; a trailing partial frame is ignored. When full, the oldest
  // samples go (dropped() counts them, per channel).
  void push(std::span<const float> interleaved);
  // Copies out the oldest frame_samples() x channels() samples, or returns false when fewer are buffered.
  bool pop_frame(std::span<float> out);
  void clear() { head_ = size_ = 0; }

  int channels() const { return static_cast<int>(channels_); }
  size_t frame_samples() const { return frame_samples_; }
  size_t capacity() const { return capacity_; }
  size_t buffered() const { return size_; }  // samples per channel
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<float> ring_;  // capacity_ * channels_
  size_t channels_ = 1;
  size_t capacity_ = 0;  // samples per channel
  size_t frame_samples_ = kDefaultFrameSamples;
  size_t head_ = 0;  // index (samples per channel) of the oldest
  size_t size_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace atrium::media::audio
