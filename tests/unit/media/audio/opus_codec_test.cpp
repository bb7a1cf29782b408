// OpusEncoder and OpusDecoder on their own: a tone survives the round trip, and a lost packet is concealed
// without a click.
#include <gtest/gtest.h>

#include <cstdio>
#include <vector>

#include "media/audio/audio_test_support.h"
#include "media/audio/opus_decoder.h"
#include "media/audio/opus_encoder.h"

namespace atrium::media::audio {
namespace {

std::vector<std::vector<uint8_t>> encode(int channels, const std::vector<float>& pcm) {
  OpusEncoder enc;
  EXPECT_TRUE(enc.configure(channels));
  std::vector<std::vector<uint8_t>> packets;
  const size_t frame = OpusEncoder::kFrameSamples * static_cast<size_t>(channels);
  std::vector<uint8_t> buf(OpusEncoder::kMaxPacketBytes);
  for (size_t at = 0; at + frame <= pcm.size(); at += frame) {
    auto n = enc.encode(std::span<const float>(pcm).subspan(at, frame), buf);
    EXPECT_TRUE(n) << n.error();
    packets.emplace_back(buf.begin(), buf.begin() + static_cast<long>(*n));
  }
  return packets;
}

TEST(OpusCodec, DefaultsAndLimits) {
  OpusEncoder enc;
  ASSERT_TRUE(enc.configure(2));
  EXPECT_EQ(enc.bitrate(), 64000);
  ASSERT_TRUE(enc.configure(1));
  EXPECT_EQ(enc.bitrate(), 32000);
  EXPECT_TRUE(enc.set_bitrate(48000));
  EXPECT_EQ(enc.bitrate(), 48000);
  auto bad = enc.set_bitrate(1000);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "Opus: bitrate 1000 bit/s is outside 6000 to 510000");
  EXPECT_TRUE(enc.set_complexity(5));
  auto bad_complexity = enc.set_complexity(11);
  ASSERT_FALSE(bad_complexity);
  EXPECT_EQ(bad_complexity.error(), "Opus: complexity 11 is outside 0 to 10");
  EXPECT_FALSE(enc.configure(3));
  OpusDecoder dec;
  EXPECT_FALSE(dec.configure(0));

  ASSERT_TRUE(enc.configure(1));
  std::vector<float> short_frame(480);
  std::vector<uint8_t> out(OpusEncoder::kMaxPacketBytes);
  EXPECT_FALSE(enc.encode(short_frame, out));
}

TEST(OpusCodec, StereoToneRoundTrip) {
  const auto pcm = test::sine(48000, 2, 1000, 0.5, 48000);
  const auto packets = encode(2, pcm);
  ASSERT_EQ(packets.size(), 50u);
  OpusDecoder dec;
  ASSERT_TRUE(dec.configure(2));
  std::vector<float> out, buf(OpusDecoder::kMaxFrameSamples * 2);
  for (const auto& p : packets) {
    auto n = dec.decode(p, buf);
    ASSERT_TRUE(n) << n.error();
    ASSERT_EQ(*n, 960u);
    out.insert(out.end(), buf.begin(), buf.begin() + 1920);
  }
  auto right = test::channel(out, 2, 1);
  const std::span<const float> w(right.data() + 9600, 38400);
  EXPECT_NEAR(test::peak_frequency(w, 48000), 1000.0, 3.0);
  EXPECT_NEAR(test::rms(w), 0.5 / std::sqrt(2.0), 0.035);
}

TEST(OpusCodec, LostPacketIsConcealedWithoutAClick) {
  const auto pcm = test::sine(48000, 1, 1000, 0.5, 48000);
  const auto packets = encode(1, pcm);
  OpusDecoder dec;
  ASSERT_TRUE(dec.configure(1));
  std::vector<float> out, buf(OpusDecoder::kMaxFrameSamples);
  const size_t lost = 25;
  for (size_t i = 0; i < packets.size(); ++i) {
    auto n = i == lost ? dec.conceal(buf) : dec.decode(packets[i], buf);
    ASSERT_TRUE(n) << n.error();
    ASSERT_EQ(*n, 960u) << "packet " << i;
    out.insert(out.end(), buf.begin(), buf.begin() + 960);
  }
  ASSERT_EQ(out.size(), 48000u);
  // A clean 1 kHz sine of 0.5 at 48 kHz moves at most 0.065 per sample; a click would jump far more.
  const double clean = test::max_step(std::span<const float>(out).subspan(10 * 960, 10 * 960));
  const std::span<const float> around(out.data() + (lost - 1) * 960, 3 * 960);
  const double concealed = test::max_step(around);
  const double concealed_rms = test::rms(std::span<const float>(out).subspan(lost * 960, 960));
  std::printf("max step: clean %.4f, around the lost packet %.4f; concealed RMS %.4f\n", clean, concealed,
              concealed_rms);
  EXPECT_LT(concealed, 2 * clean + 0.02);
  EXPECT_GT(concealed_rms, 0.05);  // the sound goes on (fading), not a gap

  // An empty packet is a loss too.
  auto n = dec.decode({}, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 960u);
}

TEST(OpusCodec, GarbagePacketIsAnError) {
  OpusDecoder dec;
  ASSERT_TRUE(dec.configure(2));
  std::vector<float> buf(OpusDecoder::kMaxFrameSamples * 2);
  const std::vector<uint8_t> bad = {0xFF, 0xFF, 0xFF};  // code 3, 63 frames: too long
  auto n = dec.decode(bad, buf);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().rfind("Opus: a packet could not be decoded: ", 0), 0u) << n.error();
}

}  // namespace
}  // namespace atrium::media::audio
