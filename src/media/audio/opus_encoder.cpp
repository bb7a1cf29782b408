// libopus behind OpusEncoder.
#include "media/audio/opus_encoder.h"

#include <opus.h>

#include <algorithm>
#include <string>

namespace atrium::media::audio {

struct OpusEncoder::State {
  ::OpusEncoder* enc = nullptr;
};

void OpusEncoder::StateFree::operator()(State* s) const {
  if (s->enc) opus_encoder_destroy(s->enc);
  delete s;
}

OpusEncoder::OpusEncoder() = default;
OpusEncoder::~OpusEncoder() = default;

AudioStatus OpusEncoder::configure(int channels, int bitrate_bps, int input_rate) {
  state_.reset();
  if (channels != 1 && channels != 2) return AudioStatus::failure("Opus: only mono or stereo can be encoded");
  if (input_rate != 8000 && input_rate != 12000 && input_rate != 16000 && input_rate != 24000 &&
      input_rate != kSampleRate)
    return AudioStatus::failure("Opus: " + std::to_string(input_rate) + " Hz cannot be encoded");
  int err = OPUS_OK;
  ::OpusEncoder* enc = opus_encoder_create(input_rate, channels, OPUS_APPLICATION_AUDIO, &err);
  if (!enc || err != OPUS_OK)
    return AudioStatus::failure(std::string("Opus: the encoder could not be created: ") + opus_strerror(err));
  state_.reset(new State{enc});
  channels_ = channels;
  frame_samples_ = static_cast<size_t>(input_rate / 50);
  return set_bitrate(bitrate_bps);
}

AudioStatus OpusEncoder::set_bitrate(int bitrate_bps) {
  if (!state_) return AudioStatus::failure("Opus: the encoder is not configured");
  if (bitrate_bps == 0) bitrate_bps = channels_ == 2 ? kDefaultStereoBitrate : kDefaultMonoBitrate;
  if (bitrate_bps < kMinBitrate || bitrate_bps > kMaxBitrate)
    return AudioStatus::failure("Opus: bitrate " + std::to_string(bitrate_bps) + " bit/s is outside " +
                                std::to_string(kMinBitrate) + " to " + std::to_string(kMaxBitrate));
  const int rc = opus_encoder_ctl(state_->enc, OPUS_SET_BITRATE(bitrate_bps));
  if (rc != OPUS_OK) return AudioStatus::failure(std::string("Opus: bitrate refused: ") + opus_strerror(rc));
  bitrate_ = bitrate_bps;
  return AudioStatus::success();
}

AudioStatus OpusEncoder::set_complexity(int complexity) {
  if (!state_) return AudioStatus::failure("Opus: the encoder is not configured");
  if (complexity < 0 || complexity > 10)
    return AudioStatus::failure("Opus: complexity " + std::to_string(complexity) + " is outside 0 to 10");
  const int rc = opus_encoder_ctl(state_->enc, OPUS_SET_COMPLEXITY(complexity));
  if (rc != OPUS_OK)
    return AudioStatus::failure(std::string("Opus: complexity refused: ") + opus_strerror(rc));
  return AudioStatus::success();
}

AudioResult<size_t> OpusEncoder::encode(std::span<const float> pcm, std::span<uint8_t> out) {
  using R = AudioResult<size_t>;
  if (!state_) return R::failure("Opus: the encoder is not configured");
  if (pcm.size() != frame_samples_ * static_cast<size_t>(channels_))
    return R::failure("Opus: a frame must be 20 ms (" + std::to_string(frame_samples_) +
                      " samples per channel)");
  const auto cap = static_cast<opus_int32>(std::min(out.size(), size_t{kMaxPacketBytes}));
  const opus_int32 n =
      opus_encode_float(state_->enc, pcm.data(), static_cast<int>(frame_samples_), out.data(), cap);
  if (n < 0) return R::failure(std::string("Opus: encoding failed: ") + opus_strerror(n));
  return static_cast<size_t>(n);
}

}  // namespace atrium::media::audio
