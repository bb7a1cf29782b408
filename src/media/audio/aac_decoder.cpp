// libavcodec's native AAC decoder ("aac", float output) behind AacDecoder.
#include "media/audio/aac_decoder.h"

#include <cstring>
#include <string>

#include "media/audio/audio_specific_config.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

namespace atrium::media::audio {

std::string av_error_text(int averror) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(averror, buf, sizeof buf);
  return buf;
}

void AacDecoder::ContextFree::operator()(AVCodecContext* c) const {
  avcodec_free_context(&c);
}
void AacDecoder::FrameFree::operator()(AVFrame* f) const {
  av_frame_free(&f);
}
void AacDecoder::PacketFree::operator()(AVPacket* p) const {
  av_packet_free(&p);
}

AacDecoder::AacDecoder() = default;
AacDecoder::~AacDecoder() = default;

AudioStatus AacDecoder::configure(std::span<const uint8_t> asc) {
  ctx_.reset();
  frames_ = 0;
  channels_ = 0;
  sample_rate_ = 0;
  auto config = parse_audio_specific_config(asc);
  if (!config) return AudioStatus::failure(config.error());

  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_AAC);
  if (!codec) return AudioStatus::failure("AAC: this build of libavcodec has no AAC decoder");
  std::unique_ptr<AVCodecContext, ContextFree> ctx(avcodec_alloc_context3(codec));
  if (!ctx) return AudioStatus::failure("AAC: out of memory creating the decoder");
  // libavcodec owns extradata (av_free) and reads up to AV_INPUT_BUFFER_PADDING_SIZE past its end.
  ctx->extradata = static_cast<uint8_t*>(av_mallocz(asc.size() + AV_INPUT_BUFFER_PADDING_SIZE));
  if (!ctx->extradata) return AudioStatus::failure("AAC: out of memory creating the decoder");
  std::memcpy(ctx->extradata, asc.data(), asc.size());
  ctx->extradata_size = static_cast<int>(asc.size());
  // No logging inside: libavcodec would print every broken frame to stderr. The offset moves this context's
  // messages (errors included) to debug level, which a runtime that wants them can still turn on.
  ctx->log_level_offset = AV_LOG_DEBUG;
  if (const int rc = avcodec_open2(ctx.get(), codec, nullptr); rc < 0)
    return AudioStatus::failure("AAC: the decoder refused the AudioSpecificConfig: " + av_error_text(rc));

  if (!frame_) frame_.reset(av_frame_alloc());
  if (!packet_) packet_.reset(av_packet_alloc());
  if (!frame_ || !packet_) return AudioStatus::failure("AAC: out of memory creating the decoder");
  pcm_.assign(kMaxFrameSamples * kMaxChannels, 0.0f);
  ctx_ = std::move(ctx);
  return AudioStatus::success();
}

AudioStatus AacDecoder::decode(std::span<const uint8_t> frame) {
  frames_ = 0;
  if (!ctx_) return AudioStatus::failure("AAC: a frame arrived before the AudioSpecificConfig");
  // An empty packet would mean "end of stream" to libavcodec and stop the decoder for good.
  if (frame.empty()) return AudioStatus::failure("AAC: empty frame");
  if (frame.size() > kMaxFrameBytes)
    return AudioStatus::failure("AAC: a frame of " + std::to_string(frame.size()) + " bytes is over the " +
                                std::to_string(kMaxFrameBytes) + "-byte limit");

  // Not reference counted: libavcodec copies it into its own padded buffer, so `frame` need not be padded.
  av_packet_unref(packet_.get());
  packet_->data = const_cast<uint8_t*>(frame.data());
  packet_->size = static_cast<int>(frame.size());
  const int sent = avcodec_send_packet(ctx_.get(), packet_.get());
  packet_->data = nullptr;
  packet_->size = 0;

  AudioStatus status = AudioStatus::success();
  // Whatever the packet produced must be drained, or the decoder refuses the next one (EAGAIN). An AAC
  // access unit gives one frame; the bound only guards against a decoder that keeps failing.
  for (int i = 0; i < 16; ++i) {
    const int rc = avcodec_receive_frame(ctx_.get(), frame_.get());
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
    if (rc < 0) {
      if (status) status = AudioStatus::failure("AAC: a frame could not be decoded: " + av_error_text(rc));
      continue;
    }
    if (status) status = take_frame();
    av_frame_unref(frame_.get());
  }
  if (sent < 0 && status) {
    if (sent == AVERROR_EOF) {  // cannot happen (no empty packet is ever sent), but never leave it stuck
      avcodec_flush_buffers(ctx_.get());
    }
    status = AudioStatus::failure("AAC: a frame could not be decoded: " + av_error_text(sent));
  }
  if (!status) frames_ = 0;
  return status;
}

AudioStatus AacDecoder::take_frame() {
  const AVFrame& f = *frame_;
  if (f.nb_samples <= 0) return AudioStatus::success();
  const int ch = f.ch_layout.nb_channels;
  if (ch < 1 || ch > kMaxChannels)
    return AudioStatus::failure("AAC: " + std::to_string(ch) +
                                " decoded channels are not supported (at most " +
                                std::to_string(kMaxChannels) + ")");
  if (f.sample_rate <= 0) return AudioStatus::failure("AAC: the decoder gave no sampling rate");
  const auto n = static_cast<size_t>(f.nb_samples);
  if (frames_ > 0 && (ch != channels_ || f.sample_rate != sample_rate_))
    return AudioStatus::failure("AAC: one frame decoded to two formats");
  if (frames_ + n > kMaxFrameSamples)
    return AudioStatus::failure("AAC: a frame decoded to more than " + std::to_string(kMaxFrameSamples) +
                                " samples");
  const auto channels = static_cast<size_t>(ch);
  float* out = pcm_.data() + frames_ * channels;
  if (f.format == AV_SAMPLE_FMT_FLTP) {
    for (size_t c = 0; c < channels; ++c) {
      const auto* plane = reinterpret_cast<const float*>(f.extended_data[c]);
      for (size_t i = 0; i < n; ++i)
        out[i * channels + c] = plane[i];
    }
  } else if (f.format == AV_SAMPLE_FMT_FLT) {
    std::memcpy(out, f.extended_data[0], n * channels * sizeof(float));
  } else {
    return AudioStatus::failure("AAC: the decoder gave an unexpected sample format");
  }
  channels_ = ch;
  sample_rate_ = f.sample_rate;
  frames_ += n;
  return AudioStatus::success();
}

}  // namespace atrium::media::audio
