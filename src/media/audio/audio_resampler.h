// Interleaved float PCM at any rate and channel count to interleaved float at 48 kHz (Opus's rate), mono or
// stereo: mono stays mono, stereo stays stereo, more channels are downmixed to stereo (libswresample's
// matrix: centre and surrounds at -3 dB, normalised so it does not clip). Reused by whatever feeds Opus from
// PCM. The output buffer grows to the largest input seen and is then reused: no allocation per call once
// warm.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "media/audio/audio_result.h"

struct SwrContext;

namespace atrium::media::audio {

class AudioResampler {
 public:
  static constexpr int kOutputRate = 48000;
  static constexpr int kMaxInputChannels = 8;

  AudioResampler();
  ~AudioResampler();
  AudioResampler(const AudioResampler&) = delete;
  AudioResampler& operator=(const AudioResampler&) = delete;

  // Input format; out_channels 0 = the rule above (min(in, 2)), else 1 or 2 (up- or downmix to it). Input
  // channels are in libav's default order for their count (FL FR FC LFE BL BR ... as the AAC decoder gives).
  AudioStatus configure(int in_rate, int in_channels, int out_channels = 0);
  bool configured() const { return swr_ != nullptr; }
  void reset() { swr_.reset(); }
  int in_rate() const { return in_rate_; }
  int in_channels() const { return in_channels_; }
  int out_channels() const { return out_channels_; }

  // Converts `in` (whole frames of in_channels() samples). The result is valid until the next call; it may be
  // a little shorter than the ideal ratio at first (the filter's delay), never longer over time.
  AudioResult<std::span<const float>> convert(std::span<const float> in);

 private:
  struct SwrFree {
    void operator()(SwrContext* s) const;
  };
  std::unique_ptr<SwrContext, SwrFree> swr_;
  std::vector<float> out_;
  int in_rate_ = 0;
  int in_channels_ = 0;
  int out_channels_ = 0;
};

}  // namespace atrium::media::audio
