// AacToOpus end to end with real encoders: a 1 kHz sine encoded to AAC (libavcodec), through the pipeline,
// back out of Opus (libopus). What a viewer would hear: the same tone, as loud, with RTP timestamps that
// advance 20 ms per packet.
#include "media/audio/aac_to_opus.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <numbers>
#include <vector>

#include "media/audio/audio_level.h"
#include "media/audio/audio_test_support.h"
#include "media/audio/opus_decoder.h"

namespace atrium::media::audio {
namespace {

using test::EncodedAac;

struct Output {
  std::vector<uint32_t> timestamps;
  std::vector<uint8_t> levels;  // each packet's level
  std::vector<float> pcm;       // decoded, interleaved
  int channels = 0;
};

// Pops everything queued, decoding it as a viewer would.
void drain(AacToOpus& p, OpusDecoder& dec, Output& out) {
  std::vector<float> buf(OpusDecoder::kMaxFrameSamples * 2);
  while (auto pkt = p.pop()) {
    out.timestamps.push_back(pkt->rtp_timestamp);
    out.levels.push_back(pkt->level);
    auto n = dec.decode(pkt->data, buf);
    ASSERT_TRUE(n) << n.error();
    ASSERT_EQ(*n, 960u);
    out.pcm.insert(out.pcm.end(), buf.begin(), buf.begin() + static_cast<long>(*n * out.channels));
  }
}

Output run(const EncodedAac& aac, AacToOpus& p) {
  Output out;
  out.channels = p.channels();
  OpusDecoder dec;
  EXPECT_TRUE(dec.configure(out.channels));
  for (size_t i = 0; i < aac.frames.size(); ++i) {
    auto s = p.push(aac.frames[i], aac.timestamps_ms[i]);
    EXPECT_TRUE(s) << s.error();
    drain(p, dec, out);
  }
  return out;
}

void expect_continuous(const std::vector<uint32_t>& ts) {
  for (size_t i = 1; i < ts.size(); ++i)
    ASSERT_EQ(static_cast<uint32_t>(ts[i] - ts[i - 1]), 960u) << "packet " << i;
}

// The tone after the codecs' start-up: 1 s from 200 ms in.
void expect_tone(const Output& out, double amplitude, const char* what) {
  const double in_rms = amplitude / std::sqrt(2.0);
  for (int c = 0; c < out.channels; ++c) {
    auto ch = test::channel(out.pcm, out.channels, c);
    ASSERT_GE(ch.size(), 48000u * 6 / 5);
    const std::span<const float> window(ch.data() + 9600, 48000);
    const double f = test::peak_frequency(window, 48000);
    const double r = test::rms(window);
    std::printf("[%s] channel %d: peak %.2f Hz, RMS %.4f (input %.4f, %.2f dB)\n", what, c, f, r, in_rms,
                20 * std::log10(r / in_rms));
    EXPECT_NEAR(f, 1000.0, 3.0);
    EXPECT_NEAR(r / in_rms, 1.0, 0.1);  // within about 1 dB
  }
}

TEST(AacToOpus, Stereo44100SineComesOutAs48kStereoOpus) {
  const double seconds = 2.0;
  const EncodedAac aac = test::encode_sine_aac(44100, 2, 1000, 0.5, seconds);
  AacToOpus p;
  ASSERT_TRUE(p.configure(aac.asc));
  EXPECT_EQ(p.config().sample_rate, 44100u);
  EXPECT_EQ(p.channels(), 2);
  const Output out = run(aac, p);

  expect_tone(out, 0.5, "44.1 kHz stereo");
  ASSERT_FALSE(out.timestamps.empty());
  EXPECT_EQ(out.timestamps.front(), static_cast<uint32_t>(aac.timestamps_ms.front() * 48));
  expect_continuous(out.timestamps);
  // All decoded audio (the encoder's frames, priming included) in 20 ms packets, less what waits in the FIFO.
  const double decoded_ms = aac.frames.size() * 1024 * 1000.0 / 44100;
  EXPECT_NEAR(static_cast<double>(out.timestamps.size()), decoded_ms / 20, 1.5);
  EXPECT_EQ(p.counters().packets_out, out.timestamps.size());
  EXPECT_EQ(p.counters().decode_errors, 0u);
  EXPECT_EQ(p.counters().timestamp_resyncs, 0u);
  EXPECT_EQ(p.counters().packets_dropped, 0u);
}

TEST(AacToOpus, Mono48000SineComesOutAsMonoOpus) {
  const EncodedAac aac = test::encode_sine_aac(48000, 1, 1000, 0.5, 2.0);
  // AAC-LC 48 kHz mono; libavcodec appends the backward-compatible "no SBR" sync extension (0x2B7).
  ASSERT_GE(aac.asc.size(), 2u);
  EXPECT_EQ(aac.asc[0], 0x11);
  EXPECT_EQ(aac.asc[1], 0x88);
  AacToOpus p;
  ASSERT_TRUE(p.configure(aac.asc));
  EXPECT_EQ(p.channels(), 1);
  const Output out = run(aac, p);

  expect_tone(out, 0.5, "48 kHz mono");
  expect_continuous(out.timestamps);
  // Each packet's RFC 6464 level, from the PCM it encodes: a 0.5 sine is -9 dBov (RMS 0.354).
  ASSERT_GT(out.levels.size(), 20u);
  for (size_t i = 10; i + 10 < out.levels.size(); ++i)
    EXPECT_NEAR(out.levels[i], 9, 1) << "packet " << i;
  EXPECT_NEAR(static_cast<double>(out.timestamps.size()), aac.frames.size() * 1024 / 960.0, 1.5);
  EXPECT_EQ(p.counters().timestamp_resyncs, 0u);
}

// Each packet carries its frame's level in RFC 6464 units, as a WebRTC publisher's extension would: a sine at
// amplitude 0.5 has an RMS of 0.354, -9 dBov; amplitude 0.05 is 20 dB quieter.
TEST(AacToOpus, PacketsCarryTheLevelOfTheirPcm) {
  for (const auto& [amplitude, expected] : {std::pair{0.5, 9}, std::pair{0.05, 29}}) {
    const EncodedAac aac = test::encode_sine_aac(48000, 1, 1000, amplitude, 1.0);
    AacToOpus p;
    ASSERT_TRUE(p.configure(aac.asc));
    std::vector<int> levels;
    for (size_t i = 0; i < aac.frames.size(); ++i) {
      ASSERT_TRUE(p.push(aac.frames[i], aac.timestamps_ms[i]));
      while (auto pkt = p.pop())
        levels.push_back(pkt->level);
    }
    ASSERT_GT(levels.size(), 20u);
    // After the codec's start-up the level is steady.
    for (size_t i = 10; i < levels.size() - 2; ++i)
      EXPECT_NEAR(levels[i], expected, 1) << "amplitude " << amplitude << ", packet " << i;
  }
  EXPECT_EQ(dbov_level(std::vector<float>(960, 0.0f)), kSilentLevel);
  EXPECT_EQ(dbov_level(std::vector<float>(960, 1.0f)), 0);
}

TEST(AudioLevel, Rfc6464LevelOfPcm) {
  EXPECT_EQ(dbov_level({}), 127);
  const std::vector<float> silence(960, 0.0f);
  EXPECT_EQ(dbov_level(silence), 127);
  std::vector<float> square(960);
  for (size_t i = 0; i < square.size(); ++i)
    square[i] = (i / 24) % 2 ? 1.0f : -1.0f;
  EXPECT_EQ(dbov_level(square), 0) << "full scale";
  std::vector<float> sine(960);
  for (size_t i = 0; i < sine.size(); ++i)
    sine[i] =
        0.5f * static_cast<float>(std::sin(2 * std::numbers::pi * 1000.0 * static_cast<double>(i) / 48000));
  EXPECT_EQ(dbov_level(sine), 9);  // -6 dBFS peak, RMS -9 dBov
  for (auto& x : sine)
    x *= 0.001f;  // -60 dB
  EXPECT_EQ(dbov_level(sine), 69);
}

TEST(AacToOpus, QueueIsBoundedAndDropsTheOldest) {
  const EncodedAac aac = test::encode_sine_aac(48000, 1, 1000, 0.5, 2.0);
  AacToOpus p;
  ASSERT_TRUE(p.configure(aac.asc));
  for (size_t i = 0; i < aac.frames.size(); ++i)
    ASSERT_TRUE(p.push(aac.frames[i], aac.timestamps_ms[i]));
  EXPECT_EQ(p.queued(), AacToOpus::kMaxQueuedPackets);
  EXPECT_EQ(p.counters().packets_dropped, p.counters().packets_out - AacToOpus::kMaxQueuedPackets);
  // What is left is the newest second, still continuous.
  std::vector<uint32_t> ts;
  while (auto pkt = p.pop())
    ts.push_back(pkt->rtp_timestamp);
  expect_continuous(ts);
  EXPECT_EQ(ts.back() - ts.front(), 960u * (AacToOpus::kMaxQueuedPackets - 1));
}

TEST(AacToOpus, GarbageFramesAreCountedAndTheStreamGoesOn) {
  const EncodedAac aac = test::encode_sine_aac(44100, 2, 1000, 0.5, 3.0);
  AacToOpus p;
  ASSERT_TRUE(p.configure(aac.asc));
  Output out;
  out.channels = 2;
  OpusDecoder dec;
  ASSERT_TRUE(dec.configure(2));

  std::vector<std::vector<uint8_t>> garbage;
  garbage.emplace_back();                                            // empty
  garbage.emplace_back(AacDecoder::kMaxFrameBytes + 1, uint8_t{7});  // too large
  garbage.emplace_back(300, uint8_t{0xFF});
  uint32_t x = 12345;
  for (int g = 0; g < 20; ++g) {
    std::vector<uint8_t> v(static_cast<size_t>(20 + g * 17));
    for (auto& b : v)
      b = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 24);
    garbage.push_back(v);
  }

