// libopus encoding of 20 ms frames at 48 kHz, mono or stereo, for WebRTC (RFC 7587: the RTP clock is 48 kHz
// whatever the content). The encoder state is created once by configure(); encode() writes into the caller's
// buffer, so nothing is allocated per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "media/audio/audio_result.h"

namespace atrium::media::audio {

class OpusEncoder {
 public:
  static constexpr int kSampleRate = 48000;
  static constexpr size_t kFrameSamples = 960;  // 20 ms, per channel
  // Largest packet encode() writes (one 20 ms Opus frame is at most 1275 bytes + the TOC).
  static constexpr size_t kMaxPacketBytes = 1276;
  static constexpr int kDefaultStereoBitrate = 64000;
  static constexpr int kDefaultMonoBitrate = 32000;
  static constexpr int kMinBitrate = 6000;
  static constexpr int kMaxBitrate = 510000;

  OpusEncoder();
  ~OpusEncoder();
  OpusEncoder(const OpusEncoder&) = delete;
  OpusEncoder& operator=(const OpusEncoder&) = delete;

  // channels 1 or 2; bitrate_bps 0 = the default for the channel count. Application "audio" (music and
  // speech alike, as an RTMP source carries). input_rate: what encode() is given, 48000 or one of libopus's
  // other rates (8000, 12000, 16000, 24000); a telephone's 8 kHz is encoded as it is, without resampling
  // (the RTP clock stays 48 kHz, RFC 7587).
  AudioStatus configure(int channels, int bitrate_bps = 0, int input_rate = kSampleRate);
  AudioStatus set_bitrate(int bitrate_bps);
  // libopus's complexity, 0 (cheapest) to 10 (libopus's default, the best); the mixer uses less to encode
  // one stream per listener.
  AudioStatus set_complexity(int complexity);
  bool configured() const { return state_ != nullptr; }
  int channels() const { return channels_; }
  int bitrate() const { return bitrate_; }

  // Samples per channel in one 20 ms frame at the configured input rate (960 at 48 kHz, 160 at 8 kHz).
  size_t frame_samples() const { return frame_samples_; }
  // Encodes one frame: frame_samples() x channels() interleaved floats (nominally -1..1). Returns the
  // packet's size written at the start of `out` (which should hold kMaxPacketBytes).
  AudioResult<size_t> encode(std::span<const float> pcm, std::span<uint8_t> out);

 private:
  // libopus's state, kept out of this header: libopus names its type OpusEncoder too, in the global
  // namespace.
  struct State;
  struct StateFree {
    void operator()(State* s) const;
  };
  std::unique_ptr<State, StateFree> state_;
  int channels_ = 0;
  int bitrate_ = 0;
  size_t frame_samples_ = kFrameSamples;
};

}  // namespace atrium::media::audio
