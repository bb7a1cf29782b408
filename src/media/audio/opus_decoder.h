// libopus decoding to interleaved float at 48 kHz, mono or stereo, with packet loss concealment: a lost
// packet is decoded from no data, so the listener hears the sound continue and fade instead of a click or a
// gap. Reused by the mixer and SIP; the state is created once by configure(), decode() writes into the
// caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "media/audio/audio_result.h"

namespace atrium::media::audio {

class OpusDecoder {
 public:
  static constexpr int kSampleRate = 48000;
  static constexpr size_t kFrameSamples = 960;      // 20 ms, what conceal() fills by default
  static constexpr size_t kMaxFrameSamples = 5760;  // 120 ms, the longest Opus packet, per channel

  OpusDecoder();
  ~OpusDecoder();
  OpusDecoder(const OpusDecoder&) = delete;
  OpusDecoder& operator=(const OpusDecoder&) = delete;

  // channels 1 or 2: what decode() puts out, whatever the packets carry (libopus mixes down or duplicates).
  AudioStatus configure(int channels);
  bool configured() const { return state_ != nullptr; }
  int channels() const { return channels_; }

  // Decodes one packet into `out` (interleaved; room for kMaxFrameSamples x channels() is always enough).
  // Returns the samples per channel written. An empty packet means "lost": same as conceal().
  AudioResult<size_t> decode(std::span<const uint8_t> packet, std::span<float> out);
  // Fills `samples` per channel (a multiple of 2.5 ms, 120 to 5760) with concealment for a lost packet.
  AudioResult<size_t> conceal(std::span<float> out, size_t samples = kFrameSamples);

 private:
  // libopus's state, kept out of this header: libopus names its type OpusDecoder too, in the global
  // namespace.
  struct State;
  struct StateFree {
    void operator()(State* s) const;
  };
  std::unique_ptr<State, StateFree> state_;
  int channels_ = 0;
};

}  // namespace atrium::media::audio