  size_t errors = 0;
  for (size_t i = 0; i < aac.frames.size(); ++i) {
    if (i == 40) {
      for (const auto& g : garbage) {
        auto s = p.push(g, aac.timestamps_ms[i]);
        if (!s) {
          ++errors;
          EXPECT_EQ(s.error().rfind("AAC: ", 0), 0u) << s.error();
        }
      }
      ASSERT_EQ(p.counters().decode_errors, errors);
      ASSERT_GE(errors, 3u);
      std::printf("%zu of %zu garbage frames refused by the decoder\n", errors, garbage.size());
    }
    auto s = p.push(aac.frames[i], aac.timestamps_ms[i]);
    EXPECT_TRUE(s) << "good frame " << i << " after garbage: " << s.error();
    drain(p, dec, out);
  }
  EXPECT_EQ(p.counters().decode_errors, errors);
  // The last second is the tone again.
  auto left = test::channel(out.pcm, 2, 0);
  ASSERT_GT(left.size(), 48000u);
  const std::span<const float> tail(left.data() + left.size() - 48000, 48000);
  EXPECT_NEAR(test::peak_frequency(tail, 48000), 1000.0, 3.0);
  EXPECT_NEAR(test::rms(tail), 0.5 / std::sqrt(2.0), 0.05);
}

TEST(AacToOpus, FrameBeforeConfigureAndBadConfigAreErrors) {
  AacToOpus p;
  const std::vector<uint8_t> frame(100, 1);
  auto s = p.push(frame, 0);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), "AAC: a frame arrived before a valid sequence header (AudioSpecificConfig)");
  const std::vector<uint8_t> pce = {0x12, 0x00};
  auto c = p.configure(pce);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(),
            "AAC: unsupported AudioSpecificConfig: channel configuration 0 (program config element) is not "
            "supported");
  EXPECT_FALSE(p.configured());

  ASSERT_TRUE(p.configure(std::vector<uint8_t>{0x12, 0x10}));
  auto t = p.push(frame, AacToOpus::kMaxTimestampMs + 1);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), "AAC: frame timestamp 1099511627777 ms is out of range");
}

