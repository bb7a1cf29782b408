// Test-only helpers for the audio tests: a real AAC encoder (libavcodec's native "aac") to make input the way
// an RTMP publisher would, a sine generator, and a little signal analysis (Goertzel, RMS) to check what a
// listener would hear rather than internals.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <stdexcept>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
}

namespace atrium::media::audio::test {

struct EncodedAac {
  std::vector<uint8_t> asc;  // the encoder's extradata: the AudioSpecificConfig
  std::vector<std::vector<uint8_t>> frames;
  std::vector<int64_t> timestamps_ms;  // each frame's pts in ms, plus the offset asked for
};

// A sine of `freq` Hz and `amplitude` on every channel, `seconds` long, encoded to raw AAC-LC frames.
inline EncodedAac encode_sine_aac(int rate, int channels, double freq, double amplitude, double seconds,
                                  int64_t offset_ms = 1000) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!codec) throw std::runtime_error("no AAC encoder");
  AVCodecContext* ctx = avcodec_alloc_context3(codec);
  ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
  ctx->sample_rate = rate;
  av_channel_layout_default(&ctx->ch_layout, channels);
  ctx->bit_rate = 64000 * channels;
  ctx->time_base = AVRational{1, rate};
  ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ctx->log_level_offset = AV_LOG_DEBUG;  // its statistics are not test output
  if (avcodec_open2(ctx, codec, nullptr) < 0) throw std::runtime_error("AAC encoder did not open");

  EncodedAac out;
  out.asc.assign(ctx->extradata, ctx->extradata + ctx->extradata_size);
  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(ctx, pkt) == 0) {
      out.frames.emplace_back(pkt->data, pkt->data + pkt->size);
      out.timestamps_ms.push_back(offset_ms + pkt->pts * 1000 / rate);
      av_packet_unref(pkt);
    }
  };
  const int total = static_cast<int>(seconds * rate);
  for (int start = 0; start < total; start += ctx->frame_size) {
    frame->nb_samples = ctx->frame_size;
    frame->format = AV_SAMPLE_FMT_FLTP;
    frame->sample_rate = rate;
    av_channel_layout_copy(&frame->ch_layout, &ctx->ch_layout);
    if (av_frame_get_buffer(frame, 0) < 0) throw std::runtime_error("no frame buffer");
    for (int c = 0; c < channels; ++c) {
      auto* plane = reinterpret_cast<float*>(frame->data[c]);
      for (int i = 0; i < frame->nb_samples; ++i)
        plane[i] = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * freq * (start + i) / rate));
    }
    frame->pts = start;
    if (avcodec_send_frame(ctx, frame) < 0) throw std::runtime_error("AAC encoding failed");
    av_frame_unref(frame);
    drain();
  }
  avcodec_send_frame(ctx, nullptr);
  drain();
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&ctx);
  return out;
}

// Interleaved sine, all channels equal.
inline std::vector<float> sine(int rate, int channels, double freq, double amplitude, size_t samples,
                               size_t start = 0) {
  std::vector<float> v(samples * static_cast<size_t>(channels));
  for (size_t i = 0; i < samples; ++i)
    for (int c = 0; c < channels; ++c)
      v[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] = static_cast<float>(
          amplitude * std::sin(2 * std::numbers::pi * freq * static_cast<double>(start + i) / rate));
  return v;
}

inline std::vector<float> channel(std::span<const float> interleaved, int channels, int c) {
  std::vector<float> v;
  for (size_t i = static_cast<size_t>(c); i < interleaved.size(); i += static_cast<size_t>(channels))
    v.push_back(interleaved[i]);
  return v;
}

// Power at `freq` over x with a Hann window (Goertzel).
inline double goertzel_power(std::span<const float> x, double rate, double freq) {
  const double w = 2 * std::numbers::pi * freq / rate;
  const double coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  const double n = static_cast<double>(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double hann = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(i) / (n - 1));
    const double s = x[i] * hann + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

// The strongest frequency between 50 Hz and 12 kHz: a coarse 25 Hz scan, then 0.25 Hz steps around it.
inline double peak_frequency(std::span<const float> x, double rate) {
  double best = 0, best_p = -1;
  for (double f = 50; f <= 12000; f += 25) {
    const double p = goertzel_power(x, rate, f);
    if (p > best_p) best_p = p, best = f;
  }
  const double coarse = best;
  for (double f = coarse - 25; f <= coarse + 25; f += 0.25) {
    const double p = goertzel_power(x, rate, f);
    if (p > best_p) best_p = p, best = f;
  }
  return best;
}

inline double rms(std::span<const float> x) {
  double sum = 0;
  for (float v : x)
    sum += double{v} * v;
  return x.empty() ? 0 : std::sqrt(sum / static_cast<double>(x.size()));
}

inline double max_step(std::span<const float> x) {
  double m = 0;
  for (size_t i = 1; i < x.size(); ++i)
    m = std::max(m, static_cast<double>(std::fabs(x[i] - x[i - 1])));
  return m;
}

}  // namespace atrium::media::audio::test
