// libopus behind OpusDecoder.
#include "media/audio/opus_decoder.h"

#include <opus.h>

#include <algorithm>
#include <string>

namespace atrium::media::audio {

struct OpusDecoder::State {
  ::OpusDecoder* dec = nullptr;
};

void OpusDecoder::StateFree::operator()(State* s) const {
  if (s->dec) opus_decoder_destroy(s->dec);
  delete s;
}

OpusDecoder::OpusDecoder() = default;
OpusDecoder::~OpusDecoder() = default;

AudioStatus OpusDecoder::configure(int channels) {
  state_.reset();
  if (channels != 1 && channels != 2) return AudioStatus::failure("Opus: only mono or stereo can be decoded");
  int err = OPUS_OK;
  ::OpusDecoder* dec = opus_decoder_create(kSampleRate, channels, &err);
  if (!dec || err != OPUS_OK)
    return AudioStatus::failure(std::string("Opus: the decoder could not be created: ") + opus_strerror(err));
  state_.reset(new State{dec});
  channels_ = channels;
  return AudioStatus::success();
}

AudioResult<size_t> OpusDecoder::decode(std::span<const uint8_t> packet, std::span<float> out) {
  using R = AudioResult<size_t>;
  if (packet.empty()) return conceal(out);
  if (!state_) return R::failure("Opus: the decoder is not configured");
  const size_t room = std::min(out.size() / static_cast<size_t>(channels_), kMaxFrameSamples);
  const int n = opus_decode_float(state_->dec, packet.data(), static_cast<opus_int32>(packet.size()),
                                  out.data(), static_cast<int>(room), 0);
  if (n < 0) return R::failure(std::string("Opus: a packet could not be decoded: ") + opus_strerror(n));
  return static_cast<size_t>(n);
}

AudioResult<size_t> OpusDecoder::conceal(std::span<float> out, size_t samples) {
  using R = AudioResult<size_t>;
  if (!state_) return R::failure("Opus: the decoder is not configured");
  if (samples == 0 || samples > kMaxFrameSamples || samples % 120 != 0)
    return R::failure("Opus: concealment must be 2.5 ms steps up to 120 ms");
  if (out.size() < samples * static_cast<size_t>(channels_))
    return R::failure("Opus: the output buffer is too small for the concealment");
  const int n = opus_decode_float(state_->dec, nullptr, 0, out.data(), static_cast<int>(samples), 0);
  if (n < 0) return R::failure(std::string("Opus: concealment failed: ") + opus_strerror(n));
  return static_cast<size_t>(n);
}

}  // namespace atrium::media::audio
