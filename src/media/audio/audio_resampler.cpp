// libswresample behind AudioResampler.
#include "media/audio/audio_resampler.h"

#include <string>

#include "media/audio/aac_decoder.h"

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
}

namespace atrium::media::audio {

void AudioResampler::SwrFree::operator()(SwrContext* s) const {
  swr_free(&s);
}

AudioResampler::AudioResampler() = default;
AudioResampler::~AudioResampler() = default;

AudioStatus AudioResampler::configure(int in_rate, int in_channels, int out_channels) {
  swr_.reset();
  if (in_rate < 1000 || in_rate > 384000)
    return AudioStatus::failure("audio: cannot resample from " + std::to_string(in_rate) + " Hz");
  if (in_channels < 1 || in_channels > kMaxInputChannels)
    return AudioStatus::failure("audio: cannot resample " + std::to_string(in_channels) + " channels (1 to " +
                                std::to_string(kMaxInputChannels) + ")");
  if (out_channels == 0) out_channels = in_channels >= 2 ? 2 : 1;
  if (out_channels != 1 && out_channels != 2)
    return AudioStatus::failure("audio: resampler output must be mono or stereo");

  AVChannelLayout in_layout;
  AVChannelLayout out_layout;
  av_channel_layout_default(&in_layout, in_channels);
  av_channel_layout_default(&out_layout, out_channels);
  SwrContext* raw = nullptr;
  int rc = swr_alloc_set_opts2(&raw, &out_layout, AV_SAMPLE_FMT_FLT, kOutputRate, &in_layout,
                               AV_SAMPLE_FMT_FLT, in_rate, 0, nullptr);
  std::unique_ptr<SwrContext, SwrFree> swr(raw);
  av_channel_layout_uninit(&in_layout);
  av_channel_layout_uninit(&out_layout);
  if (rc >= 0) rc = swr_init(swr.get());
  if (rc < 0) return AudioStatus::failure("audio: the resampler could not be set up: " + av_error_text(rc));
  swr_ = std::move(swr);
  in_rate_ = in_rate;
  in_channels_ = in_channels;
  out_channels_ = out_channels;
  return AudioStatus::success();
}

AudioResult<std::span<const float>> AudioResampler::convert(std::span<const float> in) {
  using R = AudioResult<std::span<const float>>;
  if (!swr_) return R::failure("audio: the resampler is not configured");
  const auto in_ch = static_cast<size_t>(in_channels_);
  if (in.size() % in_ch != 0) return R::failure("audio: resampler input is not whole frames");
  const int in_frames = static_cast<int>(in.size() / in_ch);
  if (in_frames == 0) return std::span<const float>();  // no input to swr_convert would mean "flush"
  const int bound = swr_get_out_samples(swr_.get(), in_frames);
  if (bound < 0) return R::failure("audio: resampling failed: " + av_error_text(bound));
  const size_t need = static_cast<size_t>(bound) * static_cast<size_t>(out_channels_);
  if (out_.size() < need) out_.resize(need);  // grows to the largest input, then reused

  const uint8_t* src[1] = {reinterpret_cast<const uint8_t*>(in.data())};
  uint8_t* dst[1] = {reinterpret_cast<uint8_t*>(out_.data())};
  const int got = swr_convert(swr_.get(), dst, bound, src, in_frames);
  if (got < 0) return R::failure("audio: resampling failed: " + av_error_text(got));
  return std::span<const float>(out_).first(static_cast<size_t>(got) * static_cast<size_t>(out_channels_));
}

}  // namespace atrium::media::audio