TEST(AacToOpus, TimestampJumpResyncsTheOutputTimeline) {
  const EncodedAac aac = test::encode_sine_aac(48000, 1, 1000, 0.5, 2.0);
  AacToOpus p;
  ASSERT_TRUE(p.configure(aac.asc));
  std::vector<uint32_t> ts;
  const size_t half = aac.frames.size() / 2;
  for (size_t i = 0; i < aac.frames.size(); ++i) {
    // A few ms of jitter everywhere (FLV rounds to ms), then the publisher skips 5 s ahead halfway.
    const int64_t jitter = static_cast<int64_t>(i % 3) - 1;
    const int64_t t = aac.timestamps_ms[i] + jitter + (i >= half ? 5000 : 0);
    ASSERT_TRUE(p.push(aac.frames[i], t));
    while (auto pkt = p.pop())
      ts.push_back(pkt->rtp_timestamp);
  }
  EXPECT_EQ(p.counters().timestamp_resyncs, 1u);
  size_t jumps = 0;
  for (size_t i = 1; i < ts.size(); ++i) {
    const uint32_t d = ts[i] - ts[i - 1];
    if (d == 960u) continue;
    ++jumps;
    EXPECT_NEAR(static_cast<double>(d), 5000.0 * 48 + 960, 48 * 25) << "packet " << i;
  }
  EXPECT_EQ(jumps, 1u);

  // And backwards (a restarted publisher's clock).
  AacToOpus q;
  ASSERT_TRUE(q.configure(aac.asc));
  for (size_t i = 0; i < aac.frames.size(); ++i)
    ASSERT_TRUE(q.push(aac.frames[i], aac.timestamps_ms[i] + (i >= half ? -900 : 0)));
  EXPECT_EQ(q.counters().timestamp_resyncs, 1u);
}

TEST(AacToOpus, BitrateIsSettable) {
  const EncodedAac aac = test::encode_sine_aac(48000, 2, 1000, 0.5, 2.0);
  auto bytes_at = [&](int bps) {
    AacToOpus p(AacToOpus::Options{bps});
    EXPECT_TRUE(p.configure(aac.asc));
    size_t bytes = 0;
    for (size_t i = 0; i < aac.frames.size(); ++i) {
      EXPECT_TRUE(p.push(aac.frames[i], aac.timestamps_ms[i]));
      while (auto pkt = p.pop())
        bytes += pkt->data.size();
    }
    return static_cast<double>(bytes) * 8 / (static_cast<double>(p.counters().packets_out) * 0.02);
  };
  const double low = bytes_at(24000);
  const double high = bytes_at(128000);
  std::printf("24 kbit/s asked: %.0f bit/s; 128 kbit/s asked: %.0f bit/s\n", low, high);
  EXPECT_LT(low, 32000);
  EXPECT_GT(high, 64000);
}

}  // namespace
}  // namespace atrium::media::audio
