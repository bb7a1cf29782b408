// Raw AAC access units (no ADTS header, as FLV and RTP carry them) to interleaved float PCM, with
// libavcodec's AAC decoder configured from the AudioSpecificConfig as extradata. The codec context, frame and
// packet are allocated once by configure() and reused for every frame; the PCM buffer is sized for the
// largest frame up front, so decoding allocates nothing of ours once configured. libavcodec's messages about
// broken frames are moved to its debug level (the error comes back as a sentence instead).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "media/audio/audio_result.h"

struct AVCodecContext;
struct AVFrame;
struct AVPacket;

namespace atrium::media::audio {

class AacDecoder {
 public:
  // Larger input is refused: an AAC frame is at most 6144 bits per channel (768 bytes), 8 channels here.
  static constexpr size_t kMaxFrameBytes = 8192;
  // More decoded channels than this are refused.
  static constexpr int kMaxChannels = 8;
  // Samples per channel one access unit may decode to (2048 with SBR); more is refused.
  static constexpr size_t kMaxFrameSamples = 4096;

  AacDecoder();
  ~AacDecoder();
  AacDecoder(const AacDecoder&) = delete;
  AacDecoder& operator=(const AacDecoder&) = delete;

  // (Re)opens the decoder with this AudioSpecificConfig (checked with parse_audio_specific_config first).
  AudioStatus configure(std::span<const uint8_t> asc);
  bool configured() const { return ctx_ != nullptr; }

  // Decodes one access unit. On success pcm() holds what it produced (possibly nothing) until the next call.
  AudioStatus decode(std::span<const uint8_t> frame);

  // Interleaved float samples, frames() * channels() of them.
  std::span<const float> pcm() const { return std::span<const float>(pcm_).first(frames_ * channels_); }
  size_t frames() const { return frames_; }
  int channels() const { return channels_; }
  int sample_rate() const { return sample_rate_; }

 private:
  struct ContextFree {
    void operator()(AVCodecContext* c) const;
  };
  struct FrameFree {
    void operator()(AVFrame* f) const;
  };
  struct PacketFree {
    void operator()(AVPacket* p) const;
  };

  // Appends the decoded frame to pcm_; false when it cannot be taken (format, channels, size).
  AudioStatus take_frame();

  std::unique_ptr<AVCodecContext, ContextFree> ctx_;
  std::unique_ptr<AVFrame, FrameFree> frame_;
  std::unique_ptr<AVPacket, PacketFree> packet_;
  std::vector<float> pcm_;
  size_t frames_ = 0;
  int channels_ = 0;
  int sample_rate_ = 0;
};

// libav's description of an AVERROR code ("Invalid data found when processing input").
std::string av_error_text(int averror);

}  // namespace atrium::media::audio
