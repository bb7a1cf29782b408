// Test-only helpers for the mixer tests: sine sources made into real Opus packets, and a harness that drives
// an AudioMixer with a fake clock (20 ms per step) and decodes what every listener receives, so the tests
// check what a listener would hear. Signal analysis (Goertzel, max sample step) comes from the audio tests.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <numbers>
#include <vector>

#include "media/audio/audio_test_support.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"
#include "media/mixer/audio_mixer.h"
#include "media/mixer/g711.h"

namespace atrium::media::mixer::test {

using audio::test::goertzel_power;
using audio::test::max_step;
using audio::test::rms;

inline double db(double power_ratio) {
  return 10 * std::log10(power_ratio);
}

// A sine of freq Hz and amplitude amp (phase in radians at sample 0), as consecutive 20 ms mono Opus packets.
class OpusSine {
 public:
  OpusSine(double freq, double amp, double phase = 0, int bitrate = 48000)
      : freq_(freq), amp_(amp), phase_(phase) {
    EXPECT_TRUE(enc_.configure(1, bitrate));
  }
  std::vector<uint8_t> next() {
    std::vector<float> pcm(960);
    for (size_t i = 0; i < 960; ++i)
      pcm[i] = static_cast<float>(
          amp_ * std::sin(2 * std::numbers::pi * freq_ * static_cast<double>(at_ + i) / 48000.0 + phase_));
    at_ += 960;
    std::vector<uint8_t> out(audio::OpusEncoder::kMaxPacketBytes);
    auto n = enc_.encode(pcm, out);
    EXPECT_TRUE(n) << n.error();
    out.resize(n ? *n : 0);
    return out;
  }

 private:
  audio::OpusEncoder enc_;
  double freq_, amp_, phase_;
  size_t at_ = 0;
};

struct Harness {
  struct Source {
    Source(MixInputId i, double freq, double amp, double phase) : id(i), sine(freq, amp, phase) {}
    MixInputId id = 0;
    OpusSine sine;
    uint16_t seq = 1000;
    uint32_t ts = 5000;
    bool sending = true;
  };
  struct Output {
    MixCodec codec = MixCodec::kOpus;
    audio::OpusDecoder opus;
    std::vector<float> pcm;  // 48 kHz (Opus) or 8 kHz (G.711)
    std::vector<uint32_t> ts;
    std::vector<uint16_t> seq;
    std::vector<size_t> sizes;
  };
  // What a step does with a source's packet: by default, push it.
  using Deliver = std::function<void(Source&, std::vector<uint8_t>)>;

  explicit Harness(MixerConfig config = {}) : mixer(config) {}

  Source& add_source(MixInputId id, double freq, double amp, double phase = 0, bool add_input = true) {
    if (add_input) {
      EXPECT_TRUE(mixer.add_input(id));
    }
    sources.push_back(std::make_unique<Source>(id, freq, amp, phase));
    return *sources.back();
  }
  Output& add_listener(MixListenerId id, MixCodec codec, std::optional<MixInputId> own = std::nullopt) {
    auto st = mixer.add_listener(id, codec, own);
    EXPECT_TRUE(st) << st.error();
    Output& o = outputs[id];
    o.codec = codec;
    if (codec == MixCodec::kOpus) {
      EXPECT_TRUE(o.opus.configure(1));
    }
    return o;
  }
  void push(Source& s, const std::vector<uint8_t>& packet, uint16_t seq, uint32_t ts) {
    mixer.push(s.id, seq, ts, packet, now);
  }
  // 20 ms: every sending source makes its packet (deliver decides what reaches the mixer), then a tick.
  void step(const Deliver& deliver = nullptr) {
    for (auto& s : sources) {
      if (!s->sending) continue;
      auto packet = s->sine.next();
      if (deliver) {
        deliver(*s, std::move(packet));
      } else {
        push(*s, packet, s->seq, s->ts);
      }
      ++s->seq;
      s->ts += 960;
    }
    mixer.tick(now);
    drain();
    now += AudioMixer::kFrameDuration;
  }
  void drain() {
    while (auto f = mixer.poll()) {
      auto it = outputs.find(f->listener);
      ASSERT_NE(it, outputs.end());
      Output& o = it->second;
      EXPECT_EQ(f->codec, o.codec);
      o.ts.push_back(f->rtp_ts);
      o.seq.push_back(f->seq);
      o.sizes.push_back(f->payload.size());
      if (o.codec == MixCodec::kOpus) {
        std::vector<float> buf(audio::OpusDecoder::kMaxFrameSamples);
        auto n = o.opus.decode(f->payload, buf);
        ASSERT_TRUE(n) << n.error();
        o.pcm.insert(o.pcm.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
      } else {
        std::vector<float> buf(f->payload.size());
        if (o.codec == MixCodec::kPcmu) {
          decode_ulaw(f->payload, buf);
        } else {
          decode_alaw(f->payload, buf);
        }
        o.pcm.insert(o.pcm.end(), buf.begin(), buf.end());
      }
    }
  }
  void run(size_t steps, const Deliver& deliver = nullptr) {
    for (size_t i = 0; i < steps; ++i)
      step(deliver);
  }
  // The last `seconds` of a listener's audio.
  std::span<const float> tail(MixListenerId id, double seconds) {
    const auto& o = outputs.at(id);
    const double rate = o.codec == MixCodec::kOpus ? 48000 : 8000;
    const size_t n = std::min(o.pcm.size(), static_cast<size_t>(seconds * rate));
    return std::span<const float>(o.pcm).last(n);
  }

  AudioMixer mixer;
  media::Micros now = 1'000'000;
  std::vector<std::unique_ptr<Source>> sources;
  std::map<MixListenerId, Output> outputs;
};

// Power at freq relative to the total power of x, in dB (0 = all of it; a pure tone reads about -6 with the
// Hann window's coherent gain, whatever its amplitude).
inline double tone_db(std::span<const float> x, double rate, double freq) {
  double total = 0;
  for (float v : x)
    total += double{v} * v;
  const double n = static_cast<double>(x.size());
  return db(goertzel_power(x, rate, freq) / (total * n / 4 + 1e-30));
}

}  // namespace atrium::media::mixer::test
